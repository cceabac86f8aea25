package streamworkers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
)

// crashPlan stops a worker dead at the n-th time it reaches point.
type crashPlan struct {
	mu    sync.Mutex
	point string
	n     int
	fired chan struct{}
}

func (c *crashPlan) at(point string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired == nil || point != c.point {
		return false
	}
	c.n--
	if c.n > 0 {
		return false
	}
	close(c.fired)
	c.fired = nil
	return true
}

// arm makes the next crash happen at the n-th point; it returns the
// channel closed when it does.
func (c *crashPlan) arm(point string, n int) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.point, c.n, c.fired = point, n, make(chan struct{})
	return c.fired
}

func (c *crashPlan) disarm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fired = nil
}

func orders(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		id := from + i
		out[i] = fmt.Sprintf(`{"id":%d,"v":%d,"user":"u%d","amount":%d}`, id, id%20, id%7, id%5+1)
	}
	return out
}

// outIDs decodes the id of every record of the output stream.
func (e *env) outIDs(stream string) []int {
	var ids []int
	for _, r := range e.records(stream) {
		var m struct {
			ID int `json:"id"`
			D  int `json:"d"`
		}
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			e.t.Fatalf("output %s: %v", r.Payload, err)
		}
		if m.D != 2*(m.ID%20) {
			e.t.Fatalf("output %s: d is not 2v", r.Payload)
		}
		ids = append(ids, m.ID)
	}
	return ids
}

func wantIDs(n int) []int {
	var ids []int
	for id := 0; id < n; id++ {
		if id%20 > 10 {
			ids = append(ids, id)
		}
	}
	return ids
}

// A worker killed at every point of its step (after the commit, halfway
// through sending, after sending but before forgetting what it sent),
// with part of its unsynced checkpoint writes lost each time, and
// restarted, has sent every row of its input exactly once, in order.
func TestWorkerExactlyOnceAcrossCrashes(t *testing.T) {
	plan := &crashPlan{}
	e := newEnv(t, Options{BatchRecords: 7, crashAt: plan.at})
	const perRound = 150
	e.publish("orders", orders(0, perRound)...)
	e.create("fp", "INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10")
	points := []string{"after-commit", "mid-send", "after-send", "after-commit", "mid-send", "after-send"}
	rng := rand.New(rand.NewPCG(1, 2))
	published := perRound
	for round, p := range points {
		fired := plan.arm(p, 1+rng.IntN(5))
		e.publish("orders", orders(published, perRound)...)
		published += perRound
		select {
		case <-fired:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: the worker never reached %s", round, p)
		}
		e.crash(int64(round))
	}
	plan.disarm()
	want := wantIDs(published)
	e.waitFor("every row", 20*time.Second, func() bool { return len(e.records("sink")) >= len(want) })
	e.waitFor("no pending row", 5*time.Second, func() bool {
		st, ok := e.r.stats(workerID{naming.DefaultTenant, testFabric, "fp"})
		return ok && st.Pending == 0 && st.Lag == 0 && st.EventsIn == uint64(published)
	})
	got := e.outIDs("sink")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after %d crashes the output has %d rows, want %d exactly once in order:\n got %v\nwant %v", len(points), len(got), len(want), got, want)
	}
	// The output's producer is the worker's, with its sequence ids 1..n.
	for i, r := range e.records("sink") {
		if r.SequenceID != int64(i+1) || !strings.HasPrefix(r.Producer, "sw-us-fp-") {
			t.Fatalf("record %d: producer %s seq %d", i, r.Producer, r.SequenceID)
		}
	}
	t.Logf("%d messages, %d rows, %d crashes: every row once", published, len(got), len(points))
}

// A message that is not what the query expects goes to the worker's
// error stream, and the worker goes on.
func TestWorkerBadMessagesGoToTheErrorStream(t *testing.T) {
	e := newEnv(t, Options{})
	e.publish("orders", `{"id":11,"v":11}`, `not json`, `{"id":12,"v":"twelve"}`, `{"id":13,"v":13}`)
	e.create("fp", "INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10")
	e.waitFor("the good rows", 10*time.Second, func() bool { return len(e.records("sink")) == 2 })
	e.waitFor("two errors", 10*time.Second, func() bool { return len(e.records("fp-errors")) == 2 })
	if got := e.outIDs("sink"); fmt.Sprint(got) != "[11 13]" {
		t.Fatalf("rows %v", got)
	}
	for i, r := range e.records("fp-errors") {
		var rec errorRecord
		if err := json.Unmarshal(r.Payload, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Worker != "fp" || rec.Stream != "orders" || rec.Position != uint64(i+1) || rec.Error == "" || rec.Region != "us" {
			t.Fatalf("error record %d: %+v", i, rec)
		}
		t.Logf("error record: %s", r.Payload)
	}
	st, _ := e.r.stats(workerID{naming.DefaultTenant, testFabric, "fp"})
	if st.Errors != 2 || st.RowsOut != 2 || st.EventsIn != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// Rows upserted into a collection by key: the totals are exact after a
// crash in the middle (a row sent again writes the same document).
func TestWorkerUpsertsIntoACollection(t *testing.T) {
	plan := &crashPlan{}
	e := newEnv(t, Options{BatchRecords: 10, crashAt: plan.at})
	if _, err := e.cols.CreateCollection(naming.DefaultTenant, testFabric, service.CollectionSpec{Name: "totals"}); err != nil {
		t.Fatal(err)
	}
	e.publish("orders", orders(0, 100)...)
	fired := plan.arm("mid-send", 3)
	e.create("agg", "REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n, SUM(amount) AS s FROM orders GROUP BY user")
	select {
	case <-fired:
	case <-time.After(20 * time.Second):
		t.Fatal("no crash")
	}
	e.crash(7)
	plan.disarm()
	e.publish("orders", orders(100, 110)...)
	want := map[string][2]int{}
	for id := 0; id < 210; id++ {
		u := fmt.Sprintf("u%d", id%7)
		w := want[u]
		want[u] = [2]int{w[0] + 1, w[1] + id%5 + 1}
	}
	e.waitFor("the totals", 20*time.Second, func() bool {
		for u, w := range want {
			d := e.doc("totals", u)
			if d == nil || fmt.Sprint(d["n"]) != fmt.Sprint(w[0]) || fmt.Sprint(d["s"]) != fmt.Sprint(w[1]) {
				return false
			}
		}
		return true
	})
}

// Create, read, update, deactivate, activate and delete through the API,
// with the worker's figures in GET and /metrics.
func TestAPILifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	e.publish("orders", orders(0, 40)...)
	var ans appsAnswer
	if code := e.do("POST", "", `{"name":"fp","definition":"INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10"}`, &ans); code != 201 {
		t.Fatalf("create: %d %+v", code, ans)
	}
	if a := ans.Apps[0]; a.Version != 1 || a.Active || a.Start != "earliest" || a.CreatedAt == 0 {
		t.Fatalf("created %+v", a)
	}
	var errAns errorAnswer
	if code := e.do("POST", "", `{"name":"fp","definition":"INSERT INTO sink SELECT id FROM orders"}`, &errAns); code != 409 {
		t.Fatalf("create again: %d %+v", code, errAns)
	}
	time.Sleep(3 * e.opts.PollInterval)
	if len(e.records("sink")) != 0 {
		t.Fatal("an inactive worker ran")
	}
	if code := e.do("PATCH", "/fp/active?active=true", nil, &ans); code != 200 || !ans.Apps[0].Active {
		t.Fatalf("activate: %d %+v", code, ans)
	}
	e.waitFor("the rows", 10*time.Second, func() bool { return len(e.records("sink")) == len(wantIDs(40)) })
	e.waitFor("stats in GET", 5*time.Second, func() bool {
		e.do("GET", "/fp", nil, &ans)
		s := ans.Apps[0].Stats
		return s != nil && s.EventsIn == 40 && s.RowsOut == uint64(len(wantIDs(40))) && s.Lag == 0 && s.Positions["orders"] == 40
	})
	t.Logf("GET stats: %+v", *ans.Apps[0].Stats)
	metrics := gather(t, e.r)
	for _, m := range []string{"causeway_streamworker_events_in_total", "causeway_streamworker_rows_out_total", "causeway_streamworker_lag_messages",
		"causeway_streamworker_state_bytes", "causeway_streamworker_errors_total", "causeway_streamworker_input_rate"} {
		if _, ok := metrics[m]; !ok {
			t.Errorf("metric %s missing from %v", m, metrics)
		}
	}
	if metrics["causeway_streamworker_events_in_total"] != 40 {
		t.Errorf("events in: %v", metrics["causeway_streamworker_events_in_total"])
	}
	// An update: version 2, the new query from where the old one stopped.
	if code := e.do("PUT", "/fp", `{"query":"INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 15"}`, &ans); code != 200 || ans.Apps[0].Version != 2 {
		t.Fatalf("update: %d %+v", code, ans)
	}
	if code := e.do("PUT", "/fp", `{"query":"INSERT INTO sink SELECT nosuch( FROM orders"}`, &errAns); code != 400 {
		t.Fatalf("bad update: %d %+v", code, errAns)
	}
	e.waitFor("version 2 running", 5*time.Second, func() bool {
		st, ok := e.r.stats(workerID{naming.DefaultTenant, testFabric, "fp"})
		return ok && st.Version == 2
	})
	e.publish("orders", orders(40, 20)...)
	e.waitFor("version 2's rows", 10*time.Second, func() bool { return len(e.records("sink")) == len(wantIDs(40))+4 })
	if code := e.do("PATCH", "/fp/active?active=false", nil, &ans); code != 200 || ans.Apps[0].Active {
		t.Fatalf("deactivate: %d %+v", code, ans)
	}
	e.waitFor("stopped", 5*time.Second, func() bool { _, ok := e.r.stats(workerID{naming.DefaultTenant, testFabric, "fp"}); return !ok })
	if code := e.do("DELETE", "/fp", nil, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if _, _, _, found, _ := e.r.cps.load(workerID{naming.DefaultTenant, testFabric, "fp"}); found {
		t.Fatal("the deleted worker's checkpoint is still there")
	}
	if code := e.do("GET", "", nil, &ans); code != 200 || len(ans.Apps) != 0 {
		t.Fatalf("list after delete: %d %+v", code, ans)
	}
}

// A dry run runs the query over the newest messages and writes nothing.
func TestDryRun(t *testing.T) {
	e := newEnv(t, Options{})
	e.publish("orders", orders(0, 30)...)
	e.publish("orders", `oops`)
	var ans struct {
		Result DryRunResult `json:"result"`
	}
	code := e.do("POST", "/query/dry-run", `{"query":"INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10","last":21}`, &ans)
	if code != 200 {
		t.Fatalf("dry run: %d", code)
	}
	r := ans.Result
	// The last 21 messages: ids 10..29 (v = id % 20: 11-19 pass, 9 rows) and oops.
	if r.Messages != 21 || len(r.Rows) != 9 || len(r.Errors) != 1 || r.Errors[0].Position != 30 || r.Output != "stream sink" {
		t.Fatalf("dry run: %+v", r)
	}
	if string(r.Rows[0].Value) == "" || !strings.Contains(string(r.Rows[0].Value), `"id":11`) {
		t.Fatalf("first row %s", r.Rows[0].Value)
	}
	if len(e.records("sink")) != 0 {
		t.Fatal("a dry run wrote its output")
	}
}

// gather collects the runner's metrics: name -> value of the last series.
func gather(t *testing.T, r *Runner) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(r.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// A worker deleted behind the API's back (its document removed, as a
// deletion replicated from another region arrives) stops and its
// checkpoint goes.
func TestWorkerDeletedElsewhereLeavesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	e.publish("orders", orders(0, 30)...)
	e.create("fp", "INSERT INTO sink SELECT id, v * 2 AS d FROM orders WHERE v > 10")
	id := workerID{naming.DefaultTenant, testFabric, "fp"}
	e.waitFor("the rows", 10*time.Second, func() bool { return len(e.records("sink")) == len(wantIDs(30)) })
	if err := e.r.defs.remove(naming.DefaultTenant, testFabric, "fp"); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the worker gone", 10*time.Second, func() bool {
		_, running := e.r.stats(id)
		_, _, _, found, _ := e.r.cps.load(id)
		return !running && !found
	})
}

// Joins through the runner: a lookup join reads the fabric's collection
// (the shell's Lookup), and a join of two streams reads both inputs.
func TestWorkerJoins(t *testing.T) {
	e := newEnv(t, Options{})
	if _, err := e.cols.CreateCollection(naming.DefaultTenant, testFabric, service.CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cols.Write(service.Ref{Tenant: naming.DefaultTenant, Fabric: testFabric, Collection: "users"},
		[]service.Write{{Kind: service.Insert, Key: "u1", Doc: map[string]any{"name": "Ann"}}}); err != nil {
		t.Fatal(err)
	}
	e.publish("orders", `{"id":1,"user":"u1"}`, `{"id":2,"user":"u2"}`, `{"id":3,"user":"u1"}`)
	e.stream("payments")
	e.create("enrich", "INSERT INTO enriched SELECT o.id, u.name FROM orders o LEFT JOIN users u ON u._key = o.user")
	e.create("paid", "INSERT INTO paid SELECT o.id, p.amount FROM orders o JOIN payments p "+
		"ON o.id = p.order_id AND p._time BETWEEN o._time - INTERVAL 60 SECOND AND o._time + INTERVAL 60 SECOND")
	e.publish("payments", `{"order_id":3,"amount":30}`, `{"order_id":1,"amount":10}`, `{"order_id":9,"amount":90}`)
	e.waitFor("the enriched rows", 10*time.Second, func() bool { return len(e.records("enriched")) == 3 })
	e.waitFor("the joined rows", 10*time.Second, func() bool { return len(e.records("paid")) == 2 })
	var got []string
	for _, r := range e.records("enriched") {
		got = append(got, string(r.Payload))
	}
	if want := `[{"id":1,"name":"Ann"} {"id":2,"name":null} {"id":3,"name":"Ann"}]`; fmt.Sprint(got) != want {
		t.Fatalf("enriched %v, want %s", got, want)
	}
	got = nil
	for _, r := range e.records("paid") {
		got = append(got, string(r.Payload))
	}
	if want := `[{"id":3,"amount":30} {"id":1,"amount":10}]`; fmt.Sprint(got) != want {
		t.Fatalf("paid %v, want %s", got, want)
	}
}

// A row the output stream cannot take (over the broker's message limit)
// goes to the error stream; the worker goes on.
func TestWorkerRowTooLargeGoesToTheErrorStream(t *testing.T) {
	e := newEnv(t, Options{})
	big := strings.Repeat("x", e.node.Config().MaxMessageBytes-100)
	e.publish("orders", `{"id":1,"s":"a"}`, `{"id":2,"s":"`+big+`"}`, `{"id":3,"s":"c"}`)
	e.create("dbl", "INSERT INTO sink SELECT id, CONCAT(s, s) AS ss FROM orders")
	e.waitFor("two rows and an error", 10*time.Second, func() bool {
		return len(e.records("sink")) == 2 && len(e.records("dbl-errors")) == 1
	})
	if r := e.records("dbl-errors")[0]; !strings.Contains(string(r.Payload), "the stream's limit") {
		t.Fatalf("error record %.300s", r.Payload)
	}
}

// A worker upserting into a collection that does not exist yet makes it;
// one writing a reserved stream is refused when it is created.
func TestWorkerOutputs(t *testing.T) {
	e := newEnv(t, Options{})
	e.publish("orders", orders(0, 14)...)
	e.create("agg", "REPLACE INTO fresh SELECT user AS _key, COUNT(*) AS n FROM orders GROUP BY user")
	e.waitFor("the new collection's documents", 10*time.Second, func() bool {
		d := e.doc("fresh", "u0")
		return d != nil && fmt.Sprint(d["n"]) == "2"
	})
	var ans errorAnswer
	if code := e.do("POST", "", `{"name":"bad","query":"INSERT INTO `+"`_col.fresh`"+` SELECT id FROM orders"}`, &ans); code != 400 || !strings.Contains(ans.ErrorMessage, "op log") {
		t.Fatalf("a worker writing a collection's op log: %d %+v", code, ans)
	}
}
