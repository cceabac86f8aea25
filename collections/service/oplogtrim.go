package service

import (
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// Op-log trimming. A collection's op log (_col.c) is what a restart
// re-applies and what the shipper reads this region's ops from. A record
// is no longer needed once
//
//   - the view reflects it and the change feed has its event: it lies below
//     the position recover starts from (store.Position), which a sync of the
//     view makes durable before anything is deleted;
//   - in a multi-region node, the shipper has handed it to the replicator
//     (it lies below the shipped position);
//   - its op is causally stable (the sequencer's Stable vector covers its
//     dot): every member region has applied it, so a region that is
//     unreachable, or has not acknowledged, pins the log.
//
// Records of another producer, records that do not decode and records of
// an earlier collection of the same name are never read again either. A
// pass scans each op log from where the previous one stopped up to the
// first record still needed, within a budget per pass, then deletes the
// whole segments below it (broker.Stream.TrimBelow; the active segment
// always stays). The compaction loop (ttl.go) runs a pass every
// SweepInterval, never the write path.

// Bounds of one trimming pass, over every collection.
const (
	maxTrimScanRecords = 256 << 10
	maxTrimScanBytes   = 64 << 20
	// trimReadRecords and trimReadBytes bound one read of a scan.
	trimReadRecords = 1024
	trimReadBytes   = 4 << 20
)

// opLogTrim is a collection's trimming state.
type opLogTrim struct {
	mu sync.Mutex // one pass at a time
	// end is the op-log offset below which every record is trimmable (0:
	// not started).
	end uint64
}

// trimBudget is what is left of a pass's scan bounds.
type trimBudget struct {
	records, bytes int
}

func (b *trimBudget) exhausted() bool { return b.records <= 0 || b.bytes <= 0 }

// OpLogInfo describes a collection's op log.
type OpLogInfo struct {
	// Bytes is the log's size on disk, indexes included.
	Bytes int64
	// Start is the first offset still stored: every op below it was
	// trimmed. End is one past the last op.
	Start, End uint64
}

// OpLog describes a collection's op log.
func (s *Service) OpLog(ref Ref) (OpLogInfo, error) {
	c, err := s.collection(ref)
	if err != nil {
		return OpLogInfo{}, err
	}
	src := c.opsStream.Source()
	return OpLogInfo{Bytes: c.opsStream.SizeBytes(), Start: src.StartOffset(), End: src.EndOffset()}, nil
}

// TrimOpLogs runs one trimming pass over every collection and returns how
// many op-log segments it deleted. A pass reads at most maxTrimScanRecords
// records (maxTrimScanBytes bytes) of the op logs; the next one goes on
// from there. In a region of several nodes nothing is trimmed: a node that
// leads a collection next brings its view up from the op log.
func (s *Service) TrimOpLogs() (int, error) {
	if s.clustered() {
		return 0, nil
	}
	s.mu.RLock()
	cols := make([]*collection, 0, len(s.cols))
	for _, c := range s.cols {
		cols = append(cols, c)
	}
	s.mu.RUnlock()
	budget := trimBudget{records: maxTrimScanRecords, bytes: maxTrimScanBytes}
	total := 0
	var errs []error
	for _, c := range cols {
		n, err := c.trimOpLog(&budget)
		total += n
		if err != nil && !errors.Is(err, segment.ErrClosed) { // closed: dropped meanwhile
			errs = append(errs, fmt.Errorf("collections: trim op log of %s: %w", c.ref, err))
		}
	}
	return total, errors.Join(errs...)
}

// trimOpLog advances the collection's trimmable prefix within the budget
// and deletes the whole segments below it.
func (c *collection) trimOpLog(budget *trimBudget) (int, error) {
	c.trim.mu.Lock()
	defer c.trim.mu.Unlock()
	c.mu.Lock()
	skip := c.closed || c.failed.Load() != nil // a failed collection is re-read from its log on restart
	var stable collections.Vector
	if !skip {
		stable = c.svc.seq.Stable(c.ref)
	}
	c.mu.Unlock()
	if skip {
		return 0, nil
	}
	info := c.info.Load()
	limit, err := c.trimLimit(info)
	if err != nil {
		return 0, err
	}
	src := c.opsStream.Source()
	start := src.StartOffset()
	if c.trim.end == 0 {
		if c.trim.end, err = c.svc.store.OpLogBase(info.ID); err != nil {
			return 0, err
		}
	}
	from := max(c.trim.end, start)
	for from < limit && !budget.exhausted() {
		recs, err := src.Read(from, min(trimReadRecords, budget.records), min(trimReadBytes, budget.bytes))
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			break
		}
		needed := false
		for i := range recs {
			rec := &recs[i]
			if rec.Offset >= limit {
				break
			}
			budget.records--
			budget.bytes -= rec.Size()
			if needed = !trimmable(rec, info, stable); needed {
				break
			}
			from = rec.Offset + 1
		}
		if needed {
			break
		}
	}
	c.trim.end = max(c.trim.end, from)
	if c.opsStream.TrimmableBelow(c.trim.end) <= start {
		return 0, nil
	}
	// The view's state up to the position read above must survive a crash
	// before the records it was built from go.
	if err := c.svc.store.Sync(); err != nil {
		return 0, err
	}
	n, err := c.opsStream.TrimBelow(c.trim.end)
	if n > 0 {
		c.log.Debug("op log trimmed", zap.Int("segments", n), zap.Uint64("start", src.StartOffset()), zap.Uint64("trimmable", c.trim.end))
	}
	return n, err
}

// trimLimit is the op-log position below which records are in the view
// and its change feed (and, with several regions, shipped).
func (c *collection) trimLimit(info *store.CollectionInfo) (uint64, error) {
	st := c.svc.store
	limit, err := st.Position(info.ID)
	if err != nil {
		return 0, err
	}
	if c.svc.geo != nil {
		shipped, ok, err := st.Shipped(info.ID)
		if err != nil {
			return 0, err
		}
		if ok {
			limit = min(limit, shipped)
		}
	}
	return min(limit, c.opsStream.Source().EndOffset()), nil
}

// trimmable reports whether an op-log record below the trim limit is no
// longer needed: replay would ignore it, or its op is causally stable.
func trimmable(rec *segment.Record, info *store.CollectionInfo, stable collections.Vector) bool {
	if rec.Producer != opsProducer {
		return true
	}
	op, err := collections.DecodeOp(rec.Payload)
	if err != nil || op.Collection != info.Name {
		return true
	}
	return stable.Covers(op.Dot)
}
