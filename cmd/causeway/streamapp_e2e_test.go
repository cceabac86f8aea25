package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
)

// sinkEnd is a stream's end offset through the HTTP API (0: none yet).
func sinkEnd(t *testing.T, addr, stream string) uint64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/_fabric/_system/_api/streams/" + stream)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0
	}
	var v struct {
		Result struct {
			EndOffset uint64 `json:"endOffset"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Result.EndOffset
}

// readPayloads reads a whole stream through a WebSocket reader.
func readPayloads(t *testing.T, addr, stream string) []string {
	t.Helper()
	end := sinkEnd(t, addr, stream)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/reader/persistent/_mm/_system/"+stream+"?messageId=earliest&receiverQueueSize=5000", nil)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer c.Close()
	var out []string
	for read := uint64(0); read < end; read++ {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		var m wsproto.ConsumerMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("reader stopped after %d of %d messages: %v", read, end, err)
		}
		_ = c.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID})
		p, _ := base64.StdEncoding.DecodeString(m.Payload)
		out = append(out, string(p))
	}
	return out
}

// streamApp runs `causeway streamapp ARGS --url` in process.
func streamApp(t *testing.T, addr string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append(append([]string{"streamapp"}, args...), "--url", "http://"+addr), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// A stream worker created with the CLI on a `causeway serve` process that
// is killed with SIGKILL while it works, three times, and restarted on its
// disk each time, has written every row of its input to its output stream
// exactly once, in input order.
func TestStreamWorkerSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	began := time.Now()
	dir := t.TempDir()
	n := startServe(t, bin, dir)
	defer func() { n.kill() }()
	const total = 40000
	var lines strings.Builder
	for id := 0; id < total; id++ {
		fmt.Fprintf(&lines, `{"id":%d,"v":%d}`+"\n", id, id%20)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"produce", "--url", "http://" + n.addr, "--stream", "orders"}, strings.NewReader(lines.String()), &stdout, &stderr); code != 0 {
		t.Fatalf("produce: %d %s", code, stderr.String())
	}
	t.Logf("%d messages produced %v after the start", total, time.Since(began))
	// Bad input is refused with the engine's message and creates nothing.
	if code, _, errOut := streamApp(t, n.addr, "create", "--name", "fp", "--query", "INSERT INTO sink SELECT id FROM nosuch"); code != 1 || !strings.Contains(errOut, "nosuch") {
		t.Fatalf("create with an unknown stream: %d %s", code, errOut)
	}
	code, out, errOut := streamApp(t, n.addr, "create", "--name", "fp", "--active",
		"--query", "INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10")
	if code != 0 || !strings.Contains(out, `"name": "fp"`) {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	var want []int
	for id := 0; id < total; id++ {
		if id%20 > 10 {
			want = append(want, id)
		}
	}
	midRun := 0
	for kill := 0; kill < 3; kill++ {
		before := sinkEnd(t, n.addr, "sink")
		deadline := time.Now().Add(30 * time.Second)
		for sinkEnd(t, n.addr, "sink") <= before && before < uint64(len(want)) {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the worker wrote nothing in 30 s", kill)
			}
			time.Sleep(2 * time.Millisecond)
		}
		at := sinkEnd(t, n.addr, "sink")
		n.kill()
		if at < uint64(len(want)) {
			midRun++
		}
		t.Logf("kill -9 #%d with %d of %d rows written", kill+1, at, len(want))
		n = startServe(t, bin, dir)
	}
	t.Logf("restarted %v after the start", time.Since(began))
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, _ := streamApp(t, n.addr, "get", "--name", "fp")
		var ans struct {
			Apps []struct {
				Stats *struct {
					EventsIn uint64 `json:"eventsIn"`
					Lag      uint64 `json:"lag"`
					Pending  int64  `json:"pendingRows"`
				} `json:"stats"`
			} `json:"streamApps"`
		}
		_ = json.Unmarshal([]byte(out), &ans)
		if code == 0 && len(ans.Apps) == 1 && ans.Apps[0].Stats != nil && ans.Apps[0].Stats.EventsIn == total &&
			ans.Apps[0].Stats.Lag == 0 && ans.Apps[0].Stats.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not finish: %d %s", code, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the worker finished %v after the start", time.Since(began))
	var got []int
	for _, p := range readPayloads(t, n.addr, "sink") {
		var row struct {
			ID int `json:"id"`
			D  int `json:"d"`
		}
		if err := json.Unmarshal([]byte(p), &row); err != nil || row.D != 2*(row.ID%20) {
			t.Fatalf("row %q: %v", p, err)
		}
		got = append(got, row.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%d rows after 3 kills (%d mid-run), want %d exactly once in order", len(got), midRun, len(want))
	}
	t.Logf("%d rows exactly once after 3 kill -9 (%d while the worker was writing)", len(got), midRun)
	if code, out, errOut := streamApp(t, n.addr, "delete", "--name", "fp"); code != 0 {
		t.Fatalf("delete: %d %s %s", code, out, errOut)
	}
	if code, out, _ := streamApp(t, n.addr, "list"); code != 0 || strings.Contains(out, `"fp"`) {
		t.Fatalf("list after delete: %d %s", code, out)
	}
	n.terminate(t) // the deferred kill then finds it gone
}
