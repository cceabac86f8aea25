package pubsub

import (
	"context"
	"time"
)

// Target carries the workload: it publishes and consumes bytes on named
// streams through one product's client.
type Target interface {
	// Name is the target's name in reports: causeway, kafka, nats, redis.
	Name() string
	// Prepare creates the plan's streams and subscriptions so that
	// consumers see every message published after it returns.
	Prepare(ctx context.Context, p Plan) error
	// NewProducer connects producer id to stream.
	NewProducer(ctx context.Context, id int, stream string) (Producer, error)
	// NewConsumer attaches a consumer and starts its receive loop, which
	// calls deliver for each message (from any goroutine, possibly
	// concurrently) and acknowledges it; errors it cannot recover from go to
	// fail. It returns once the consumer is attached.
	NewConsumer(ctx context.Context, c ConsumerSpec, deliver Deliver, fail func(error)) (Consumer, error)
	// Cleanup deletes what Prepare created.
	Cleanup(ctx context.Context, p Plan) error
	// Close releases the target's connections.
	Close() error
}

// Plan is what a run needs on the target.
type Plan struct {
	Streams          []string
	Partitions       int
	Subscriptions    []string
	SubscriptionType string // exclusive, shared or failover
	// MaxInFlight bounds each producer's messages published but not yet
	// acknowledged; Publish blocks beyond it.
	MaxInFlight int
	// ReceiveQueue bounds each consumer's messages fetched but not yet
	// delivered.
	ReceiveQueue int
}

// ConsumerSpec names one consumer.
type ConsumerSpec struct {
	ID           int
	Stream       string
	Subscription string
	Type         string
}

// Deliver is called with each received payload and the time it arrived.
// The payload is only valid during the call.
type Deliver func(payload []byte, at time.Time)

// Producer publishes to one stream.
type Producer interface {
	// Publish queues payload, which it must not retain after returning, and
	// calls done once with the outcome, from any goroutine. It blocks while
	// MaxInFlight messages are unacknowledged.
	Publish(payload []byte, done func(error))
	// Flush waits until every published message has completed.
	Flush(ctx context.Context) error
	Close() error
}

// Consumer is an attached consumer; Close stops its receive loop.
type Consumer interface {
	Close() error
}
