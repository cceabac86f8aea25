package clients

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// SubscriptionType is how a subscription spreads messages over consumers.
type SubscriptionType string

// Subscription types, spelled as the subscriptionType query parameter.
const (
	Exclusive SubscriptionType = "Exclusive"
	Shared    SubscriptionType = "Shared"
	Failover  SubscriptionType = "Failover"
	// KeyShared spreads messages by key: one consumer per key at a time,
	// per-key order kept (Pulsar's Key_Shared).
	KeyShared SubscriptionType = "Key_Shared"
)

// ParseSubscriptionType accepts a subscription type in any letter case
// (key_shared also as keyshared).
func ParseSubscriptionType(s string) (SubscriptionType, error) {
	for _, t := range []SubscriptionType{Exclusive, Shared, Failover, KeyShared} {
		if strings.EqualFold(s, string(t)) || strings.EqualFold(s, strings.ReplaceAll(string(t), "_", "")) {
			return t, nil
		}
	}
	return "", fmt.Errorf("%w: subscription type %q: want exclusive, shared, failover or key_shared", ErrInvalidArgument, s)
}

// InitialPosition is where a new subscription starts.
type InitialPosition string

// Initial positions, spelled as the subscriptionInitialPosition parameter.
const (
	Latest   InitialPosition = "Latest"
	Earliest InitialPosition = "Earliest"
)

// ParseInitialPosition accepts an initial position in any letter case.
func ParseInitialPosition(s string) (InitialPosition, error) {
	for _, p := range []InitialPosition{Latest, Earliest} {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: initial position %q: want earliest or latest", ErrInvalidArgument, s)
}

// Receive queue bounds.
const (
	defaultReceiverQueueSize = 1000
	maxReceiverQueueSize     = 50000 // the server's bound
)

// ConsumerOptions configures a subscription.
type ConsumerOptions struct {
	// Streams names one stream (the v2 endpoint) or several (the v3
	// multi-stream endpoint, at most wsproto.MaxStreamsPerConsumer), each
	// written as ProducerOptions.Stream is.
	Streams         []string
	Subscription    string
	Type            SubscriptionType // default Exclusive
	InitialPosition InitialPosition  // default Latest
	ConsumerName    string
	PriorityLevel   int
	// ReceiverQueueSize bounds the messages received but not yet returned by
	// Receive (default 1000, at most 50000).
	ReceiverQueueSize int
	// PullMode makes the client grant the server permits as Receive takes
	// messages; otherwise the server pushes and the bounded queue pushes
	// back through TCP.
	PullMode          bool
	AckTimeout        time.Duration // redeliver messages not acked in time (0: never)
	NackDelay         time.Duration // delay before a nacked message is redelivered
	MaxRedeliverCount int           // then the message goes to DeadLetterStream
	DeadLetterStream  string
}

// consumerPlan is validated options with resolved names.
type consumerPlan struct {
	opts       ConsumerOptions
	streams    []naming.Stream
	names      []string
	deadLetter string
}

func (c *Client) planConsumer(o ConsumerOptions) (consumerPlan, error) {
	p := consumerPlan{opts: o}
	if o.Type == "" {
		p.opts.Type = Exclusive
	}
	if o.InitialPosition == "" {
		p.opts.InitialPosition = Latest
	}
	if o.ReceiverQueueSize == 0 {
		p.opts.ReceiverQueueSize = defaultReceiverQueueSize
	}
	var err error
	if p.opts.Type, err = ParseSubscriptionType(string(p.opts.Type)); err != nil {
		return p, err
	}
	if p.opts.InitialPosition, err = ParseInitialPosition(string(p.opts.InitialPosition)); err != nil {
		return p, err
	}
	o = p.opts
	switch {
	case len(o.Streams) == 0 || len(o.Streams) > wsproto.MaxStreamsPerConsumer:
		return p, fmt.Errorf("%w: %d streams: want 1..%d", ErrInvalidArgument, len(o.Streams), wsproto.MaxStreamsPerConsumer)
	case o.ReceiverQueueSize < 1 || o.ReceiverQueueSize > maxReceiverQueueSize:
		return p, fmt.Errorf("%w: ReceiverQueueSize %d: want 1..%d", ErrInvalidArgument, o.ReceiverQueueSize, maxReceiverQueueSize)
	case o.PriorityLevel < 0 || o.MaxRedeliverCount < 0 || o.AckTimeout < 0 || o.NackDelay < 0:
		return p, fmt.Errorf("%w: PriorityLevel, MaxRedeliverCount, AckTimeout and NackDelay must not be negative", ErrInvalidArgument)
	}
	if err := naming.Validate("subscription", o.Subscription); err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if o.ConsumerName != "" {
		if err := naming.Validate("consumer", o.ConsumerName); err != nil {
			return p, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
	}
	seen := make(map[naming.Stream]bool, len(o.Streams))
	for _, name := range o.Streams {
		s, err := c.resolve(name)
		if err != nil {
			return p, err
		}
		if seen[s] {
			return p, fmt.Errorf("%w: stream %s listed twice", ErrInvalidArgument, s)
		}
		seen[s] = true
		p.streams = append(p.streams, s)
		p.names = append(p.names, s.String())
	}
	if o.DeadLetterStream != "" {
		s, err := c.resolve(o.DeadLetterStream)
		if err != nil {
			return p, err
		}
		p.deadLetter = s.String()
	}
	return p, nil
}

// Consumer receives the messages of a subscription. It is safe for
// concurrent use. After a dropped connection it subscribes again; messages
// it had received but not returned, and acks that were in flight, are lost
// with the connection and the server delivers those messages again.
type Consumer struct {
	r    *receiver
	opts ConsumerOptions
}

// Subscribe attaches a consumer to a subscription. It fails at once,
// without retrying, if the server refuses (ErrConsumerBusy for a busy
// exclusive subscription, ErrNotFound, ErrBadRequest) or no node of the
// service URL can be reached; a refusal asking to try again (HTTP 5xx, 408,
// 429) is retried with the reconnect backoff until ctx ends. ctx bounds the
// connection attempt.
func (c *Client) Subscribe(ctx context.Context, o ConsumerOptions) (*Consumer, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	p, err := c.planConsumer(o)
	if err != nil {
		return nil, err
	}
	url := func(b base) string { return consumerURL(b.ws, p.streams, p.deadLetter, p.opts, c.binary) }
	op := fmt.Sprintf("consumer %s %s", strings.Join(p.names, ","), p.opts.Subscription)
	log := c.log.With(zap.Strings("streams", p.names), zap.String("subscription", p.opts.Subscription))
	cons := &Consumer{opts: p.opts}
	cons.r = newReceiver(c, op, log, url, ErrConsumerBusy, p.names, p.opts.ReceiverQueueSize, p.opts.PullMode)
	if err := cons.r.start(ctx, cons); err != nil {
		return nil, err
	}
	return cons, nil
}

// Receive returns the next message, waiting until one arrives, ctx ends, or
// the consumer closes (ErrClosed) or fails for good (the refusal).
func (c *Consumer) Receive(ctx context.Context) (*Message, error) { return c.r.next(ctx) }

// Ack acknowledges one message. Acks are written asynchronously, grouped
// (many per frame with WithBinaryProtocol).
func (c *Consumer) Ack(m *Message) error {
	return c.command("ack", wsbin.AckIndividual, m)
}

// AckCumulative acknowledges m and every earlier message of its stream.
// Shared and Key_Shared subscriptions refuse it.
func (c *Consumer) AckCumulative(m *Message) error {
	if c.opts.Type == Shared || c.opts.Type == KeyShared {
		return fmt.Errorf("%w: cumulative ack on a %s subscription", ErrInvalidArgument, c.opts.Type)
	}
	return c.command("cumulative ack", wsbin.AckCumulative, m)
}

// Nack asks the server to redeliver m (after NackDelay).
func (c *Consumer) Nack(m *Message) error {
	return c.command("nack", wsbin.Nack, m)
}

func (c *Consumer) command(what string, kind wsbin.AckKind, m *Message) error {
	if m == nil || m.RawID == "" {
		return fmt.Errorf("%w: %s of a message without an id", ErrInvalidArgument, what)
	}
	return c.r.ack(what, kind, m)
}

// Unsubscribe deletes the subscription on the server and closes the
// consumer.
func (c *Consumer) Unsubscribe() error {
	err := c.r.send("unsubscribe", wsproto.ConsumerCommand{Type: wsproto.CmdUnsubscribe})
	c.Close()
	return err
}

// Close detaches the consumer; unacked messages stay in the subscription.
func (c *Consumer) Close() error {
	c.r.close()
	c.r.c.untrack(c)
	return nil
}
