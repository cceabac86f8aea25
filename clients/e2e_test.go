package clients_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/clients"
)

// TestClientAgainstRealNode drives the client library against a real node
// on a loopback port: async batched producer, failover consumers with a
// takeover, a reader, and the exclusive refusal.
func TestClientAgainstRealNode(t *testing.T) {
	ctx, c := startClientNode(t)

	p, err := c.CreateProducer(ctx, clients.ProducerOptions{Stream: "e2e", Name: "writer"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		p.SendAsync(clients.ProducerMessage{Payload: []byte(fmt.Sprint(i)), Key: "k", Properties: map[string]string{"i": fmt.Sprint(i)}},
			func(_ wsproto.MessageID, err error) { errs <- err })
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}

	opts := clients.ConsumerOptions{Streams: []string{"e2e"}, Subscription: "fo", Type: clients.Failover, InitialPosition: clients.Earliest}
	opts.ConsumerName = "a"
	a, err := c.Subscribe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.ConsumerName = "b"
	b, err := c.Subscribe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n/2; i++ {
		m, err := a.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload) != fmt.Sprint(i) || m.Properties["i"] != fmt.Sprint(i) || m.Key != "k" {
			t.Fatalf("message %d: %q %v", i, m.Payload, m.Properties)
		}
		// Push mode returns permits on acks (Pulsar's rule), so a consumer
		// acking cumulatively must do so within its receiver queue (1000).
		if i%500 == 499 {
			if err := a.AckCumulative(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i := n / 2; i < n; i++ {
		m, err := b.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("after takeover got %q, want %d", m.Payload, i)
		}
		if err := b.Ack(m); err != nil {
			t.Fatal(err)
		}
	}

	r, err := c.CreateReader(ctx, clients.ReaderOptions{Stream: "e2e", StartMessageID: clients.StartEarliest})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		m, err := r.Next(ctx)
		if err != nil || string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("reader %d: %v %q", i, err, m.Payload)
		}
	}

	ex := clients.ConsumerOptions{Streams: []string{"e2e"}, Subscription: "ex"}
	if _, err := c.Subscribe(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, ex); !errors.Is(err, clients.ErrConsumerBusy) {
		t.Fatalf("second exclusive consumer: %v, want ErrConsumerBusy", err)
	}
}
