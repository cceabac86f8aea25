package subscription

import (
	"fmt"
	"time"
)

// Ack acknowledges one offset. Acknowledging an offset twice is harmless; an
// offset never dispatched on this cursor (at or past the read position, or
// past the log's end) returns ErrUnknownMessage and changes nothing. As in
// Pulsar, any consumer may acknowledge any dispatched message: the cursor is
// shared.
func (d *Dispatcher) Ack(id ConsumerID, offset uint64) error {
	if err := d.checkAckable(id, offset); err != nil || d.IsAcked(offset) || d.staleAck(offset) {
		return err
	}
	d.ackRange(offset, offset+1)
	return nil
}

// AckCumulative acknowledges every offset up to and including offset
// (Pulsar's rule). Refused on Shared and Key_Shared subscriptions with
// ErrCumulativeAckShared.
func (d *Dispatcher) AckCumulative(id ConsumerID, offset uint64) error {
	if _, ok := d.consumers[id]; !ok {
		return fmt.Errorf("%w: %d", ErrUnknownConsumer, id)
	}
	if d.multi() {
		return fmt.Errorf("%w (subscription %q)", ErrCumulativeAckShared, d.name)
	}
	if offset < d.markDelete || d.staleAck(offset) {
		return nil
	}
	// Even an individually acknowledged offset must have been dispatched:
	// after a restart acked ranges lie beyond the read position, and a
	// cumulative ack there would acknowledge messages never delivered.
	if offset >= d.readPos {
		return fmt.Errorf("%w: offset %d was never delivered on subscription %q (read position %d, log end %d)",
			ErrUnknownMessage, offset, d.name, d.readPos, d.end)
	}
	d.ackRange(d.markDelete, offset+1)
	return nil
}

// checkAckable validates an ack or nack of offset by consumer id. Already
// acknowledged offsets pass (the caller treats them as duplicates).
func (d *Dispatcher) checkAckable(id ConsumerID, offset uint64) error {
	if _, ok := d.consumers[id]; !ok {
		return fmt.Errorf("%w: %d", ErrUnknownConsumer, id)
	}
	if d.IsAcked(offset) || d.staleAck(offset) {
		return nil
	}
	if offset >= d.readPos {
		return fmt.Errorf("%w: offset %d was never delivered on subscription %q (read position %d, log end %d)",
			ErrUnknownMessage, offset, d.name, d.readPos, d.end)
	}
	return nil
}

// staleAck reports an ack or nack of an offset dispatched before the
// cursor was moved back and not dispatched again since: the delivery it
// settles no longer exists (Pulsar's client drops acks in flight across a
// seek), so it is ignored - neither applied, which would hide a message
// the user asked to replay, nor refused, which would answer a correct
// client with an error.
func (d *Dispatcher) staleAck(offset uint64) bool {
	return offset >= d.readPos && offset < d.rewound
}

// Nack negatively acknowledges an offset outstanding at consumer id: it is
// redelivered after the consumer's nack delay with its redelivery count
// incremented, or dead-lettered once the count passes the consumer's
// MaxRedeliverCount. A nack of an acknowledged offset, or of one no longer
// outstanding at this consumer (it timed out, or the consumer lost failover
// activity), is a no-op.
func (d *Dispatcher) Nack(id ConsumerID, offset uint64, now time.Time) error {
	if err := d.checkAckable(id, offset); err != nil || d.staleAck(offset) {
		return err
	}
	m := d.msgs[offset]
	if m == nil || m.loc != locOutstanding || m.consumer != id {
		return nil
	}
	c := d.consumers[id]
	delete(c.out, offset)
	m.count++
	dead := c.cfg.MaxRedeliverCount > 0 && m.count > c.cfg.MaxRedeliverCount
	if c.cfg.NackDelay <= 0 {
		d.redeliverOrDeadLetter(offset, m, dead)
		return nil
	}
	d.delay(offset, m, now.Add(c.cfg.NackDelay), dead)
	return nil
}

// Skip acknowledges the next n unacknowledged messages from the mark-delete
// position, dispatched or not (Pulsar's skip). It returns how many it
// skipped: fewer than n when the backlog is shorter.
func (d *Dispatcher) Skip(n int) (uint64, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: skip %d messages", ErrInvalidArgument, n)
	}
	remaining := uint64(n)
	var skipped uint64
	off := d.markDelete
	for remaining > 0 {
		off = d.acked.nextOut(max(off, d.markDelete))
		if off >= d.end {
			break
		}
		spanEnd := d.end
		if next, ok := d.acked.nextIn(off); ok && next < spanEnd {
			spanEnd = next
		}
		k := min(spanEnd-off, remaining)
		d.ackRange(off, off+k)
		remaining -= k
		skipped += k
		off += k
	}
	return skipped, nil
}

// Seek resets the cursor to offset (clamped to the log's [start, end]) and
// returns the offset used. Everything below it counts as acknowledged,
// everything from it on as unacknowledged (individual acks above it are
// forgotten, as in Pulsar's reset-cursor); outstanding messages are dropped
// from consumers' tracking, the redelivery queues are emptied, and delivery
// restarts at offset.
func (d *Dispatcher) Seek(offset uint64) uint64 {
	offset = min(max(offset, d.start), d.end)
	d.rewound = max(d.rewound, d.readPos)
	d.markDelete = offset
	d.acked.clear()
	d.readPos = offset
	clear(d.msgs)
	d.ready = d.ready[:0]
	d.delayed = d.delayed[:0]
	d.deadLetters = d.deadLetters[:0]
	clear(d.hashes)
	d.kReady = 0
	d.kfrom, d.kwin = offset, d.kwin[:0]
	for _, c := range d.order {
		clear(c.out)
		c.timeouts = c.timeouts[:0]
	}
	d.version++
	return offset
}

// ackRange acknowledges [from, to) and forgets those messages wherever they
// are (consumers, queues).
func (d *Dispatcher) ackRange(from, to uint64) {
	from = max(from, d.markDelete)
	if from >= to {
		return
	}
	if d.acked.add(from, to) == 0 {
		return
	}
	if to-from <= uint64(len(d.msgs)) {
		for off := from; off < to; off++ {
			d.forget(off)
		}
	} else {
		for off := range d.msgs {
			if off >= from && off < to {
				d.forget(off)
			}
		}
	}
	d.normalize()
	d.version++
}

// forget drops the tracking of a dispatched message; queue entries pointing
// at it become stale.
func (d *Dispatcher) forget(off uint64) {
	m, ok := d.msgs[off]
	if !ok {
		return
	}
	if m.loc == locOutstanding {
		if c := d.consumers[m.consumer]; c != nil {
			delete(c.out, off)
		}
	}
	if m.hashed {
		d.keyLeave(off, m)
	}
	delete(d.msgs, off)
}
