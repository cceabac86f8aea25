package subscription

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BenchmarkDispatcher measures the pure core: dispatch to 4 shared consumers
// and individual acks, per message.
func BenchmarkDispatcher(b *testing.B) {
	d, _ := benchDispatcher(b)
	now := epoch
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(256, b.N-done)
		d.LogEnd(uint64(done + n))
		as := d.Dispatch(now, nil, n)
		for _, a := range as {
			if err := d.Ack(a.Consumer, a.Offset); err != nil {
				b.Fatal(err)
			}
		}
		d.Tick(now)
		done += len(as)
	}
}

// benchDispatcher is a shared subscription's dispatcher with four consumers.
func benchDispatcher(b *testing.B) (*Dispatcher, []ConsumerID) {
	d, err := NewDispatcher(DispatcherConfig{Name: "bench", Type: Shared, MaxUnackedPerConsumer: 1000}, CursorState{}, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	var ids []ConsumerID
	for i := range 4 {
		id, err := d.AddConsumer(ConsumerConfig{Name: fmt.Sprint(i), Type: Shared, Permits: maxPermits, AckTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	return d, ids
}

// BenchmarkDispatcherAcksOutOfOrder is BenchmarkDispatcher with the acks of
// four shared consumers arriving as they do from four clients: each
// consumer acks its own messages in order, but the consumers take turns
// 64 acks at a time, each 250 messages behind its dispatch, so the acked
// set holds dozens of ranges with holes between them.
func BenchmarkDispatcherAcksOutOfOrder(b *testing.B) {
	d, ids := benchDispatcher(b)
	pending := map[ConsumerID][]uint64{}
	now := epoch
	b.ReportAllocs()
	b.ResetTimer()
	turn, samples, ranges := 0, 0, 0
	for done := 0; done < b.N; {
		n := min(256, b.N-done)
		d.LogEnd(uint64(done + n))
		for _, a := range d.Dispatch(now, nil, n) {
			pending[a.Consumer] = append(pending[a.Consumer], a.Offset)
			done++
		}
		for range 4 {
			id := ids[turn%len(ids)]
			turn++
			q := pending[id]
			k := min(64, max(len(q)-250, 0))
			for _, off := range q[:k] {
				if err := d.Ack(id, off); err != nil {
					b.Fatal(err)
				}
			}
			pending[id] = q[k:]
			samples++
			ranges += len(d.acked.rs)
		}
		d.Tick(now)
	}
	b.ReportMetric(float64(ranges)/float64(max(samples, 1)), "ranges")
}

// BenchmarkSubscription measures the shell end to end: one shared consumer
// in push mode (a permit per message received) acking every message, with
// the cursor persisted to Pebble on disk (pebble.Sync writes, coalesced).
func BenchmarkSubscription(b *testing.B) {
	src := newMemSource()
	src.publish(b.N)
	db, err := pebble.Open(b.TempDir(), &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	store := &countingStore{Store: NewPebbleStore(db)}
	s, err := Open(Config{Name: "bench", Type: Shared, Initial: Earliest}, src, store, "bench")
	if err != nil {
		b.Fatal(err)
	}
	store.saves.Store(0)
	c, err := s.Attach(ConsumerSpec{Type: Shared, Initial: Earliest})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d := <-c.Messages()
		c.AddPermits(1)
		if err := c.Ack(d.Record.Offset); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(store.saves.Load())/float64(b.N), "cursor-writes/msg")
}
