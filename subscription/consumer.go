package subscription

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
)

// ConsumerSpec is what a consumer asks for when it attaches. Zero
// AckTimeout, NackDelay and MaxRedeliverCount inherit the subscription's
// Config.
type ConsumerSpec struct {
	Name     string // empty: a name is generated
	Priority int    // lower is preferred
	Type     Type
	// Initial positions the subscription if this consumer is the first to
	// attach to a subscription Open just created; otherwise the existing
	// cursor wins.
	Initial Position
	// ReceiverQueue is the initial permits and the channel's capacity;
	// 0 means DefaultReceiverQueue.
	ReceiverQueue int
	// PullMode starts the consumer with no permits: it receives only what
	// AddPermits grants (Pulsar's pullMode=true). ReceiverQueue still sizes
	// its channel.
	PullMode          bool
	AckTimeout        time.Duration
	NackDelay         time.Duration
	MaxRedeliverCount int
}

// Delivery is one message handed to a consumer.
type Delivery struct {
	Record          segment.Record
	RedeliveryCount int
}

// Consumer is one consumer attached to a Subscription. Its methods are safe
// for concurrent use.
type Consumer struct {
	sub      *Subscription
	id       ConsumerID
	name     string
	ch       chan Delivery
	done     chan struct{}
	detached bool // guarded by sub.mu
}

// Attach attaches a consumer. Errors: ErrExclusiveBusy, ErrTypeMismatch,
// ErrUnsupportedType, ErrInvalidArgument, ErrClosed (all wrapped).
func (s *Subscription) Attach(spec ConsumerSpec) (*Consumer, error) {
	cc, err := s.consumerConfig(spec)
	if err != nil {
		return nil, fmt.Errorf("subscription: attach to %q: %w", s.cfg.Name, err)
	}
	queue := cc.Permits
	if spec.PullMode {
		cc.Permits = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("subscription: attach to %q: %w", s.cfg.Name, ErrClosed)
	}
	s.attached++
	if cc.Name == "" {
		cc.Name = fmt.Sprintf("%s-consumer-%d", s.cfg.Name, s.attached)
	}
	id, err := s.core.AddConsumer(cc)
	if err != nil {
		return nil, fmt.Errorf("subscription: attach to %q: %w", s.cfg.Name, err)
	}
	v := s.core.CursorVersion()
	if s.fresh && spec.Initial != s.cfg.Initial {
		s.core.LogEnd(s.src.EndOffset())
		s.core.Seek(InitialCursor(spec.Initial, s.src.StartOffset(), s.src.EndOffset()).MarkDelete)
	}
	s.fresh = false
	c := &Consumer{
		sub:  s,
		id:   id,
		name: cc.Name,
		ch:   make(chan Delivery, queue),
		done: make(chan struct{}),
	}
	s.consumers[id] = c
	s.log.Debug("consumer attached", zap.String("consumer", cc.Name), zap.Stringer("type", cc.Type),
		zap.Int("priority", cc.Priority), zap.Int("receiverQueue", queue), zap.Bool("pullMode", spec.PullMode))
	s.changedLocked(v)
	return c, nil
}

// consumerConfig resolves a spec against the subscription's defaults.
func (s *Subscription) consumerConfig(spec ConsumerSpec) (ConsumerConfig, error) {
	q := spec.ReceiverQueue
	if q == 0 {
		q = DefaultReceiverQueue
	}
	switch {
	case q < 0 || q > MaxReceiverQueue:
		return ConsumerConfig{}, fmt.Errorf("%w: receiver queue %d (want 1..%d)", ErrInvalidArgument, spec.ReceiverQueue, MaxReceiverQueue)
	case spec.AckTimeout < 0, spec.NackDelay < 0, spec.MaxRedeliverCount < 0:
		return ConsumerConfig{}, fmt.Errorf("%w: negative ack timeout, nack delay or max redeliver count", ErrInvalidArgument)
	case spec.Initial != Latest && spec.Initial != Earliest:
		return ConsumerConfig{}, fmt.Errorf("%w: initial position %v", ErrInvalidArgument, spec.Initial)
	}
	cc := ConsumerConfig{
		Name:              spec.Name,
		Priority:          spec.Priority,
		Type:              spec.Type,
		Permits:           q,
		AckTimeout:        cmpOr(spec.AckTimeout, s.cfg.AckTimeout),
		NackDelay:         cmpOr(spec.NackDelay, s.cfg.NackDelay),
		MaxRedeliverCount: cmpOr(spec.MaxRedeliverCount, s.cfg.MaxRedeliverCount),
	}
	if cc.MaxRedeliverCount > 0 && s.cfg.DeadLetter == nil {
		return ConsumerConfig{}, fmt.Errorf("%w: maxRedeliverCount %d needs a dead-letter stream (Config.DeadLetter)", ErrInvalidArgument, cc.MaxRedeliverCount)
	}
	return cc, nil
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// Name is the consumer's name (generated if the spec had none).
func (c *Consumer) Name() string { return c.name }

// Messages delivers messages; it is buffered to ReceiverQueue and the
// subscription never blocks on it (a consumer only receives while it has
// permits and room). It is never closed: watch Done.
func (c *Consumer) Messages() <-chan Delivery { return c.ch }

// Done is closed when the consumer is detached: by Close, or by the
// subscription closing or being deleted.
func (c *Consumer) Done() <-chan struct{} { return c.done }

// AddPermits lets the consumer receive n more messages. Front ends call it
// as they hand messages to the client (push mode) or on a permit frame
// (pull mode). n <= 0 and calls after detach are ignored.
func (c *Consumer) AddPermits(n int) {
	s := c.sub
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.detached || n <= 0 {
		return
	}
	_ = s.core.AddPermits(c.id, n)
	s.kick()
}

// Ack acknowledges one message. Duplicates are harmless; an offset never
// delivered returns ErrUnknownMessage.
func (c *Consumer) Ack(offset uint64) error {
	return c.do("ack", offset, func(d *Dispatcher) error { return d.Ack(c.id, offset) })
}

// AckCumulative acknowledges every message up to and including offset.
// Refused on shared subscriptions (ErrCumulativeAckShared).
func (c *Consumer) AckCumulative(offset uint64) error {
	return c.do("cumulative ack", offset, func(d *Dispatcher) error { return d.AckCumulative(c.id, offset) })
}

// Nack asks for the message to be redelivered after the nack delay (or
// dead-lettered past MaxRedeliverCount).
func (c *Consumer) Nack(offset uint64) error {
	now := time.Now()
	return c.do("nack", offset, func(d *Dispatcher) error { return d.Nack(c.id, offset, now) })
}

func (c *Consumer) do(what string, offset uint64, f func(*Dispatcher) error) error {
	s := c.sub
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.detached {
		return fmt.Errorf("subscription: %s %d on %q by %q: %w", what, offset, s.cfg.Name, c.name, ErrClosed)
	}
	v := s.core.CursorVersion()
	if err := f(s.core); err != nil {
		return fmt.Errorf("subscription: %s by %q: %w", what, c.name, err)
	}
	s.changedLocked(v)
	return nil
}

// Close detaches the consumer; its unacknowledged messages (including any
// still in its channel) go back for redelivery.
func (c *Consumer) Close() {
	s := c.sub
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.detached {
		return
	}
	s.detachLocked(c)
	s.log.Debug("consumer detached", zap.String("consumer", c.name))
	s.kick()
}

// drain empties the channel and returns how many messages it held. Called
// with sub.mu held, so the dispatch loop is not sending.
func (c *Consumer) drain() int {
	n := 0
	for {
		select {
		case <-c.ch:
			n++
		default:
			return n
		}
	}
}
