package engine

import (
	"errors"
	"math/rand"
	"testing"
	"time"
)

// FuzzCompile: any query text compiles or gives a *CompileError; never a
// panic. A compiled plan runs over an event without panicking.
func FuzzCompile(f *testing.F) {
	for _, q := range propertyQueries {
		f.Add(q.q)
	}
	for _, q := range []string{
		"SELECT * FROM orders",
		"SELECT a.b.c, json_extract(d, '$.x[0]') FROM orders WHERE x LIKE 'a%' AND y IN (1, 'b', NULL)",
		"SELECT o.a FROM orders o JOIN users u ON u._key = o.user",
		"SET @event_time = 'ts'; SELECT COUNT(*) FROM orders GROUP BY TUMBLE(ts, '1s')",
		"SELECT CAST(a AS SIGNED), CASE WHEN a THEN 1 END, -a, NOT a, a DIV 0 FROM orders",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := Compile(q, testCat)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q): %T %v, want *CompileError", q, err, err)
			}
			return
		}
		w, err := p.NewWorker(nil, propertyDocs, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range p.Inputs {
			w.Process(Event{Stream: in, Position: uint64(i + 1), Key: "k", Payload: []byte(`{"a":1,"b":"x","ts":5,"user":"u0","d":{"x":[1]}}`), Time: t0})
		}
		w.Advance(t0.Add(1e12))
		if _, err := w.Snapshot(); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
	})
}

// FuzzProcess: any payload (and any snapshot bytes) gives rows or errors,
// never a panic, for every kind of query; restoring a worker's snapshot
// works.
func FuzzProcess(f *testing.F) {
	f.Add(0, []byte(`{"user":"u1","amount":3,"ts":1767225601000}`), []byte(nil))
	f.Add(1, []byte(`{"user":["x"],"amount":{"a":1},"ts":"2026-01-01T00:00:00Z"}`), []byte(`{"v":1}`))
	f.Add(12, []byte(`{"user":"u1","amount":1e308,"ts":-1e300}`), []byte(`garbage`))
	f.Add(14, []byte(`{"user":"\u0000\xff","amount":null}`), []byte(nil))
	plans := make([]*Plan, len(propertyQueries))
	for i, pq := range propertyQueries {
		plans[i] = mustCompile(f, pq.q)
	}
	f.Fuzz(func(t *testing.T, qi int, payload, snap []byte) {
		if qi < 0 {
			qi = -qi
		}
		pq := propertyQueries[qi%len(propertyQueries)]
		p := plans[qi%len(plans)]
		if snap != nil {
			if w, err := p.NewWorker(snap, propertyDocs, pq.lim); err == nil {
				w.Process(Event{Stream: p.Inputs[0], Payload: payload, Time: t0})
			} else if !errors.Is(err, ErrState) {
				t.Fatalf("NewWorker(bad snapshot): %v, want ErrState", err)
			}
		}
		w, err := p.NewWorker(nil, propertyDocs, pq.lim)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			for _, in := range p.Inputs {
				w.Process(Event{Stream: in, Position: uint64(i + 1), Key: "k", Payload: payload, Time: t0.Add(time.Duration(i) * time.Second)})
			}
		}
		w.Advance(t0.Add(1e13))
		s, err := w.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		if _, err := p.NewWorker(s, propertyDocs, pq.lim); err != nil {
			t.Fatalf("restore: %v", err)
		}
	})
}

// FuzzRestore: snapshot bytes (seeded with real snapshots of every query,
// then mutated) restore or give ErrState, never a panic; a restored
// worker runs and snapshots again.
func FuzzRestore(f *testing.F) {
	plans := make([]*Plan, len(propertyQueries))
	for i, pq := range propertyQueries {
		plans[i] = mustCompile(f, pq.q)
		w, _ := plans[i].NewWorker(nil, propertyDocs, pq.lim)
		r := rand.New(rand.NewSource(int64(i)))
		for _, s := range randomSteps(r, 60) {
			if s.adv {
				w.Advance(at(s.pub))
				continue
			}
			w.Process(Event{Stream: s.stream, Key: s.key, Payload: []byte(s.payload), Time: at(s.pub)})
		}
		snap, err := w.Snapshot()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(i, snap)
	}
	f.Fuzz(func(t *testing.T, qi int, snap []byte) {
		if qi < 0 {
			qi = -qi
		}
		qi %= len(plans)
		w, err := plans[qi].NewWorker(snap, propertyDocs, propertyQueries[qi].lim)
		if err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("NewWorker: %v, want ErrState", err)
			}
			return
		}
		r := rand.New(rand.NewSource(1))
		for _, s := range randomSteps(r, 30) {
			if s.adv {
				w.Advance(at(s.pub))
				continue
			}
			w.Process(Event{Stream: s.stream, Key: s.key, Payload: []byte(s.payload), Time: at(s.pub)})
		}
		again, err := w.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plans[qi].NewWorker(again, propertyDocs, propertyQueries[qi].lim); err != nil {
			t.Fatalf("restoring a restored worker's snapshot: %v", err)
		}
	})
}
