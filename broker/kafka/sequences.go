package kafka

// This file is the pure core of idempotent producing: per (producer id,
// partition) it remembers the last batches' sequence ranges and decides
// whether a new batch is the next one, a re-send, or out of order. It has no
// clock, goroutines or I/O; the produce handler drives it.

// seqWindow is how many recent batches are remembered per producer and
// partition (Kafka's max.in.flight.requests.per.connection for idempotence).
const seqWindow = 5

// seqVerdict is what to do with a batch.
type seqVerdict int

const (
	seqAppend     seqVerdict = iota // the next batch: append it
	seqDuplicate                    // a re-send of a remembered batch
	seqOutOfOrder                   // a gap or an unknown older sequence
	seqFenced                       // an older producer epoch
)

// seqBatch is one remembered batch. Pending batches have no offset yet.
type seqBatch struct {
	first, last int32
	offset      uint64
	pending     bool
	// waiters are re-sends that arrived while the batch was pending.
	waiters []func(offset uint64, ok bool)
}

// seqState is the sequence state of one producer id on one partition.
type seqState struct {
	epoch   int16
	known   bool // false until the first batch
	batches []*seqBatch
}

// check classifies a batch of the given epoch and sequence range. On
// seqDuplicate it returns the remembered batch.
func (s *seqState) check(epoch int16, first, last int32) (seqVerdict, *seqBatch) {
	if s.known && epoch < s.epoch {
		return seqFenced, nil
	}
	if !s.known || epoch > s.epoch {
		// A new producer, or a bumped epoch: any start is accepted for the
		// former, sequence 0 for the latter (as Kafka does).
		if s.known && first != 0 {
			return seqOutOfOrder, nil
		}
		return seqAppend, nil
	}
	for _, b := range s.batches {
		if b.first == first && b.last == last {
			return seqDuplicate, b
		}
	}
	if len(s.batches) == 0 {
		return seqAppend, nil
	}
	if next := s.batches[len(s.batches)-1].last + 1; first == next || (next < 0 && first == 0) {
		return seqAppend, nil
	}
	return seqOutOfOrder, nil
}

// begin records a batch being appended (after check said seqAppend).
func (s *seqState) begin(epoch int16, first, last int32) *seqBatch {
	if !s.known || epoch != s.epoch {
		s.batches = s.batches[:0]
	}
	s.known, s.epoch = true, epoch
	b := &seqBatch{first: first, last: last, pending: true}
	s.batches = append(s.batches, b)
	if len(s.batches) > seqWindow {
		s.batches = append(s.batches[:0], s.batches[len(s.batches)-seqWindow:]...)
	}
	return b
}

// finish records the outcome of an append begun with begin, and returns the
// re-sends waiting for it. A failed append is forgotten together with every
// batch after it, so the producer's retry is appended again.
func (s *seqState) finish(b *seqBatch, offset uint64, ok bool) []func(uint64, bool) {
	waiters := b.waiters
	b.waiters = nil
	b.pending = false
	if ok {
		b.offset = offset
		return waiters
	}
	for i, x := range s.batches {
		if x == b {
			s.batches = s.batches[:i]
			break
		}
	}
	return waiters
}
