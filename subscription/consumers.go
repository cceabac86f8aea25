package subscription

import (
	"cmp"
	"fmt"
	"math"
	"time"
)

// ConsumerConfig describes a consumer attaching to a Dispatcher. Durations
// and counts are final here (the shell resolves defaults).
type ConsumerConfig struct {
	Name     string
	Priority int // lower is preferred (failover active choice, shared levels)
	Type     Type
	// Permits is the initial number of messages the consumer may receive.
	Permits int
	// AckTimeout redelivers messages unacknowledged for longer; 0 is off.
	AckTimeout time.Duration
	// NackDelay delays the redelivery of a negatively acknowledged message.
	NackDelay time.Duration
	// MaxRedeliverCount dead-letters a message instead of redelivering it
	// once it has been redelivered this many times; 0 never dead-letters.
	MaxRedeliverCount int
}

type consumerState struct {
	id       ConsumerID
	cfg      ConsumerConfig
	permits  int
	out      map[uint64]struct{}
	timeouts []timeoutEntry // delivery order; lazily cleaned
	room     int            // per Dispatch call
	// nameIndex tells apart Key_Shared consumers of the same name on the
	// hash ring.
	nameIndex int
}

type timeoutEntry struct {
	offset, seq uint64
	due         time.Time
}

// AddConsumer attaches a consumer. It fails with ErrTypeMismatch when other
// consumers are attached with another type (with none attached, the new
// consumer's type becomes the subscription's, as in Pulsar), with
// ErrExclusiveBusy on an exclusive subscription that has a consumer, and with
// ErrInvalidArgument or ErrUnsupportedType on a bad config.
func (d *Dispatcher) AddConsumer(cfg ConsumerConfig) (ConsumerID, error) {
	switch {
	case !cfg.Type.supported():
		return 0, fmt.Errorf("%w: consumer %q asked for %v", ErrUnsupportedType, cfg.Name, cfg.Type)
	case cfg.Permits < 0, cfg.AckTimeout < 0, cfg.NackDelay < 0, cfg.MaxRedeliverCount < 0:
		return 0, fmt.Errorf("%w: consumer %q: negative permits, ack timeout, nack delay or max redeliver count", ErrInvalidArgument, cfg.Name)
	case len(d.consumers) > 0 && cfg.Type != d.typ:
		return 0, fmt.Errorf("%w: subscription %q is %v, consumer %q asked for %v", ErrTypeMismatch, d.name, d.typ, cfg.Name, cfg.Type)
	case len(d.consumers) > 0 && cfg.Type == Exclusive:
		return 0, fmt.Errorf("%w: subscription %q is exclusive and consumer %q is attached", ErrExclusiveBusy, d.name, d.order[0].cfg.Name)
	case len(d.consumers) >= maxConsumers:
		return 0, fmt.Errorf("%w: subscription %q already has %d consumers (the maximum)", ErrInvalidArgument, d.name, maxConsumers)
	}
	if len(d.consumers) == 0 && cfg.Type != d.typ && (cfg.Type == KeyShared || d.typ == KeyShared) {
		d.rewind()
	}
	d.typ = cfg.Type
	d.nextID++
	c := &consumerState{
		id:      d.nextID,
		cfg:     cfg,
		permits: min(cfg.Permits, maxPermits),
		out:     make(map[uint64]struct{}),
		room:    math.MaxInt,
	}
	d.consumers[c.id] = c
	d.order = append(d.order, c)
	if d.typ == KeyShared {
		d.ringAdd(c)
	}
	d.chooseActive()
	return c.id, nil
}

// RemoveConsumer detaches a consumer; its unacknowledged messages are queued
// for redelivery with their redelivery counts unchanged (as in Pulsar).
func (d *Dispatcher) RemoveConsumer(id ConsumerID) error {
	c, ok := d.consumers[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownConsumer, id)
	}
	d.returnOutstanding(c)
	d.ringRemove(c)
	delete(d.consumers, id)
	for i, o := range d.order {
		if o == c {
			d.order = append(d.order[:i], d.order[i+1:]...)
			if d.rr > i {
				d.rr--
			}
			break
		}
	}
	if d.rr >= len(d.order) {
		d.rr = 0
	}
	if d.active == c {
		d.active = nil
	}
	d.chooseActive()
	return nil
}

// AddPermits lets a consumer receive n more messages.
func (d *Dispatcher) AddPermits(id ConsumerID, n int) error {
	c, ok := d.consumers[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownConsumer, id)
	}
	if n <= 0 {
		return fmt.Errorf("%w: %d permits", ErrInvalidArgument, n)
	}
	c.permits = min(c.permits+min(n, maxPermits), maxPermits)
	return nil
}

// Active returns the consumer receiving messages on an exclusive or
// failover subscription.
func (d *Dispatcher) Active() (ConsumerID, bool) {
	if d.active == nil || d.multi() {
		return 0, false
	}
	return d.active.id, true
}

// chooseActive picks the failover (or exclusive) active consumer: lowest
// priority level, then lowest name, then earliest attached. When the active
// consumer changes, the previous one's unacknowledged messages are queued for
// redelivery so the new one resumes from the last acknowledged position.
func (d *Dispatcher) chooseActive() {
	var best *consumerState
	for _, c := range d.order {
		if best == nil || cmp.Or(cmp.Compare(c.cfg.Priority, best.cfg.Priority),
			cmp.Compare(c.cfg.Name, best.cfg.Name), cmp.Compare(c.id, best.id)) < 0 {
			best = c
		}
	}
	if d.multi() {
		d.active = nil
		return
	}
	if d.active != nil && d.active != best {
		d.returnOutstanding(d.active)
	}
	d.active = best
}

// returnOutstanding queues every message outstanding at c for redelivery.
func (d *Dispatcher) returnOutstanding(c *consumerState) {
	for off := range c.out {
		d.requeue(off, d.msgs[off])
	}
	clear(c.out)
	c.timeouts = c.timeouts[:0]
}

// hasCapacity reports whether c may receive one more message now.
func (d *Dispatcher) hasCapacity(c *consumerState) bool {
	return c.permits > 0 && c.room > 0 && (d.maxUnacked == 0 || len(c.out) < d.maxUnacked)
}

// pick chooses the consumer for the next message, or nil.
func (d *Dispatcher) pick() *consumerState {
	if d.typ != Shared {
		if d.active != nil && d.hasCapacity(d.active) {
			return d.active
		}
		return nil
	}
	// Shared: round robin over the consumers of the best (lowest) priority
	// level that has capacity.
	best, found := 0, false
	for _, c := range d.order {
		if (!found || c.cfg.Priority < best) && d.hasCapacity(c) {
			best, found = c.cfg.Priority, true
		}
	}
	if !found {
		return nil
	}
	n := len(d.order)
	for i := range n {
		idx := (d.rr + i) % n
		if c := d.order[idx]; c.cfg.Priority == best && d.hasCapacity(c) {
			d.rr = (idx + 1) % n
			return c
		}
	}
	return nil
}

// Permits returns a consumer's remaining permits (0 if unknown).
func (d *Dispatcher) Permits(id ConsumerID) int {
	if c, ok := d.consumers[id]; ok {
		return c.permits
	}
	return 0
}
