package pubsub

import (
	"errors"
	"fmt"
)

// maxTrackedSeq bounds the sequence numbers a Tracker accepts (and so its
// memory: one bit per sequence per producer, 16 MiB at most each).
const maxTrackedSeq = 1 << 27

// ErrSeqOutOfRange is returned for a sequence number a Tracker cannot hold.
var ErrSeqOutOfRange = errors.New("pubsub: sequence number out of range")

// Tracker records which messages one subscription received, to count
// duplicates and, against the acknowledged count, losses. It is not safe
// for concurrent use.
type Tracker struct {
	seen   map[uint32][]uint64 // producer -> bitset of sequences
	unique int64
	dups   int64
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{seen: make(map[uint32][]uint64)} }

// Add records a delivery and reports whether it was a duplicate.
func (t *Tracker) Add(producer uint32, seq uint64) (dup bool, err error) {
	if seq >= maxTrackedSeq {
		return false, fmt.Errorf("%w: %d (at most %d)", ErrSeqOutOfRange, seq, maxTrackedSeq-1)
	}
	bits := t.seen[producer]
	word := int(seq / 64)
	if word >= len(bits) {
		grown := make([]uint64, max(word+1, 2*len(bits)))
		copy(grown, bits)
		bits = grown
		t.seen[producer] = bits
	}
	mask := uint64(1) << (seq % 64)
	if bits[word]&mask != 0 {
		t.dups++
		return true, nil
	}
	bits[word] |= mask
	t.unique++
	return false, nil
}

// Unique is the number of distinct messages received.
func (t *Tracker) Unique() int64 { return t.unique }

// Duplicates is the number of repeated deliveries.
func (t *Tracker) Duplicates() int64 { return t.dups }
