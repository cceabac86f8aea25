package pubsub

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Workload bounds.
const (
	maxMessageBytes      = 64 << 20
	maxProducers         = 10000
	maxConsumers         = 10000
	maxStreams           = 1000
	maxPartitions        = 1000
	maxSubscriptions     = 100
	defaultMaxInFlight   = 10000
	defaultReceiveQueue  = 1000
	defaultDrainTimeout  = 30 * time.Second
	defaultDuration      = 30 * time.Second
	defaultWarmup        = 5 * time.Second
	defaultStreamPrefix  = "bench"
	maxRunWithoutTimeout = 24 * time.Hour
	maxStreamNameBytes   = 100 // room for -partition-{i} within a 128-byte name
)

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("pubsub: invalid configuration")

// Config is the workload.
type Config struct {
	MessageBytes int
	// Rate is messages per second over all producers; 0 = as fast as the
	// target acknowledges (bounded by MaxInFlight per producer).
	Rate float64
	// Duration of the load, or Count messages in total when Count > 0.
	Duration time.Duration
	Count    int64
	// Warmup is kept out of the latency figures and rates.
	Warmup                                       time.Duration
	Producers, Consumers, Subscriptions, Streams int
	Partitions                                   int
	SubscriptionType                             string // exclusive (default), shared, failover
	StreamPrefix                                 string // stream names are {prefix}-{run id}-{i}
	// Stream, when set, is the run's one stream instead of generated
	// names (with Partitions > 1: Stream-partition-0..P-1), e.g. streams
	// created beforehand with a chosen replication factor.
	Stream                    string
	MaxInFlight, ReceiveQueue int
	DrainTimeout              time.Duration
	Fsync                     string // the target's fsync setting, recorded only
	Label                     string // recorded only
	Progress                  io.Writer
	KeepStreams               bool // skip Cleanup
	Extra                     map[string]string
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.MessageBytes == 0 {
		c.MessageBytes = 1024
	}
	if c.Duration == 0 && c.Count == 0 {
		c.Duration = defaultDuration
	}
	if c.Producers == 0 {
		c.Producers = 1
	}
	if c.Subscriptions == 0 {
		c.Subscriptions = 1
	}
	if c.Streams == 0 {
		c.Streams = 1
	}
	if c.Partitions == 0 {
		c.Partitions = 1
	}
	if c.SubscriptionType == "" {
		c.SubscriptionType = "exclusive"
	}
	c.SubscriptionType = strings.ToLower(c.SubscriptionType)
	if c.StreamPrefix == "" {
		c.StreamPrefix = defaultStreamPrefix
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = defaultMaxInFlight
	}
	if c.ReceiveQueue == 0 {
		c.ReceiveQueue = defaultReceiveQueue
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = defaultDrainTimeout
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.MessageBytes < StampBytes || c.MessageBytes > maxMessageBytes {
		bad("message size %d: want %d..%d bytes", c.MessageBytes, StampBytes, maxMessageBytes)
	}
	if c.Rate < 0 {
		bad("rate %v: want >= 0 (0 = max)", c.Rate)
	}
	if c.Count < 0 || c.Duration < 0 || c.Warmup < 0 || c.DrainTimeout < 0 {
		bad("count, duration, warm-up and drain timeout must not be negative")
	}
	if c.Count == 0 && c.Duration > maxRunWithoutTimeout {
		bad("duration %v: at most %v", c.Duration, maxRunWithoutTimeout)
	}
	if c.Count == 0 && c.Duration > 0 && c.Warmup >= c.Duration {
		bad("warm-up %v must be shorter than the duration %v", c.Warmup, c.Duration)
	}
	if c.Count > 0 && c.Count/int64(max(c.Producers, 1)) >= maxTrackedSeq {
		bad("count %d: at most %d per producer", c.Count, maxTrackedSeq-1)
	}
	if c.Producers < 1 || c.Producers > maxProducers {
		bad("producers %d: want 1..%d", c.Producers, maxProducers)
	}
	if c.Consumers < 0 || c.Consumers > maxConsumers {
		bad("consumers %d: want 0..%d per subscription", c.Consumers, maxConsumers)
	}
	if c.Subscriptions < 1 || c.Subscriptions > maxSubscriptions {
		bad("subscriptions %d: want 1..%d", c.Subscriptions, maxSubscriptions)
	}
	if c.Streams < 1 || c.Streams > maxStreams {
		bad("streams %d: want 1..%d", c.Streams, maxStreams)
	}
	if c.Stream != "" {
		if !validStreamName(c.Stream) {
			bad("stream %q: want 1..%d letters, digits, '.', '_' or '-', not starting with '_' or '.'", c.Stream, maxStreamNameBytes)
		}
		if c.Streams != 1 {
			bad("a named stream (%s) is one stream, not %d", c.Stream, c.Streams)
		}
	}
	if c.Partitions < 1 || c.Partitions > maxPartitions {
		bad("partitions %d: want 1..%d", c.Partitions, maxPartitions)
	}
	switch c.SubscriptionType {
	case "exclusive":
		if c.Consumers > 1 {
			bad("an exclusive subscription takes one consumer, not %d (use shared or failover, or more subscriptions)", c.Consumers)
		}
	case "shared", "failover":
	default:
		bad("subscription type %q: want exclusive, shared or failover", c.SubscriptionType)
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 1<<20 {
		bad("max in flight %d: want 1..%d", c.MaxInFlight, 1<<20)
	}
	if c.ReceiveQueue < 1 || c.ReceiveQueue > 50000 {
		bad("receive queue %d: want 1..50000", c.ReceiveQueue)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// validStreamName reports whether name is a plain stream name the bench
// can use on every target.
func validStreamName(name string) bool {
	if name == "" || len(name) > maxStreamNameBytes || name[0] == '_' || name[0] == '.' {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
