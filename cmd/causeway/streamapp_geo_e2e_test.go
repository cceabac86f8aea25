package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
)

// getJSON fetches a path of a node and decodes its JSON answer.
func getJSON(addr, path string) (int, map[string]any) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestStreamWorkerGeoSurvivesKill9: two regions, each a `causeway serve`
// process. A worker defined once with the CLI in east aggregates a global
// stream published to in both regions into a collection; east is killed
// with SIGKILL while its worker works, west goes on, east restarts on its
// disk: both regions reach the same exact totals (a message counted twice
// or lost would show).
func TestStreamWorkerGeoSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	began := time.Now()
	addrs := testnet.FreeAddrs(t, 2)
	east := &geoNode{region: "east", data: t.TempDir(), repl: addrs[0], peers: map[string]string{"west": addrs[1]}}
	west := &geoNode{region: "west", data: t.TempDir(), repl: addrs[1], peers: map[string]string{"east": addrs[0]}}
	east.start(t, bin)
	west.start(t, bin)
	defer func() {
		east.terminate(t)
		west.terminate(t)
	}()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(geoTimeout)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	resp, err := http.Post("http://"+east.addr+"/_fabric/_system/_api/collection", "application/json", strings.NewReader(`{"name":"totals"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create totals: %v %v", err, resp)
	}
	resp.Body.Close()
	wait("totals in west", func() bool {
		code, _ := getJSON(west.addr, "/_fabric/_system/_api/collection/totals")
		return code == 200
	})

	want := map[string][2]int{}
	produce := func(n *geoNode, from, count int) {
		t.Helper()
		var lines strings.Builder
		for id := from; id < from+count; id++ {
			u := fmt.Sprintf("u%d", id%9)
			w := want[u]
			want[u] = [2]int{w[0] + 1, w[1] + id%4 + 1}
			fmt.Fprintf(&lines, `{"id":%d,"user":"%s","amount":%d}`+"\n", id, u, id%4+1)
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{"produce", "--url", "http://" + n.addr, "--stream", "orders"}, strings.NewReader(lines.String()), &stdout, &stderr); code != 0 {
			t.Fatalf("produce in %s: %d %s", n.region, code, stderr.String())
		}
	}
	produce(east, 0, 60000)
	wait("orders in west", func() bool { return sinkEnd(t, west.addr, "orders") > 0 })
	code, out, errOut := streamApp(t, east.addr, "create", "--name", "totals", "--active",
		"--query", "REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY user")
	if code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	t.Logf("worker created %v after the start", time.Since(began))
	stats := func(n *geoNode) map[string]any {
		_, m := getJSON(n.addr, "/_fabric/_system/_api/streamapps/totals")
		apps, _ := m["streamApps"].([]any)
		if len(apps) != 1 {
			return nil
		}
		s, _ := apps[0].(map[string]any)["stats"].(map[string]any)
		return s
	}
	var at float64
	wait("east's worker at work", func() bool {
		s := stats(east)
		if s == nil {
			return false
		}
		at, _ = s["eventsIn"].(float64)
		return at > 0
	})
	east.kill()
	t.Logf("east killed -9 with %v of 60000 messages consumed", at)
	produce(west, 60000, 10000)
	east.start(t, bin)
	start := time.Now()
	for _, n := range []*geoNode{east, west} {
		wait(n.region+"'s worker over every message", func() bool {
			s := stats(n)
			return s != nil && s["eventsIn"] == float64(70000) && s["pendingRows"] == float64(0) && s["region"] == n.region
		})
	}
	for _, n := range []*geoNode{east, west} {
		wait("exact totals in "+n.region, func() bool {
			for u, w := range want {
				code, d := getJSON(n.addr, "/_fabric/_system/_api/document/totals/"+u)
				if code != 200 || fmt.Sprint(d["n"]) != fmt.Sprint(w[0]) || fmt.Sprint(d["s"]) != fmt.Sprint(w[1]) {
					return false
				}
			}
			return true
		})
	}
	t.Logf("exact totals in both regions %v after east's restart (%v after the start)", time.Since(start), time.Since(began))
}
