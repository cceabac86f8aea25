// Package natsjs carries the pubsub workload over NATS JetStream with
// nats.go: file-storage streams, asynchronous publishing with acks
// (PublishAsync, bounded to MaxInFlight per producer) and durable pull
// consumers that acknowledge every message (AckExplicit). It is used to
// put Causeway side by side with NATS on the same machine.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/causeway/causeway/bench/pubsub"
)

// maxAckPendingMessages bounds a durable consumer's unacknowledged messages
// (Causeway's default per consumer is 50000, Pulsar's receiver queue 1000).
const maxAckPendingMessages = 50000

// pendingSlack lets nats.go's own bound on unacknowledged publishes sit
// above ours (MaxInFlight), so that PublishAsync never stalls: the
// completion goroutine holds one future and Publish one more while the
// bounded channel is full.
const pendingSlack = 16

// Target is a NATS server with JetStream.
type Target struct {
	url  string
	nc   *nats.Conn
	js   jetstream.JetStream
	plan pubsub.Plan
}

// New connects to the server at url (nats://host:port).
func New(url string) (*Target, error) {
	nc, err := nats.Connect(url, nats.Name("causeway-bench admin"))
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	return &Target{url: url, nc: nc, js: js}, nil
}

// Name is "nats".
func (t *Target) Name() string { return "nats" }

// Prepare creates one file-storage stream per workload stream (subject =
// stream name) and one durable consumer per subscription.
func (t *Target) Prepare(ctx context.Context, p pubsub.Plan) error {
	if p.Partitions > 1 {
		return errors.New("natsjs: partitions are not supported (one JetStream stream per workload stream)")
	}
	t.plan = p
	for _, s := range p.Streams {
		if _, err := t.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: s, Subjects: []string{s}, Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Replicas: 1,
		}); err != nil {
			return fmt.Errorf("natsjs: create stream %s: %w", s, err)
		}
		for _, sub := range p.Subscriptions {
			if _, err := t.js.CreateConsumer(ctx, s, jetstream.ConsumerConfig{
				Durable: sub, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
				MaxAckPending: maxAckPendingMessages,
			}); err != nil {
				return fmt.Errorf("natsjs: create consumer %s on %s: %w", sub, s, err)
			}
		}
	}
	return nil
}

// Cleanup deletes the streams (and so their consumers).
func (t *Target) Cleanup(ctx context.Context, p pubsub.Plan) error {
	var errs []error
	for _, s := range p.Streams {
		if err := t.js.DeleteStream(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("natsjs: delete stream %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

// Close closes the admin connection.
func (t *Target) Close() error {
	t.nc.Close()
	return nil
}

type pending struct {
	f    jetstream.PubAckFuture
	done func(error)
}

type producer struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	subject string
	futures chan pending // bounded by MaxInFlight: Publish blocks when full
	acked   chan struct{}
	open    atomic.Int64 // published, callback not yet returned
}

// NewProducer opens a connection of its own and publishes asynchronously;
// a goroutine completes the acks in order.
func (t *Target) NewProducer(ctx context.Context, id int, stream string) (pubsub.Producer, error) {
	nc, err := nats.Connect(t.url, nats.Name(fmt.Sprintf("causeway-bench producer %d", id)))
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(t.plan.MaxInFlight+pendingSlack))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	p := &producer{nc: nc, js: js, subject: stream, futures: make(chan pending, t.plan.MaxInFlight), acked: make(chan struct{})}
	go p.complete()
	return p, nil
}

func (p *producer) complete() {
	defer close(p.acked)
	for x := range p.futures {
		select {
		case <-x.f.Ok():
			x.done(nil)
		case err := <-x.f.Err():
			x.done(err)
		}
		p.open.Add(-1)
	}
}

func (p *producer) Publish(payload []byte, done func(error)) {
	f, err := p.js.PublishAsync(p.subject, append([]byte(nil), payload...))
	if err != nil {
		done(err)
		return
	}
	p.open.Add(1)
	p.futures <- pending{f: f, done: done}
}

func (p *producer) Flush(ctx context.Context) error {
	for p.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (p *producer) Close() error {
	close(p.futures)
	<-p.acked
	p.nc.Close()
	return nil
}

type consumer struct {
	nc *nats.Conn
	cc jetstream.ConsumeContext
}

// NewConsumer attaches to the subscription's durable consumer on a
// connection of its own and acknowledges each message after delivering it.
func (t *Target) NewConsumer(ctx context.Context, spec pubsub.ConsumerSpec, deliver pubsub.Deliver, fail func(error)) (pubsub.Consumer, error) {
	nc, err := nats.Connect(t.url, nats.Name(fmt.Sprintf("causeway-bench consumer %d", spec.ID)))
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	cons, err := js.Consumer(ctx, spec.Stream, spec.Subscription)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: consumer %s on %s: %w", spec.Subscription, spec.Stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		deliver(m.Data(), time.Now())
		if err := m.Ack(); err != nil {
			fail(err)
		}
	}, jetstream.PullMaxMessages(t.plan.ReceiveQueue), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrConnectionClosed) {
			fail(err)
		}
	}))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsjs: consume: %w", err)
	}
	return &consumer{nc: nc, cc: cc}, nil
}

func (c *consumer) Close() error {
	c.cc.Stop()
	c.nc.Close()
	return nil
}
