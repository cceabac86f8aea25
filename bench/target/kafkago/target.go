// Package kafkago carries the pubsub workload over the Kafka protocol with
// segmentio/kafka-go: asynchronous batching Writers (acks=all) and group
// Readers that commit what they delivered. It drives Causeway's Kafka
// listener (`causeway serve --kafka ADDR`) or any Kafka broker.
package kafkago

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	kafka "github.com/segmentio/kafka-go"

	"github.com/causeway/causeway/bench/pubsub"
)

// Client settings.
const (
	batchMaxMessages = 1000
	batchMaxBytes    = 1 << 20
	batchMaxDelay    = time.Millisecond
	fetchMaxBytes    = 10 << 20
	fetchMaxWait     = 100 * time.Millisecond
	commitInterval   = 100 * time.Millisecond
)

// Target is a Kafka bootstrap address.
type Target struct {
	addr string
	plan pubsub.Plan
}

// New returns a target for the broker at addr (host:port).
func New(addr string) (*Target, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("kafkago: address %q: %w", addr, err)
	}
	return &Target{addr: addr}, nil
}

// Name is "kafka".
func (t *Target) Name() string { return "kafka" }

// controller connects to the cluster's controller, where topics are
// created and deleted.
func (t *Target) controller(ctx context.Context) (*kafka.Conn, error) {
	c, err := (&kafka.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	b, err := c.Controller()
	_ = c.Close()
	if err != nil {
		return nil, err
	}
	return (&kafka.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(b.Host, strconv.Itoa(b.Port)))
}

// Prepare creates one topic per stream with the plan's partitions.
func (t *Target) Prepare(ctx context.Context, p pubsub.Plan) error {
	t.plan = p
	c, err := t.controller(ctx)
	if err != nil {
		return fmt.Errorf("kafkago: controller: %w", err)
	}
	defer c.Close()
	var topics []kafka.TopicConfig
	for _, s := range p.Streams {
		topics = append(topics, kafka.TopicConfig{Topic: s, NumPartitions: p.Partitions, ReplicationFactor: 1})
	}
	if err := c.CreateTopics(topics...); err != nil {
		return fmt.Errorf("kafkago: create topics: %w", err)
	}
	return nil
}

// Cleanup deletes the topics.
func (t *Target) Cleanup(ctx context.Context, p pubsub.Plan) error {
	c, err := t.controller(ctx)
	if err != nil {
		return fmt.Errorf("kafkago: controller: %w", err)
	}
	defer c.Close()
	if err := c.DeleteTopics(p.Streams...); err != nil {
		return fmt.Errorf("kafkago: delete topics: %w", err)
	}
	return nil
}

// Close does nothing: producers and consumers own their connections.
func (t *Target) Close() error { return nil }

type producer struct {
	w      *kafka.Writer
	window chan struct{} // one token per message in flight
}

// NewProducer returns an asynchronous Writer (acks=all, round-robin over
// partitions) bounded to MaxInFlight messages.
func (t *Target) NewProducer(ctx context.Context, id int, stream string) (pubsub.Producer, error) {
	p := &producer{window: make(chan struct{}, t.plan.MaxInFlight)}
	p.w = &kafka.Writer{
		Addr:         kafka.TCP(t.addr),
		Topic:        stream,
		Balancer:     &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll,
		Async:        true,
		BatchSize:    batchMaxMessages,
		BatchBytes:   batchMaxBytes,
		BatchTimeout: batchMaxDelay,
		MaxAttempts:  3,
		Completion: func(ms []kafka.Message, err error) {
			for _, m := range ms {
				if done, ok := m.WriterData.(func(error)); ok {
					done(err)
				}
				<-p.window
			}
		},
	}
	return p, nil
}

func (p *producer) Publish(payload []byte, done func(error)) {
	p.window <- struct{}{}
	m := kafka.Message{Value: append([]byte(nil), payload...), WriterData: done}
	// An asynchronous Writer reports errors through Completion; the
	// returned error is only for a closed writer or bad arguments.
	if err := p.w.WriteMessages(context.Background(), m); err != nil {
		<-p.window
		done(err)
	}
}

func (p *producer) Flush(ctx context.Context) error {
	for i := 0; i < cap(p.window); i++ {
		select {
		case p.window <- struct{}{}:
		case <-ctx.Done():
			for ; i > 0; i-- {
				<-p.window
			}
			return ctx.Err()
		}
	}
	for range cap(p.window) {
		<-p.window
	}
	return nil
}

func (p *producer) Close() error { return p.w.Close() }

type consumer struct {
	r      *kafka.Reader
	cancel context.CancelFunc
	done   chan struct{}
}

// NewConsumer joins the group named after the subscription, from the
// earliest offset, and commits every delivered message (asynchronously,
// every commitInterval).
func (t *Target) NewConsumer(ctx context.Context, spec pubsub.ConsumerSpec, deliver pubsub.Deliver, fail func(error)) (pubsub.Consumer, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:         []string{t.addr},
		GroupID:         spec.Subscription,
		Topic:           spec.Stream,
		StartOffset:     kafka.FirstOffset,
		MinBytes:        1,
		MaxBytes:        fetchMaxBytes,
		MaxWait:         fetchMaxWait,
		CommitInterval:  commitInterval,
		QueueCapacity:   t.plan.ReceiveQueue,
		ReadLagInterval: -1,
	})
	rctx, cancel := context.WithCancel(context.Background())
	c := &consumer{r: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			m, err := r.FetchMessage(rctx)
			if err != nil {
				if rctx.Err() == nil && !errors.Is(err, context.Canceled) {
					fail(err)
				}
				return
			}
			deliver(m.Value, time.Now())
			if err := r.CommitMessages(rctx, m); err != nil && rctx.Err() == nil {
				fail(err)
			}
		}
	}()
	return c, nil
}

func (c *consumer) Close() error {
	c.cancel()
	<-c.done
	return c.r.Close()
}
