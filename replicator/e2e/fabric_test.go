package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
)

var threeRegions = []string{"us-east", "eu-west", "ap-south"}

// TestPublishEverywhereConsumeEverywhere publishes from two producers in
// every region and checks that every region's stream, and a consumer in
// every region, holds every message exactly once in per-producer order.
func TestPublishEverywhereConsumeEverywhere(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	const n = 300
	want := map[string][2]int{}
	var wg sync.WaitGroup
	for _, r := range threeRegions {
		for i := range 2 {
			p := fmt.Sprintf("%s-p%d", r, i)
			want[p] = [2]int{0, n}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.publish(r, "orders", p, 0, n)
			}()
		}
	}
	wg.Wait()
	total := 6 * n
	f.waitCount("orders", total)
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "orders"), want)
		checkExactlyOnce(t, r, f.consumeAll(r, "orders", "sub-"+r, total), want)
	}
}

// TestPartitionPublishBothSidesHeal isolates us-east, publishes on both
// sides of the partition, checks that nothing crosses it, heals it and
// checks that everything arrives everywhere exactly once.
func TestPartitionPublishBothSidesHeal(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	f.publish("us-east", "p", "before", 0, 50)
	f.waitCount("p", 50)
	f.Cut("us-east", "eu-west", true)
	f.Cut("us-east", "ap-south", true)
	f.publish("us-east", "p", "east", 0, 200)
	f.publish("eu-west", "p", "west", 0, 200)
	f.waitCount("p", 250, "us-east", "eu-west", "ap-south")
	checkExactlyOnce(t, "us-east", f.records("us-east", "p"), map[string][2]int{"before": {0, 50}, "east": {0, 200}})
	for _, r := range []string{"eu-west", "ap-south"} {
		checkExactlyOnce(t, r, f.records(r, "p"), map[string][2]int{"before": {0, 50}, "west": {0, 200}})
	}
	f.Cut("us-east", "eu-west", false)
	f.Cut("us-east", "ap-south", false)
	f.waitCount("p", 450)
	want := map[string][2]int{"before": {0, 50}, "east": {0, 200}, "west": {0, 200}}
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "p"), want)
	}
}

// TestRelayThroughThirdRegion cuts us-east from ap-south while both reach
// eu-west: us-east's messages reach ap-south through eu-west, and the
// other way round.
func TestRelayThroughThirdRegion(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	f.Cut("us-east", "ap-south", true)
	f.publish("us-east", "relay", "east", 0, 100)
	f.publish("ap-south", "relay", "south", 0, 100)
	f.waitCount("relay", 200)
	want := map[string][2]int{"east": {0, 100}, "south": {0, 100}}
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "relay"), want)
	}
	st, err := f.Server("eu-west").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine.RelayedRanges == 0 {
		t.Fatalf("eu-west relayed nothing: %+v", st.Engine)
	}
	for _, r := range []string{"us-east", "ap-south"} {
		st, err := f.Server(r).Repl.Status()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range st.Peers {
			if p.Link.Down != (p.Peer == "us-east" || p.Peer == "ap-south") {
				t.Fatalf("%s: link to %s: %+v", r, p.Peer, p.Link)
			}
		}
	}
}

// TestCausalOrderAcrossRegions has eu-west answer every message of us-east
// as soon as it is delivered there; with jittered links, ap-south often
// receives an answer before its question and must hold it back. Every
// region must store each question before its answer.
func TestCausalOrderAcrossRegions(t *testing.T) {
	f := newFabric(t, threeRegions, func(c *broker.Config) {
		c.WAN = broker.WANConfig{Latency: 5 * time.Millisecond, Jitter: 30 * time.Millisecond}
	})
	const n = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := f.node("eu-west").StreamForUse(streamName("qa"), nil)
		if err != nil {
			t.Error(err)
			return
		}
		p, err := s.AttachProducer("answers", -1)
		if err != nil {
			t.Error(err)
			return
		}
		defer p.Close()
		answered := 0
		f.waitFor("eu-west", "qa", func(recs []segment.Record) bool {
			for _, r := range recs {
				q, i, _ := strings.Cut(string(r.Payload), ":")
				if q != "questions" {
					continue
				}
				if n, _ := strconv.Atoi(i); n == answered {
					res := p.Publish([]broker.Message{{Payload: []byte("answers:" + i), SequenceID: int64(answered)}})
					if res[0].Err != nil {
						t.Error(res[0].Err)
					}
					answered++
				}
			}
			return answered == n
		})
	}()
	for i := range n {
		f.publish("us-east", "qa", "questions", i, 1)
	}
	<-done
	f.waitCount("qa", 2*n)
	for _, r := range threeRegions {
		recs := f.records(r, "qa")
		checkExactlyOnce(t, r, recs, map[string][2]int{"questions": {0, n}, "answers": {0, n}})
		at := map[string]int{}
		for i, rec := range recs {
			at[string(rec.Payload)] = i
		}
		for i := range n {
			q, a := at[fmt.Sprintf("questions:%d", i)], at[fmt.Sprintf("answers:%d", i)]
			if q > a {
				t.Fatalf("%s: answer %d stored at %d before its question at %d", r, i, a, q)
			}
		}
	}
}

// TestRestartCatchesUp stops a region, publishes elsewhere, restarts it:
// it catches up from where it left off, and its own journal survives.
func TestRestartCatchesUp(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	f.publish("eu-west", "r", "west", 0, 100)
	f.waitCount("r", 100)
	f.Stop("eu-west")
	f.publish("us-east", "r", "east", 0, 150)
	f.publish("ap-south", "r", "south", 0, 150)
	f.waitCount("r", 400, "us-east", "ap-south")
	f.Start("eu-west")
	f.publish("eu-west", "r", "west", 100, 50)
	f.waitCount("r", 450)
	want := map[string][2]int{"west": {0, 150}, "east": {0, 150}, "south": {0, 150}}
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "r"), want)
	}
	st, err := f.Server("eu-west").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered["eu-west"] != 150 || st.Delivered["us-east"] != 150 || st.Delivered["ap-south"] != 150 {
		t.Fatalf("eu-west delivered %v", st.Delivered)
	}
}

// TestLocalStreamsStayLocal creates a local stream beside a global one: it
// is listed as local and its messages stay in their region.
func TestLocalStreamsStayLocal(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	global := false
	s, err := f.node("us-east").StreamForUse(streamName("mine"), &global)
	if err != nil {
		t.Fatal(err)
	}
	if s.Info().Global {
		t.Fatal("stream created with global=false is global")
	}
	f.publish("us-east", "mine", "local", 0, 10)
	f.publish("us-east", "shared", "global", 0, 10)
	f.waitCount("shared", 10)
	for _, r := range []string{"eu-west", "ap-south"} {
		if _, err := f.node(r).Stream(streamName("mine")); err == nil {
			t.Fatalf("%s received the local stream", r)
		}
		s, err := f.node(r).Stream(streamName("shared"))
		if err != nil || !s.Info().Global {
			t.Fatalf("%s: shared stream %v, %v", r, s, err)
		}
	}
	var listed struct {
		Result []struct {
			Name   string `json:"name"`
			Global bool   `json:"global"`
		} `json:"result"`
	}
	resp, err := http.Get(f.Server("us-east").URL() + "/_fabric/_system/_api/streams")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&listed); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range listed.Result {
		got[s.Name] = s.Global
	}
	if g, ok := got["mine"]; !ok || g {
		t.Fatalf("listing: %+v", listed.Result)
	}
	if g, ok := got["shared"]; !ok || !g {
		t.Fatalf("listing: %+v", listed.Result)
	}
}

// TestWebSocketGlobalParameter: a producer's ?global=false creates a local
// stream; without it the stream is global; a bad value is refused.
func TestWebSocketGlobalParameter(t *testing.T) {
	f := newFabric(t, []string{"a", "b"}, nil)
	base := "ws://" + f.Server("a").Addr() + "/ws/v2/producer/persistent/_mm/_system/"
	for _, tc := range []struct {
		stream, query string
		global        bool
	}{{"wslocal", "?global=false", false}, {"wsglobal", "", true}, {"wsexplicit", "?global=true", true}} {
		c, _, err := websocket.DefaultDialer.Dial(base+tc.stream+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		s, err := f.node("a").Stream(streamName(tc.stream))
		if err != nil || s.Info().Global != tc.global {
			t.Fatalf("%s%s: %v, %v", tc.stream, tc.query, s, err)
		}
	}
	if _, resp, err := websocket.DefaultDialer.Dial(base+"bad?global=maybe", nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("global=maybe accepted: %v", err)
	}
}

// TestAdminEndpointsAndMetrics checks the replication admin endpoints and
// the lag metrics on a node's HTTP listener.
func TestAdminEndpointsAndMetrics(t *testing.T) {
	f := newFabric(t, []string{"a", "b"}, nil)
	f.publish("a", "m", "p", 0, 3)
	f.waitCount("m", 3)
	url := f.Server("a").URL()
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path string) int {
		resp, err := http.Post(url+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	code, body := get("/_api/replication")
	var st struct {
		Result struct {
			Region    string            `json:"region"`
			Delivered map[string]uint64 `json:"delivered"`
			Peers     []struct {
				Peer string `json:"peer"`
			} `json:"peers"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Result.Region != "a" ||
		st.Result.Delivered["a"] != 3 || len(st.Result.Peers) != 1 || st.Result.Peers[0].Peer != "b" {
		t.Fatalf("status %d: %s", code, body)
	}
	for path, want := range map[string]int{
		"/_api/replication/links/b/down":     200,
		"/_api/replication/links/b/up":       200,
		"/_api/replication/links/zz/down":    404,
		"/_api/replication/links/b/sideways": 400,
	} {
		if got := post(path); got != want {
			t.Errorf("POST %s: %d, want %d", path, got, want)
		}
	}
	code, body = get("/metrics")
	for _, m := range []string{`causeway_replication_lag_ops{peer="b",region="a"}`, `causeway_replication_lag_seconds{peer="b",region="a"}`,
		`causeway_replication_link_up{peer="b",region="a"}`, `causeway_replication_delivered_ops{origin="a",region="a"} 3`} {
		if code != 200 || !strings.Contains(body, m) {
			t.Fatalf("/metrics lacks %s", m)
		}
	}
}
