package subscription

import (
	"container/heap"
	"time"
)

// Queue entries are deleted lazily: an entry is live only while the message
// it names still has the seq it was pushed with. Queues are compacted when
// stale entries outnumber live ones, so their size stays bounded by the
// number of tracked messages.

type offsetEntry struct{ offset, seq uint64 }

// offsetHeap is the ready-to-redeliver queue, smallest offset first.
type offsetHeap []offsetEntry

func (h offsetHeap) Len() int           { return len(h) }
func (h offsetHeap) Less(i, j int) bool { return h[i].offset < h[j].offset }
func (h offsetHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *offsetHeap) Push(x any)        { *h = append(*h, x.(offsetEntry)) }
func (h *offsetHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type dueEntry struct {
	due         time.Time
	offset, seq uint64
}

// dueHeap holds nack-delayed messages and dead-letter retries, earliest due
// first.
type dueHeap []dueEntry

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].offset < h[j].offset
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// live reports whether a queue entry still names the message's current place.
func (d *Dispatcher) live(off, seq uint64, loc location) (*message, bool) {
	m := d.msgs[off]
	return m, m != nil && m.seq == seq && m.loc == loc
}

// move puts the message at off in loc under a new seq (queue entries under
// the old one go stale).
func (d *Dispatcher) move(off uint64, m *message, loc location) uint64 {
	if m.hashed {
		d.keyLeave(off, m)
	}
	d.seq++
	m.seq = d.seq
	m.loc = loc
	if m.hashed {
		d.keyEnter(off, m)
	}
	return m.seq
}

// requeue puts a message in the ready queue, redelivery count unchanged.
func (d *Dispatcher) requeue(off uint64, m *message) {
	heap.Push(&d.ready, offsetEntry{offset: off, seq: d.move(off, m, locReady)})
	if len(d.ready) > 2*len(d.msgs)+64 {
		d.ready = compact(d.ready, func(e offsetEntry) bool { _, ok := d.live(e.offset, e.seq, locReady); return ok })
		heap.Init(&d.ready)
	}
}

// delay parks a message until due; then it is redelivered, or dead-lettered
// when dead is set.
func (d *Dispatcher) delay(off uint64, m *message, due time.Time, dead bool) {
	m.deadLetter = dead
	heap.Push(&d.delayed, dueEntry{due: due, offset: off, seq: d.move(off, m, locDelayed)})
	if len(d.delayed) > 2*len(d.msgs)+64 {
		d.delayed = compact(d.delayed, func(e dueEntry) bool { _, ok := d.live(e.offset, e.seq, locDelayed); return ok })
		heap.Init(&d.delayed)
	}
}

func (d *Dispatcher) redeliverOrDeadLetter(off uint64, m *message, dead bool) {
	if dead {
		d.move(off, m, locDeadLetter)
		d.deadLetters = append(d.deadLetters, off)
		return
	}
	d.requeue(off, m)
}

func compact[E any](s []E, keep func(E) bool) []E {
	out := s[:0]
	for _, e := range s {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Tick fires ack timeouts and due nack delays at now: ack-timed-out messages
// get their redelivery count incremented and are queued for redelivery, or
// dead-lettered past the consumer's MaxRedeliverCount.
func (d *Dispatcher) Tick(now time.Time) {
	for _, c := range d.order {
		if c.cfg.AckTimeout <= 0 {
			continue
		}
		i := 0
		for ; i < len(c.timeouts); i++ {
			e := c.timeouts[i]
			m, ok := d.live(e.offset, e.seq, locOutstanding)
			if !ok {
				continue
			}
			if e.due.After(now) {
				break
			}
			delete(c.out, e.offset)
			m.count++
			d.redeliverOrDeadLetter(e.offset, m, c.cfg.MaxRedeliverCount > 0 && m.count > c.cfg.MaxRedeliverCount)
		}
		c.timeouts = append(c.timeouts[:0], c.timeouts[i:]...)
	}
	for len(d.delayed) > 0 && !d.delayed[0].due.After(now) {
		e := heap.Pop(&d.delayed).(dueEntry)
		if m, ok := d.live(e.offset, e.seq, locDelayed); ok {
			d.redeliverOrDeadLetter(e.offset, m, m.deadLetter)
		}
	}
}

// NextDeadline returns when Tick next has something to do, if ever.
func (d *Dispatcher) NextDeadline() (time.Time, bool) {
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	for _, c := range d.order {
		// Drop stale heads so the answer is exact.
		i := 0
		for ; i < len(c.timeouts); i++ {
			if _, ok := d.live(c.timeouts[i].offset, c.timeouts[i].seq, locOutstanding); ok {
				consider(c.timeouts[i].due)
				break
			}
		}
		c.timeouts = append(c.timeouts[:0], c.timeouts[i:]...)
	}
	for len(d.delayed) > 0 {
		if _, ok := d.live(d.delayed[0].offset, d.delayed[0].seq, locDelayed); ok {
			consider(d.delayed[0].due)
			break
		}
		heap.Pop(&d.delayed)
	}
	return next, found
}

// TakeDeadLetters returns the messages to publish to the dead-letter stream
// and marks them in flight; report each with DeadLettered or
// DeadLetterFailed.
func (d *Dispatcher) TakeDeadLetters() []DeadLetter {
	var out []DeadLetter
	for _, off := range d.deadLetters {
		m := d.msgs[off]
		if m == nil || m.loc != locDeadLetter {
			continue
		}
		d.move(off, m, locDeadLettering)
		out = append(out, DeadLetter{Offset: off, RedeliveryCount: m.count})
	}
	d.deadLetters = d.deadLetters[:0]
	return out
}

// DeadLettered acknowledges a message the shell published to the dead-letter
// stream. It reports false (and does nothing) if the message is no longer
// being dead-lettered (acknowledged or dropped by a seek meanwhile).
func (d *Dispatcher) DeadLettered(offset uint64) bool {
	m := d.msgs[offset]
	if m == nil || m.loc != locDeadLettering {
		return false
	}
	d.ackRange(offset, offset+1)
	return true
}

// DeadLetterFailed schedules another dead-letter attempt at retryAt.
func (d *Dispatcher) DeadLetterFailed(offset uint64, retryAt time.Time) {
	m := d.msgs[offset]
	if m == nil || m.loc != locDeadLettering {
		return
	}
	d.delay(offset, m, retryAt, true)
}
