package kafka

import (
	"sync"
	"time"

	"github.com/causeway/causeway/broker/naming"
)

// maxProducerStates bounds the (producer id, partition) sequence states
// remembered; past it the least recently used one is forgotten (its
// producer's next batch is then accepted at any sequence).
const maxProducerStates = 100_000

// producerIDs hands out idempotent producer ids and keeps their sequence
// states (sequences.go) per partition stream.
type producerIDs struct {
	mu     sync.Mutex
	next   int64
	states map[producerPartition]*seqEntry
	tick   uint64 // use counter for eviction
}

type producerPartition struct {
	id     int64
	stream naming.Stream
}

type seqEntry struct {
	seqState
	used uint64
}

// newProducerIDs starts ids from the clock so ids handed out before a
// restart are not handed out again.
func newProducerIDs(now time.Time) *producerIDs {
	return &producerIDs{next: now.UnixMilli() << 8, states: map[producerPartition]*seqEntry{}}
}

// allocate returns a new producer id.
func (p *producerIDs) allocate() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next
}

// with runs fn on the sequence state of (id, stream) under the lock.
func (p *producerIDs) with(id int64, stream naming.Stream, fn func(*seqState)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := producerPartition{id, stream}
	e := p.states[k]
	if e == nil {
		if len(p.states) >= maxProducerStates {
			p.evictLocked()
		}
		e = &seqEntry{}
		p.states[k] = e
	}
	p.tick++
	e.used = p.tick
	fn(&e.seqState)
}

func (p *producerIDs) evictLocked() {
	var oldest producerPartition
	at := ^uint64(0)
	for k, e := range p.states {
		if e.used < at && !hasPending(&e.seqState) {
			oldest, at = k, e.used
		}
	}
	delete(p.states, oldest)
}

func hasPending(s *seqState) bool {
	for _, b := range s.batches {
		if b.pending {
			return true
		}
	}
	return false
}
