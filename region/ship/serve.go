package ship

import (
	"context"
	"fmt"
	"time"

	"github.com/causeway/causeway/region"
)

// pendingRead is the leader's log as region.Leader sees it while it
// answers a fetch under the replica's lock: Read only notes what to read,
// and the records are read after the lock is released (the log only grows
// while it leads, so they are the same).
type pendingRead struct {
	start  uint64
	end    uint64
	epochs region.Epochs
	from   uint64
	max    int
	asked  bool
}

func (v *pendingRead) Start() uint64         { return v.start }
func (v *pendingRead) End() uint64           { return v.end }
func (v *pendingRead) Epochs() region.Epochs { return v.epochs }
func (v *pendingRead) Read(offset uint64, maxEntries int) []region.Entry {
	v.from, v.max, v.asked = offset, maxEntries, true
	return nil
}

// fetch answers a follower as the unit's leader, holding the fetch up to
// its max wait (bounded by Config.MaxWait) while a caught-up follower has
// nothing new to read.
func (r *Replica) fetch(ctx context.Context, req Request) (Response, error) {
	wait := min(time.Duration(req.MaxWaitMillis)*time.Millisecond, r.cfg.MaxWait)
	deadline := time.Now().Add(wait)
	for {
		r.mu.Lock()
		if r.leader == nil || r.closed {
			resp := region.FetchResponse{Unit: r.unit, Epoch: r.epoch, Offset: req.Offset, LastEpoch: req.LastEpoch, Err: region.FetchFencedEpoch}
			if req.Epoch > r.epoch {
				// This node has not learnt the epoch yet: the follower
				// asks again.
				resp.Err = region.FetchUnknownEpoch
			}
			r.mu.Unlock()
			return Response{FetchResponse: resp}, nil
		}
		seg := r.seg
		// The channels first: an append that lands after the log's end
		// is read below closes them (no lost wake-up).
		changed, roleChanged := seg.Changed(), r.changed
		view := &pendingRead{start: seg.StartOffset(), end: seg.EndOffset(), epochs: r.epochs}
		resp := r.leader.Fetch(req.FetchRequest, view, r.now())
		r.noteHighWatermark()
		r.mu.Unlock()
		r.runSettled()

		if resp.Err != region.FetchOK || resp.Diverging {
			return Response{FetchResponse: resp}, nil
		}
		if view.asked && view.from < seg.EndOffset() {
			recs, err := seg.Read(view.from, view.max, r.cfg.MaxFetchBytes)
			if err != nil {
				return Response{}, fmt.Errorf("ship: %s: read from %d: %w", r.unit, view.from, err)
			}
			resp.Entries = make([]region.Entry, len(recs))
			for i, rec := range recs {
				resp.Entries[i] = region.Entry{Offset: rec.Offset, Epoch: epochAt(view.epochs, rec.Offset)}
			}
			return Response{FetchResponse: resp, Records: recs}, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return Response{FetchResponse: resp}, nil
		}
		timer := time.NewTimer(left)
		select {
		case <-changed:
		case <-roleChanged:
		case <-ctx.Done():
			timer.Stop()
			return Response{}, ctx.Err()
		case <-timer.C:
		}
		timer.Stop()
	}
}

var _ region.LogView = (*pendingRead)(nil)
