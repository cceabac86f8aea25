package engine

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// propertyQueries cover every operator; each runs over random input.
var propertyQueries = []struct {
	q   string
	lim Limits
}{
	{q: "SET @watermark_delay = '1s', @allowed_lateness = '2s'; SELECT user, COUNT(*) AS n, SUM(amount) AS s, MIN(amount) AS mn, WINDOW_START() AS ws FROM orders GROUP BY user, TUMBLE(ts, '3s') HAVING COUNT(*) > 1"},
	{q: "SET @allowed_lateness = '1s'; SELECT COUNT(*) AS n, MAX(amount) AS mx FROM orders GROUP BY user, HOP(ts, '1s', '4s')"},
	{q: "SET @watermark_delay = '500ms'; SELECT user, COUNT(*) AS n, WINDOW_END() AS we FROM orders GROUP BY user, SESSION_WINDOW(ts, '700ms')"},
	{q: "SELECT user, AVG(amount) AS a FROM orders GROUP BY user, TUMBLE_COUNT(3)"},
	{q: "SELECT user, MAX(amount) AS m, COUNT(amount) AS c FROM orders GROUP BY user, SLIDE_COUNT(4)"},
	{q: "REPLACE INTO totals SELECT user AS _key, SUM(amount) AS s FROM orders GROUP BY user"},
	{q: "SELECT COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(PROCTIME(), '2s')"},
	{q: "SET @idle_timeout = '3s'; SELECT user, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(_time, '2s')"},
	{q: "SELECT user, COUNT(*) AS n FROM orders GROUP BY user, TUMBLE(ts, '1s')", lim: Limits{MaxWindows: 4}},
	{q: "SELECT user, COUNT(*) AS n FROM orders GROUP BY user, SLIDE_COUNT(50)", lim: Limits{MaxStateBytes: 2000}},
	{q: "SET @allowed_lateness = '1s'; SELECT o.user AS u, o.amount AS a, p.amount AS b FROM orders o JOIN payments p ON o.user = p.user AND p.ts BETWEEN o.ts - INTERVAL 500 MICROSECOND AND o.ts + INTERVAL 1 SECOND"},
	{q: "SELECT o.user AS u, o._properties.region AS r, p._properties.region AS pr, p._time AS pt FROM orders o JOIN payments p ON o.user = p.user AND p.ts BETWEEN o.ts - INTERVAL 1 SECOND AND o.ts"},
	{q: "SELECT o.user AS u, p.amount AS b FROM orders o JOIN payments p ON o.user = p.user AND p.ts BETWEEN o.ts AND o.ts + INTERVAL 2 SECOND", lim: Limits{MaxStateBytes: 3000}},
	{q: "SET @event_time = 'ts'; SELECT a.user AS u, b.amount AS b FROM orders a JOIN payments b ON FOLLOWED_BY(a, b, '2s') AND a.user = b.user AND b.amount > 3"},
	{q: "SET @event_time = 'ts', @idle_timeout = '1s'; SELECT a.user AS u, a.ts AS t FROM orders a JOIN payments b ON NOT_FOLLOWED_BY(a, b, '1s') AND a.user = b.user"},
	{q: "SELECT o.user AS u, u.name AS name FROM orders o LEFT JOIN users u ON u._key = o.user WHERE o.amount > 2"},
	{q: "SELECT upper(user) AS u, amount * 2 AS a FROM orders WHERE amount % 2 = 0"},
}

var propertyDocs = docs{"users/u0": `{"name":"zero"}`, "users/u2": `{"name":"two"}`}

// randomSteps makes n random inputs: out-of-order times, bad payloads and
// Advance calls.
func randomSteps(r *rand.Rand, n int) []step {
	var steps []step
	pub := int64(0)
	for i := 0; i < n; i++ {
		pub += int64(r.Intn(400))
		if r.Intn(10) == 0 {
			steps = append(steps, advance(pub+int64(r.Intn(3000))))
			continue
		}
		stream := "orders"
		if r.Intn(3) == 0 {
			stream = "payments"
		}
		ts := pub - int64(r.Intn(3000)) // out of order, sometimes late
		var payload string
		switch r.Intn(20) {
		case 0:
			payload = `not json`
		case 1:
			payload = fmt.Sprintf(`{"user":"u%d","amount":"many","ts":%d}`, r.Intn(5), ms(ts))
		case 2:
			payload = fmt.Sprintf(`{"user":"u%d","amount":%d}`, r.Intn(5), r.Intn(10))
		default:
			payload = fmt.Sprintf(`{"user":"u%d","amount":%d,"ts":%d}`, r.Intn(5), r.Intn(10), ms(ts))
		}
		st := ev(stream, fmt.Sprintf("k%d", i), payload, pub)
		if r.Intn(3) == 0 {
			st.props = map[string]string{"region": fmt.Sprintf("r%d", r.Intn(3)), "z": "1"}
		}
		steps = append(steps, st)
	}
	return steps
}

// TestPropertySnapshotRestore: a worker's output is the same whether its
// input arrives in one run or with a crash (Snapshot, then NewWorker from
// it) at random points.
func TestPropertySnapshotRestore(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for qi, pq := range propertyQueries {
		p := mustCompile(t, pq.q)
		for seed := int64(1); seed <= int64(seeds); seed++ {
			r := rand.New(rand.NewSource(seed*1000 + int64(qi)))
			steps := randomSteps(r, 150)

			w1, err := p.NewWorker(nil, propertyDocs, pq.lim)
			if err != nil {
				t.Fatal(err)
			}
			whole := run(t, w1, steps)
			snap1, err := w1.Snapshot()
			if err != nil {
				t.Fatal(err)
			}

			// w2 crashes at random points; w3 lives on, taking a snapshot at
			// the same points (snapshots reuse the encoding of unchanged
			// groups), which must equal w2's and change nothing.
			w2, _ := p.NewWorker(nil, propertyDocs, pq.lim)
			w3, _ := p.NewWorker(nil, propertyDocs, pq.lim)
			var pieces, kept []string
			for i := 0; i < len(steps); {
				n := 1 + r.Intn(10)
				if i+n > len(steps) {
					n = len(steps) - i
				}
				pieces = append(pieces, runFrom(t, w2, steps, i, n)...)
				kept = append(kept, runFrom(t, w3, steps, i, n)...)
				i += n
				snap, err := w2.Snapshot()
				if err != nil {
					t.Fatalf("query %d seed %d: Snapshot: %v", qi, seed, err)
				}
				if snap3, _ := w3.Snapshot(); !bytes.Equal(snap, snap3) {
					t.Fatalf("query %d seed %d: after step %d the restored worker's snapshot and the live one's differ", qi, seed, i)
				}
				before := w2.StateBytes()
				if w2, err = p.NewWorker(snap, propertyDocs, pq.lim); err != nil {
					t.Fatalf("query %d seed %d: restore: %v", qi, seed, err)
				}
				if w2.StateBytes() != before {
					t.Fatalf("query %d seed %d: state bytes %d before the crash, %d after", qi, seed, before, w2.StateBytes())
				}
			}
			snap2, _ := w2.Snapshot()
			if strings.Join(whole, "\n") != strings.Join(pieces, "\n") {
				t.Fatalf("query %d (%s) seed %d: one run and crashes differ:\n one run:\n  %s\n crashes:\n  %s", qi, pq.q, seed,
					strings.Join(whole, "\n  "), strings.Join(pieces, "\n  "))
			}
			if strings.Join(whole, "\n") != strings.Join(kept, "\n") {
				t.Fatalf("query %d seed %d: snapshots changed the output", qi, seed)
			}
			if !bytes.Equal(snap1, snap2) {
				t.Fatalf("query %d seed %d: final snapshots differ:\n%s\n%s", qi, seed, snap1, snap2)
			}
		}
	}
}

// runFrom runs steps[i:i+n], numbering positions as run does over all steps.
func runFrom(t *testing.T, w *Worker, steps []step, i, n int) []string {
	t.Helper()
	// Positions: replay the numbering of the steps before i.
	pos := map[string]uint64{}
	for _, s := range steps[:i] {
		if !s.adv {
			pos[s.stream]++
		}
	}
	var out []string
	for _, s := range steps[i : i+n] {
		if s.adv {
			for _, r := range w.Advance(at(s.pub)) {
				out = append(out, r.Key+" "+string(r.Value))
			}
			for _, e := range w.AdvanceErrors() {
				out = append(out, "ERR "+e.Err.Error())
			}
			continue
		}
		pos[s.stream]++
		rows, errs := w.Process(Event{Stream: s.stream, Position: pos[s.stream], Key: s.key, Payload: []byte(s.payload), Properties: s.props, Time: at(s.pub)})
		for _, r := range rows {
			out = append(out, r.Key+" "+string(r.Value))
		}
		for _, e := range errs {
			out = append(out, fmt.Sprintf("ERR %s@%d: %v", e.Event.Stream, e.Event.Position, e.Err))
		}
	}
	return out
}

// TestPropertyOutputsSomething guards the property test: the random input
// gives every query both rows and errors (else equality proves little).
func TestPropertyOutputsSomething(t *testing.T) {
	for qi, pq := range propertyQueries {
		p := mustCompile(t, pq.q)
		w, _ := p.NewWorker(nil, propertyDocs, pq.lim)
		r := rand.New(rand.NewSource(int64(qi)))
		out := run(t, w, randomSteps(r, 300))
		rows := 0
		for _, l := range out {
			if !strings.HasPrefix(l, "ERR") {
				rows++
			}
		}
		if rows == 0 || rows == len(out) {
			t.Errorf("query %d (%s): %d rows of %d lines", qi, pq.q, rows, len(out))
		}
	}
}

// TestPlanShared: workers of one plan run on several goroutines at once
// (a plan is immutable; run with -race).
func TestPlanShared(t *testing.T) {
	for qi, pq := range propertyQueries {
		p := mustCompile(t, pq.q)
		steps := randomSteps(rand.New(rand.NewSource(int64(qi))), 100)
		outs := make([][]string, 3)
		done := make(chan int)
		for g := range outs {
			go func() {
				w, _ := p.NewWorker(nil, propertyDocs, pq.lim)
				outs[g] = run(t, w, steps)
				done <- g
			}()
		}
		for range outs {
			<-done
		}
		for g := 1; g < len(outs); g++ {
			if strings.Join(outs[g], "\n") != strings.Join(outs[0], "\n") {
				t.Fatalf("query %d: workers of one plan differ", qi)
			}
		}
	}
}
