package engine

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// TestWindowsAgainstOracle: with a watermark delay longer than the input's
// disorder (nothing late) and Flush at the end, every window's row equals a
// brute-force count and sum over the events, for tumbling, hopping and
// session windows, whatever the order the events arrive in.
func TestWindowsAgainstOracle(t *testing.T) {
	type evt struct {
		user   string
		ts, am int64
	}
	for seed := int64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewSource(seed))
		var evs []evt
		for i := 0; i < 200; i++ {
			evs = append(evs, evt{user: fmt.Sprintf("u%d", r.Intn(4)), ts: int64(r.Intn(60_000)), am: int64(r.Intn(100))})
		}
		// Arrival order: sorted by time, then shuffled locally (disorder
		// below the delay).
		sort.Slice(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
		for i := range evs {
			j := i + r.Intn(min(5, len(evs)-i))
			evs[i], evs[j] = evs[j], evs[i]
		}
		oracle := map[string]map[string]int64{} // window label -> "n"/"s"
		add := func(label string, am int64) {
			if oracle[label] == nil {
				oracle[label] = map[string]int64{}
			}
			oracle[label]["n"]++
			oracle[label]["s"] += am
		}
		for _, kind := range []string{"tumble", "hop", "session"} {
			clear(oracle)
			var window string
			switch kind {
			case "tumble":
				window = "TUMBLE(ts, '7s')"
				for _, e := range evs {
					s := e.ts / 7000 * 7000
					add(fmt.Sprintf("%s [%d,%d)", e.user, s, s+7000), e.am)
				}
			case "hop":
				window = "HOP(ts, '3s', '9s')"
				for _, e := range evs {
					for s := e.ts / 3000 * 3000; s > e.ts-9000; s -= 3000 {
						add(fmt.Sprintf("%s [%d,%d)", e.user, s, s+9000), e.am)
					}
				}
			case "session":
				window = "SESSION_WINDOW(ts, '2s')"
				byUser := map[string][]evt{}
				for _, e := range evs {
					byUser[e.user] = append(byUser[e.user], e)
				}
				for u, list := range byUser {
					sort.Slice(list, func(i, j int) bool { return list[i].ts < list[j].ts })
					start, end := list[0].ts, list[0].ts+2000
					var n, s int64
					for _, e := range list {
						if e.ts > end { // a gap: close the session (touching ends merge)
							oracle[fmt.Sprintf("%s [%d,%d)", u, start, end)] = map[string]int64{"n": n, "s": s}
							start, n, s = e.ts, 0, 0
						}
						end = max(end, e.ts+2000)
						n, s = n+1, s+e.am
					}
					oracle[fmt.Sprintf("%s [%d,%d)", u, start, end)] = map[string]int64{"n": n, "s": s}
				}
			}
			p := mustCompile(t, "SET @watermark_delay = '20s'; SELECT user, COUNT(*) AS n, SUM(amount) AS s, WINDOW_START() AS ws, WINDOW_END() AS we FROM orders GROUP BY user, "+window)
			w, _ := p.NewWorker(nil, nil, Limits{})
			var steps []step
			for i, e := range evs {
				steps = append(steps, ev("orders", fmt.Sprint(i), fmt.Sprintf(`{"user":%q,"ts":%d,"amount":%d}`, e.user, e.ts, e.am), 0))
			}
			out := run(t, w, steps)
			for _, r := range w.Flush() {
				out = append(out, r.Key+" "+string(r.Value))
			}
			got := map[string]string{}
			for _, line := range out {
				if strings.HasPrefix(line, "ERR") {
					t.Fatalf("seed %d %s: %s", seed, kind, line)
				}
				var user string
				var n, s, ws, we int64
				val := line[strings.IndexByte(line, ' ')+1:]
				if _, err := fmt.Sscanf(val, `{"user":%q,"n":%d,"s":%d,"ws":%d,"we":%d}`, &user, &n, &s, &ws, &we); err != nil {
					t.Fatalf("seed %d %s: row %s: %v", seed, kind, line, err)
				}
				label := fmt.Sprintf("%s [%d,%d)", user, ws, we)
				if _, dup := got[label]; dup {
					t.Fatalf("seed %d %s: window %s emitted twice", seed, kind, label)
				}
				got[label] = fmt.Sprintf("n=%d s=%d", n, s)
			}
			if len(got) != len(oracle) {
				t.Fatalf("seed %d %s: %d windows, want %d", seed, kind, len(got), len(oracle))
			}
			for label, o := range oracle {
				if want := fmt.Sprintf("n=%d s=%d", o["n"], o["s"]); got[label] != want {
					t.Fatalf("seed %d %s: window %s: %q, want %q", seed, kind, label, got[label], want)
				}
			}
		}
	}
}

// TestJoinAgainstOracle: with nothing late, a stream join emits exactly the
// pairs of equal key within the bound, each once, whatever the arrival
// order of the two streams.
func TestJoinAgainstOracle(t *testing.T) {
	type evt struct {
		stream string
		id     int
		key    int
		ts     int64
	}
	p := mustCompile(t, `SET @watermark_delay = '1m';
		SELECT o.n AS o, p.n AS p FROM orders o JOIN payments p ON o.k = p.k AND p.ts BETWEEN o.ts - INTERVAL 1 SECOND AND o.ts + INTERVAL 3 SECOND`)
	for seed := int64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewSource(seed))
		var evs []evt
		for i := 0; i < 150; i++ {
			s := "orders"
			if r.Intn(2) == 0 {
				s = "payments"
			}
			evs = append(evs, evt{stream: s, id: i, key: r.Intn(5), ts: int64(r.Intn(30_000))})
		}
		want := map[string]bool{}
		for _, o := range evs {
			for _, q := range evs {
				if o.stream == "orders" && q.stream == "payments" && o.key == q.key && q.ts >= o.ts-1000 && q.ts <= o.ts+3000 {
					want[fmt.Sprintf(`{"o":%d,"p":%d}`, o.id, q.id)] = true
				}
			}
		}
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		w, _ := p.NewWorker(nil, nil, Limits{})
		var steps []step
		for _, e := range evs {
			steps = append(steps, ev(e.stream, "k", fmt.Sprintf(`{"n":%d,"k":%d,"ts":%d}`, e.id, e.key, e.ts), 0))
		}
		got := map[string]bool{}
		for _, line := range run(t, w, steps) {
			if strings.HasPrefix(line, "ERR") {
				t.Fatalf("seed %d: %s", seed, line)
			}
			v := strings.TrimPrefix(line, "k ")
			if got[v] {
				t.Fatalf("seed %d: pair %s twice", seed, v)
			}
			got[v] = true
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d pairs, want %d", seed, len(got), len(want))
		}
		for v := range want {
			if !got[v] {
				t.Fatalf("seed %d: pair %s missing", seed, v)
			}
		}
	}
}

// TestPatternAgainstOracle: with nothing late, FOLLOWED_BY over two streams
// arriving in any order matches as a plain walk over the events in
// event-time order does: each first event is completed by the first later
// second event of its key within the time.
func TestPatternAgainstOracle(t *testing.T) {
	type evt struct {
		stream   string
		id, user int
		ts       int64
	}
	p := mustCompile(t, `SET @event_time = 'ts', @watermark_delay = '1m';
		SELECT a.n AS a, b.n AS b FROM logins a JOIN payments b ON FOLLOWED_BY(a, b, '5s') AND a.u = b.u`)
	for seed := int64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewSource(seed))
		var evs []evt
		for i := 0; i < 150; i++ {
			s := "logins"
			if r.Intn(2) == 0 {
				s = "payments"
			}
			evs = append(evs, evt{stream: s, id: i, user: r.Intn(4), ts: int64(r.Intn(30_000))})
		}
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		// The oracle walks the events in (event time, arrival) order.
		order := make([]int, len(evs))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return evs[order[i]].ts < evs[order[j]].ts })
		var want []string
		pending := map[int][]evt{}
		for _, i := range order {
			e := evs[i]
			if e.stream == "payments" {
				var kept []evt
				for _, a := range pending[e.user] {
					if a.ts <= e.ts && e.ts <= a.ts+5000 {
						want = append(want, fmt.Sprintf(`{"a":%d,"b":%d}`, a.id, e.id))
						continue
					}
					kept = append(kept, a)
				}
				pending[e.user] = kept
				continue
			}
			pending[e.user] = append(pending[e.user], e)
		}
		w, _ := p.NewWorker(nil, nil, Limits{})
		var steps []step
		for _, e := range evs {
			steps = append(steps, ev(e.stream, "k", fmt.Sprintf(`{"n":%d,"u":%d,"ts":%d}`, e.id, e.user, e.ts), 0))
		}
		var got []string
		for _, line := range run(t, w, steps) {
			got = append(got, strings.TrimPrefix(line, "k "))
		}
		for _, r := range w.Flush() {
			got = append(got, string(r.Value))
		}
		if len(want) < 10 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("seed %d:\n got  %v\n want %v", seed, got, want)
		}
	}
}
