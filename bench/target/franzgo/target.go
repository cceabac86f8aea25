// Package franzgo carries the pubsub workload over the Kafka protocol with
// franz-go (github.com/twmb/franz-go): one client per producer (idempotent,
// acks=all, franz-go's own batching and up to five produce requests in
// flight) and group consumers that commit what they polled. It drives
// Causeway's Kafka listener (`causeway serve --kafka ADDR`) or any Kafka
// broker.
package franzgo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/causeway/causeway/bench/pubsub"
)

// Client settings.
const (
	fetchMaxWait   = 100 * time.Millisecond
	fetchMaxBytes  = 16 << 20
	commitInterval = 100 * time.Millisecond
	adminTimeout   = 30 * time.Second
)

// Target is a Kafka bootstrap address.
type Target struct {
	addr string
	plan pubsub.Plan
}

// New returns a target for the broker at addr (host:port).
func New(addr string) (*Target, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("franzgo: address %q: %w", addr, err)
	}
	return &Target{addr: addr}, nil
}

// Name is "kafka".
func (t *Target) Name() string { return "kafka" }

// admin runs fn with an admin client of the cluster.
func (t *Target) admin(ctx context.Context, fn func(*kadm.Client) error) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addr))
	if err != nil {
		return fmt.Errorf("franzgo: admin client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	return fn(kadm.NewClient(cl))
}

// Prepare creates one topic per stream with the plan's partitions.
func (t *Target) Prepare(ctx context.Context, p pubsub.Plan) error {
	t.plan = p
	return t.admin(ctx, func(adm *kadm.Client) error {
		rs, err := adm.CreateTopics(ctx, int32(p.Partitions), 1, nil, p.Streams...)
		if err != nil {
			return fmt.Errorf("franzgo: create topics: %w", err)
		}
		if err := rs.Error(); err != nil {
			return fmt.Errorf("franzgo: create topics: %w", err)
		}
		return nil
	})
}

// Cleanup deletes the topics.
func (t *Target) Cleanup(ctx context.Context, p pubsub.Plan) error {
	return t.admin(ctx, func(adm *kadm.Client) error {
		rs, err := adm.DeleteTopics(ctx, p.Streams...)
		if err != nil {
			return fmt.Errorf("franzgo: delete topics: %w", err)
		}
		if err := rs.Error(); err != nil {
			return fmt.Errorf("franzgo: delete topics: %w", err)
		}
		return nil
	})
}

// Close does nothing: producers and consumers own their clients.
func (t *Target) Close() error { return nil }

type producer struct{ cl *kgo.Client }

// NewProducer returns a client producing to stream: idempotent, acks=all,
// franz-go's default partitioner, at most MaxInFlight records buffered
// (Produce blocks beyond it).
func (t *Target) NewProducer(ctx context.Context, id int, stream string) (pubsub.Producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addr), kgo.DefaultProduceTopic(stream),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(max(t.plan.MaxInFlight, 1)),
		kgo.ClientID(fmt.Sprintf("bench-producer-%d", id)))
	if err != nil {
		return nil, fmt.Errorf("franzgo: producer %d: %w", id, err)
	}
	return &producer{cl: cl}, nil
}

func (p *producer) Publish(payload []byte, done func(error)) {
	r := &kgo.Record{Value: append([]byte(nil), payload...)}
	p.cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) { done(err) })
}

func (p *producer) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

func (p *producer) Close() error {
	p.cl.Close()
	return nil
}

type consumer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// NewConsumer joins the group named after the subscription, from the
// earliest offset, and commits what it polled every commitInterval (and
// on close).
func (t *Target) NewConsumer(ctx context.Context, spec pubsub.ConsumerSpec, deliver pubsub.Deliver, fail func(error)) (pubsub.Consumer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addr), kgo.ConsumeTopics(spec.Stream),
		kgo.ConsumerGroup(spec.Subscription), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(fetchMaxWait), kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.AutoCommitInterval(commitInterval), kgo.ClientID(fmt.Sprintf("bench-consumer-%d", spec.ID)))
	if err != nil {
		return nil, fmt.Errorf("franzgo: consumer %d: %w", spec.ID, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	c := &consumer{cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for rctx.Err() == nil {
			fs := cl.PollFetches(rctx)
			if fs.IsClientClosed() {
				return
			}
			at := time.Now()
			fs.EachError(func(topic string, partition int32, err error) {
				if rctx.Err() == nil && !errors.Is(err, context.Canceled) {
					fail(fmt.Errorf("franzgo: fetch %s/%d: %w", topic, partition, err))
				}
			})
			fs.EachRecord(func(r *kgo.Record) { deliver(r.Value, at) })
		}
	}()
	return c, nil
}

func (c *consumer) Close() error {
	c.cancel()
	<-c.done
	c.cl.Close() // commits what was polled and leaves the group
	return nil
}
