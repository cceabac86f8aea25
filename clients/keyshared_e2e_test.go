package clients_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/clients"
)

// TestClientKeyShared: two Key_Shared consumers of the Go client split the
// keys of a stream between them, each key wholly on one consumer and in
// order, and cumulative acks are refused as on Shared.
func TestClientKeyShared(t *testing.T) {
	ctx, c := startClientNode(t)

	typ, err := clients.ParseSubscriptionType("keyshared")
	if err != nil || typ != clients.KeyShared {
		t.Fatalf("ParseSubscriptionType(keyshared) = %q, %v", typ, err)
	}
	opts := clients.ConsumerOptions{Streams: []string{"ks"}, Subscription: "ks", Type: clients.KeyShared, InitialPosition: clients.Earliest}
	var consumers []*clients.Consumer
	for _, name := range []string{"a", "b"} {
		opts.ConsumerName = name
		cons, err := c.Subscribe(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		consumers = append(consumers, cons)
	}
	p, err := c.CreateProducer(ctx, clients.ProducerOptions{Stream: "ks", Name: "writer"})
	if err != nil {
		t.Fatal(err)
	}
	const keys, perKey = 16, 50
	for i := range perKey {
		for k := range keys {
			if _, err := p.Send(ctx, clients.ProducerMessage{Key: fmt.Sprint("k", k), Payload: []byte(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	owner := map[string]int{}
	next := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	var total int
	for ci, cons := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := total == keys*perKey
				mu.Unlock()
				if done {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
				m, err := cons.Receive(rctx)
				rcancel()
				if errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if o, ok := owner[m.Key]; ok && o != ci {
					mu.Unlock()
					errs <- fmt.Errorf("key %s delivered to consumers %d and %d", m.Key, o, ci)
					return
				}
				owner[m.Key] = ci
				if string(m.Payload) != fmt.Sprint(next[m.Key]) {
					mu.Unlock()
					errs <- fmt.Errorf("key %s: got %s, want %d", m.Key, m.Payload, next[m.Key])
					return
				}
				next[m.Key]++
				total++
				mu.Unlock()
				if err := cons.Ack(m); err != nil {
					errs <- err
					return
				}
				if err := cons.AckCumulative(m); !errors.Is(err, clients.ErrInvalidArgument) {
					errs <- fmt.Errorf("cumulative ack on Key_Shared: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	used := map[int]bool{}
	for _, o := range owner {
		used[o] = true
	}
	if len(used) != 2 {
		t.Fatalf("keys went to %d consumer(s), want both: %v", len(used), owner)
	}
}
