package replicator

import (
	"fmt"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Dedup is producer-level de-duplication for one stream: it remembers the
// highest sequence id accepted per producer name and refuses anything at or
// below it. Memory is bounded by maxProducers; the least recently used
// producer is forgotten first (a retry from a forgotten producer is then
// accepted again, the documented limit of a bounded table). It is pure and
// not safe for concurrent use. It is independent of the replication engine,
// which de-duplicates by dot; the broker uses Dedup at publish time and may
// use it again when delivering remote messages.
type Dedup struct {
	highest *simplelru.LRU[string, int64]
}

// NewDedup returns a table remembering at most maxProducers producers.
func NewDedup(maxProducers int) (*Dedup, error) {
	l, err := simplelru.NewLRU[string, int64](maxProducers, nil)
	if err != nil {
		return nil, fmt.Errorf("dedup: max producers %d: %w", maxProducers, ErrInvalidConfig)
	}
	return &Dedup{highest: l}, nil
}

// Accept reports whether (producer, seqID) is new, i.e. seqID is greater
// than every sequence id accepted from producer so far, and records it.
// A duplicate or a replay of an older id returns false and changes nothing
// but the producer's recency.
func (d *Dedup) Accept(producer string, seqID int64) bool {
	if h, ok := d.highest.Get(producer); ok && seqID <= h {
		return false
	}
	d.highest.Add(producer, seqID)
	return true
}

// Highest returns the highest sequence id accepted from producer, if it is
// still remembered.
func (d *Dedup) Highest(producer string) (int64, bool) {
	return d.highest.Peek(producer)
}

// Len returns the number of producers remembered.
func (d *Dedup) Len() int { return d.highest.Len() }
