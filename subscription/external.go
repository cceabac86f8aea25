package subscription

import "fmt"

// This file serves cursors driven from outside the dispatch loop: a Kafka
// consumer group commits an absolute position ("everything below N is
// consumed") without attaching a consumer, and reads it back.

// CommitTo moves the cursor to offset as an absolute, external commit:
// everything below offset counts as acknowledged. Moving forward
// acknowledges the offsets in between whether or not they were dispatched
// (like Skip); moving backward is a Seek (individual acks above offset are
// forgotten and delivery restarts there). offset is clamped to the log's
// [start, end]. It returns the offset used.
func (d *Dispatcher) CommitTo(offset uint64) uint64 {
	offset = min(max(offset, d.start), d.end)
	if offset < d.markDelete {
		return d.Seek(offset)
	}
	d.ackRange(d.markDelete, offset)
	return offset
}

// Commit moves the cursor to offset as an external, absolute commit (see
// Dispatcher.CommitTo): a Kafka commit of N acknowledges everything below N.
// It needs no attached consumer. Moving backward drops what consumers hold,
// as Seek does. The cursor is persisted like an ack: the persister writes it
// shortly after, and Close writes it for sure. It returns the offset used.
func (s *Subscription) Commit(offset uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("subscription: commit on %q: %w", s.cfg.Name, ErrClosed)
	}
	v := s.core.CursorVersion()
	s.core.LogStart(s.src.StartOffset())
	s.core.LogEnd(s.src.EndOffset())
	backward := offset < s.core.MarkDelete()
	at := s.core.CommitTo(offset)
	if backward {
		for id, c := range s.consumers {
			if n := c.drain(); n > 0 {
				_ = s.core.AddPermits(id, n)
			}
		}
	}
	s.fresh = false
	s.changedLocked(v)
	return at, nil
}

// MarkDelete returns the first offset not known to be acknowledged: the
// position a Kafka consumer group resumes from.
func (s *Subscription) MarkDelete() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.MarkDelete()
}
