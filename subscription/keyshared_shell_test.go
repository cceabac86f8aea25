package subscription

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/segment"
)

// publishKeys appends one record per key to src.
func publishKeys(t *testing.T, src testSource, keys []string) {
	t.Helper()
	switch s := src.(type) {
	case *memSource:
		s.mu.Lock()
		for _, k := range keys {
			off := s.start + uint64(len(s.recs))
			s.recs = append(s.recs, segment.Record{Offset: off, Key: k, Payload: fmt.Appendf(nil, "m%d", off)})
		}
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	case segSource:
		recs := make([]segment.Record, len(keys))
		for i, k := range keys {
			recs[i] = segment.Record{Key: k, Payload: []byte("m")}
		}
		if _, err := s.Append(recs); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown source %T", src)
	}
}

// TestKeySharedEndToEnd runs Key_Shared through the shell: consumers that
// ack as they go join and leave while messages of a few keys are
// published; every message is acknowledged in the end, a key's first
// deliveries are in offset order, and a key is never delivered to a
// consumer while another one holds an unacknowledged message of it.
func TestKeySharedEndToEnd(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		s := open(t, Config{Type: KeyShared, Initial: Earliest}, src, NewMemStore())
		const total, nkeys = 3000, 17
		keyOf := func(off uint64) string { return fmt.Sprintf("key-%d", off*7%nkeys) }

		var mu sync.Mutex
		first := map[string]uint64{}           // key -> last offset first delivered
		seen := map[uint64]bool{}              // offsets delivered at least once
		held := map[string]map[uint64]string{} // key -> offset -> consumer: received, not acked
		closed := map[string]bool{}
		var failure string
		fail := func(format string, args ...any) {
			if failure == "" {
				failure = fmt.Sprintf(format, args...)
			}
		}

		var wg sync.WaitGroup
		run := func(c *Consumer) {
			defer wg.Done()
			var mine []Delivery // received, not acked yet: acked in small batches
			for {
				select {
				case d := <-c.Messages():
					off, k := d.Record.Offset, d.Record.Key
					mu.Lock()
					if closed[c.Name()] {
						mu.Unlock()
						return
					}
					if k != keyOf(off) {
						fail("offset %d has key %q", off, k)
					}
					for o, h := range held[k] {
						if h != c.Name() {
							fail("%s got offset %d of %q while %s holds %d", c.Name(), off, k, h, o)
						}
					}
					if !seen[off] {
						if last, ok := first[k]; ok && off < last {
							fail("key %q: offset %d first delivered after %d", k, off, last)
						}
						first[k] = off
						seen[off] = true
					}
					if held[k] == nil {
						held[k] = map[uint64]string{}
					}
					held[k][off] = c.Name()
					mu.Unlock()
					mine = append(mine, d)
					if len(mine) < 5 && len(c.Messages()) > 0 {
						continue
					}
					for _, d := range mine {
						// Forget before acking: once acked, the key may go
						// elsewhere.
						mu.Lock()
						delete(held[d.Record.Key], d.Record.Offset)
						mu.Unlock()
						if err := c.Ack(d.Record.Offset); err != nil {
							return // detached meanwhile: redelivered elsewhere
						}
					}
					c.AddPermits(len(mine))
					mine = mine[:0]
				case <-c.Done():
					return
				}
			}
		}
		start := func(name string) *Consumer {
			c := attach(t, s, ConsumerSpec{Name: name, Type: KeyShared, Initial: Earliest, ReceiverQueue: 20})
			wg.Add(1)
			go run(c)
			return c
		}
		leave := func(c *Consumer) {
			mu.Lock()
			defer mu.Unlock()
			c.Close()
			closed[c.Name()] = true
			for _, offs := range held {
				for o, h := range offs {
					if h == c.Name() {
						delete(offs, o)
					}
				}
			}
		}
		live := []*Consumer{start("c0"), start("c1"), start("c2")}
		next := 3
		for off := uint64(0); off < total; off += 100 {
			keys := make([]string, 100)
			for i := range keys {
				keys[i] = keyOf(off + uint64(i))
			}
			publishKeys(t, src, keys)
			// Every 300 messages one consumer leaves and another joins.
			if off%300 == 200 {
				leave(live[0])
				live = append(live[1:], start(fmt.Sprintf("c%d", next)))
				next++
			}
		}
		deadline := time.Now().Add(waitFor)
		for s.MarkDelete() < total {
			if time.Now().After(deadline) {
				t.Fatalf("mark-delete %d of %d: %+v", s.MarkDelete(), total, s.Stats())
			}
			s.sync()
		}
		for _, c := range live {
			leave(c)
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if failure != "" {
			t.Fatal(failure)
		}
		if len(seen) != total {
			t.Fatalf("%d of %d messages delivered", len(seen), total)
		}
		keys := make([]string, 0, len(first))
		for k := range first {
			keys = append(keys, k)
		}
		if slices.Sort(keys); len(keys) != nkeys {
			t.Fatalf("keys delivered: %v", keys)
		}
	})
}
