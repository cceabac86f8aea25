package subscription

import (
	"container/heap"
	"math"
	"time"
)

// Dispatch decides up to maxMessages deliveries at now: messages queued for
// redelivery first (lowest offset first), then new messages from the read
// position, skipping acknowledged ones. A consumer receives only while it has
// permits (each delivery uses one), holds fewer than MaxUnackedPerConsumer
// unacknowledged messages, and has room: room(id) is how many more messages
// the shell can hand it without blocking (nil means unbounded). Exclusive
// and failover subscriptions deliver to the active consumer only; shared ones
// round robin over the best priority level with capacity.
//
// Every returned assignment is outstanding at its consumer from now on (its
// ack timeout runs from now); if the shell cannot deliver one, it calls
// Cancel.
func (d *Dispatcher) Dispatch(now time.Time, room func(ConsumerID) int, maxMessages int) []Assignment {
	if len(d.order) == 0 || maxMessages <= 0 {
		return nil
	}
	for _, c := range d.order {
		c.room = math.MaxInt
		if room != nil {
			c.room = room(c.id)
		}
	}
	if d.typ == KeyShared {
		return d.dispatchKeyShared(now, maxMessages)
	}
	var out []Assignment
	for len(out) < maxMessages {
		off, fromReady, ok := d.peek()
		if !ok {
			break
		}
		c := d.pick()
		if c == nil {
			break
		}
		var m *message
		if fromReady {
			heap.Pop(&d.ready)
			m = d.msgs[off]
		} else {
			m = &message{}
			d.msgs[off] = m
			d.readPos = off + 1
		}
		out = append(out, d.assign(now, c, off, m))
	}
	return out
}

// assign makes m (at off) outstanding at c from now on.
func (d *Dispatcher) assign(now time.Time, c *consumerState, off uint64, m *message) Assignment {
	m.consumer = c.id
	seq := d.move(off, m, locOutstanding)
	m.deliveredAt = now
	c.out[off] = struct{}{}
	c.permits--
	c.room--
	if c.cfg.AckTimeout > 0 {
		c.timeouts = append(c.timeouts, timeoutEntry{offset: off, seq: seq, due: now.Add(c.cfg.AckTimeout)})
		if len(c.timeouts) > 2*len(c.out)+64 {
			// Acked entries behind a long-outstanding head pile up.
			c.timeouts = compact(c.timeouts, func(e timeoutEntry) bool {
				_, ok := d.live(e.offset, e.seq, locOutstanding)
				return ok
			})
		}
	}
	return Assignment{Consumer: c.id, Offset: off, RedeliveryCount: m.count}
}

// peek returns the next message to deliver without taking it.
func (d *Dispatcher) peek() (off uint64, fromReady, ok bool) {
	for len(d.ready) > 0 {
		e := d.ready[0]
		if _, live := d.live(e.offset, e.seq, locReady); live {
			return e.offset, true, true
		}
		heap.Pop(&d.ready)
	}
	d.readPos = d.acked.nextOut(max(d.readPos, d.start, d.markDelete))
	if d.readPos < d.end {
		return d.readPos, false, true
	}
	return 0, false, false
}

// Cancel undoes an assignment the shell could not deliver (the record could
// not be read, or the consumer went away): the permit is returned and, if the
// message is still outstanding at that consumer, it is queued for redelivery
// with its count unchanged.
func (d *Dispatcher) Cancel(a Assignment) {
	c := d.consumers[a.Consumer]
	if c == nil {
		return
	}
	c.permits = min(c.permits+1, maxPermits)
	if m, ok := d.msgs[a.Offset]; ok && m.loc == locOutstanding && m.consumer == c.id {
		delete(c.out, a.Offset)
		d.requeue(a.Offset, m)
	}
}

// Outstanding reports whether offset is outstanding at consumer id.
func (d *Dispatcher) Outstanding(id ConsumerID, offset uint64) bool {
	m, ok := d.msgs[offset]
	return ok && m.loc == locOutstanding && m.consumer == id
}

// Pending reports whether a message is waiting to be dispatched (queued for
// redelivery now, or not yet read), whatever the consumers' capacity.
func (d *Dispatcher) Pending() bool {
	_, _, ok := d.peek()
	return ok
}

// RoomBound reports whether the last Dispatch left a message pending while a
// consumer that could take it had permits but no room: the shell must then
// look again once the consumer's buffer drains.
func (d *Dispatcher) RoomBound() bool {
	if !d.Pending() {
		return false
	}
	for _, c := range d.order {
		if c.room <= 0 && c.permits > 0 && (d.maxUnacked == 0 || len(c.out) < d.maxUnacked) &&
			(d.multi() || d.active == c) {
			return true
		}
	}
	return false
}
