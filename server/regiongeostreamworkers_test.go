package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// publishOn publishes payloads to a stream through the node leading it
// (retrying while the lead moves), with the sequence ids firstSeq, ...:
// a retry of messages stored before is dropped as a duplicate.
func (c *regionCluster) publishOn(t *testing.T, name naming.Stream, producer string, firstSeq int64, payloads []string) {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	for {
		if n := c.streamLeader(name); n != nil {
			st, err := n.srv.Node.Stream(name)
			if err == nil {
				var p *broker.Producer
				if p, err = st.AttachProducer(producer, -1); err == nil {
					msgs := make([]broker.Message, len(payloads))
					for i, pl := range payloads {
						msgs[i] = broker.Message{Payload: []byte(pl), SequenceID: firstSeq + int64(i)}
					}
					for _, r := range p.Publish(msgs) {
						if r.Err != nil && err == nil {
							err = r.Err
						}
					}
					p.Close()
					if err == nil {
						return
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish to %s: %v", name, err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// workerRows returns the ids of the rows a region's worker wrote to a
// stream, in stored order, read on the node leading it.
func (c *regionCluster) workerRows(t *testing.T, name naming.Stream, producerPrefix string) []int {
	t.Helper()
	n := c.streamLeader(name)
	if n == nil {
		return nil
	}
	st, err := n.srv.Node.Stream(name)
	if err != nil {
		return nil
	}
	src := st.Source()
	var ids []int
	for from := src.StartOffset(); from < src.EndOffset(); {
		recs, err := src.Read(from, 10000, 64<<20)
		if err != nil || len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.Producer, producerPrefix) {
				continue
			}
			var row struct {
				ID int `json:"id"`
			}
			if err := json.Unmarshal(r.Payload, &row); err != nil {
				t.Fatalf("row %s: %v", r.Payload, err)
			}
			ids = append(ids, row.ID)
		}
		from = recs[len(recs)-1].Offset + 1
	}
	return ids
}

// TestRegionGeoStreamWorker: us-east of three nodes, eu-west of one. A
// worker created through a us-east node that does not run the region's
// replication runs on the one that does (and only there), and in
// eu-west. That node is stopped: another takes over the replication and
// the worker, without its checkpoint (it stays on the stopped node's
// disk): it starts again from the input's first message, makes the same
// rows under the same sequence ids, and the broker drops the ones
// already stored - us-east's rows are there exactly once, in order.
func TestRegionGeoStreamWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes in two regions")
	}
	c, euSrv := startGeoFabric(t)
	const p = "/_fabric/_system/_api/"
	runner := c.geoRunner()
	other := c.nodes[0]
	if other == runner {
		other = c.nodes[1]
	}
	c.callOK(t, http.StatusCreated, http.MethodPost, other.url, p+"streams/readings?global=true", nil)
	readings := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "readings"}
	hot := readings
	hot.Name = "hot"
	payloads := func(from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(`{"id":%d,"v":%d}`, from+i, (from+i)%20)
		}
		return out
	}
	want := func(n int) []int {
		var ids []int
		for id := 0; id < n; id++ {
			if id%20 > 10 {
				ids = append(ids, id)
			}
		}
		return ids
	}
	c.publishOn(t, readings, "us-test", 1, payloads(0, 2000))
	c.callOK(t, http.StatusCreated, http.MethodPost, other.url, p+"streamapps", map[string]any{"name": "hot", "isActive": true,
		"definition": "INSERT INTO hot SELECT id, v * 2 AS d FROM readings WHERE v > 10"})
	await := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(regionWait)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	us := "sw-us-east-hot-"
	await("us-east's rows", func() bool { return len(c.workerRows(t, hot, us)) >= len(want(2000)) })
	// One us-east node runs it: the one running the replication.
	for _, n := range c.nodes {
		code, b := c.call(t, http.MethodGet, n.url, "/metrics", nil)
		runs := strings.Contains(string(b), `causeway_streamworker_events_in_total{fabric="_system",region="us-east",tenant="_mm",worker="hot"}`)
		if code != http.StatusOK || runs != (n == runner) {
			t.Fatalf("node %s (runner %v) runs the worker: %v (%d)", n.url, n == runner, runs, code)
		}
	}
	// Every node answers GET with the runner's figures (proxied there).
	b := c.callOK(t, http.StatusOK, http.MethodGet, other.url, p+"streamapps/hot", nil)
	if !strings.Contains(string(b), `"region":"us-east"`) || !strings.Contains(string(b), `"eventsIn":2000`) {
		t.Fatalf("GET through another node: %s", b)
	}
	// eu-west runs it too, on its copy.
	code, eb := c.call(t, http.MethodGet, euSrv.URL(), p+"streamapps/hot", nil)
	if code != http.StatusOK {
		t.Fatalf("eu-west GET: %d %s", code, eb)
	}

	runner.stop()
	start := time.Now()
	await("another runner", func() bool { return c.geoRunner() != nil })
	t.Logf("another node runs the replication %v after the stop", time.Since(start))
	c.publishOn(t, readings, "us-test", 2001, payloads(2000, 1000))
	await("every us-east row", func() bool { return len(c.workerRows(t, hot, us)) >= len(want(3000)) })
	t.Logf("every row %v after the stop", time.Since(start))
	time.Sleep(time.Second) // a duplicate would have landed by now
	if got := c.workerRows(t, hot, us); fmt.Sprint(got) != fmt.Sprint(want(3000)) {
		t.Fatalf("us-east's rows after the failover: %d, want %d exactly once in order", len(got), len(want(3000)))
	}
	// The new node replayed the input from its first message (it had no
	// checkpoint): the first 2,000 messages' rows were made again and dropped.
	b = c.callOK(t, http.StatusOK, http.MethodGet, other.url, p+"streamapps/hot", nil)
	if !strings.Contains(string(b), `"eventsIn":3000`) {
		t.Fatalf("the new runner's figures: %s", b)
	}
}
