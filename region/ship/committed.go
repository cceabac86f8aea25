package ship

import (
	"fmt"

	"github.com/causeway/causeway/broker/segment"
)

// Committed is a leading replica's log as consumers may read it: the
// records below the high watermark, which every in-sync replica holds and
// no failover can cut. It has the read side of a segment log
// (subscription.Source).
type Committed struct{ r *Replica }

// Committed returns the replica's committed view.
func (r *Replica) Committed() Committed { return Committed{r: r} }

// Read returns records with offset >= from below the high watermark, at
// least one if any is there; none at or past it.
func (c Committed) Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error) {
	hw, _ := c.r.HighWatermark()
	seg := c.r.Log()
	if from >= hw {
		if from > seg.EndOffset() {
			return nil, fmt.Errorf("%w: %d is past the log's end %d", segment.ErrOffsetOutOfRange, from, seg.EndOffset())
		}
		return nil, nil
	}
	recs, err := seg.Read(from, min(maxRecords, int(min(hw-from, 1<<30))), maxBytes)
	if err != nil {
		return nil, err
	}
	for i, rec := range recs {
		if rec.Offset >= hw {
			return recs[:i], nil
		}
	}
	return recs, nil
}

// StartOffset is the log's first offset.
func (c Committed) StartOffset() uint64 { return c.r.Log().StartOffset() }

// EndOffset is the high watermark.
func (c Committed) EndOffset() uint64 {
	hw, _ := c.r.HighWatermark()
	return hw
}

// Changed returns a channel closed when the high watermark (or the
// replica's role) changes.
func (c Committed) Changed() <-chan struct{} {
	_, ch := c.r.HighWatermark()
	return ch
}

// OffsetAtTime returns the first offset published at or after ms, at most
// the high watermark.
func (c Committed) OffsetAtTime(ms int64) uint64 {
	return min(c.r.Log().OffsetAtTime(ms), c.EndOffset())
}
