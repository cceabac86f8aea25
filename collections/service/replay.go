package service

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// Bounds of one replay read.
const (
	replayBatchRecords = 1024
	replayBatchBytes   = 8 << 20
)

// recover restores the collection after a start: the sequencer learns the
// view's vector, then the op log is re-read from the position the change
// feed is complete to (see the package comment).
func (c *collection) recover() error {
	info := c.info.Load()
	st := c.svc.store
	applied, hlc, err := st.Applied(info.ID)
	if err != nil {
		return err
	}
	pos, err := st.Position(info.ID)
	if err != nil {
		return err
	}
	for _, e := range applied {
		c.svc.seq.Observe(c.ref, collections.Dot{Region: e.Region, Seq: e.Seq}, hlc)
	}
	c.applied = applied
	src := c.opsStream.Source()
	start, end := src.StartOffset(), src.EndOffset()
	if pos > end {
		c.log.Warn("op log ends before the view's position", zap.Uint64("position", pos), zap.Uint64("end", end))
		pos = end
	}
	if pos < start {
		c.log.Warn("op log retention removed ops the change feed may lack", zap.Uint64("position", pos), zap.Uint64("start", start))
		pos = start
	}
	replayed := 0
	for from := pos; from < end; {
		recs, err := src.Read(from, replayBatchRecords, replayBatchBytes)
		if err != nil {
			return fmt.Errorf("collections: replay op log of %s at %d: %w", c.ref, from, err)
		}
		if len(recs) == 0 {
			break
		}
		if err := c.replay(info, recs); err != nil {
			return err
		}
		replayed += len(recs)
		from = recs[len(recs)-1].Offset + 1
	}
	// Only when it moved: a node restarted on a full disk writes nothing
	// here when it has nothing to replay. Without a change feed here (a
	// region of several nodes where another node leads it) the events
	// were not published: the position stays.
	if stored, err := st.Position(info.ID); c.chg != nil && (err != nil || stored != end) {
		if err := st.SetPosition(info.ID, end); err != nil {
			return err
		}
	}
	if replayed > 0 {
		c.log.Info("op log replayed", zap.Int("ops", replayed), zap.Uint64("from", pos), zap.Uint64("to", end))
	}
	return nil
}

// replay applies one run of op-log records the view may lack and
// re-publishes their change events.
func (c *collection) replay(info *store.CollectionInfo, recs []segment.Record) error {
	local := map[string]*overlayEntry{}
	b := c.svc.store.NewBatch()
	defer b.Close()
	var changes []broker.Message
	var maxHLC uint64
	for _, rec := range recs {
		if rec.Properties[barrierProperty] != "" {
			continue // a new leader's barrier (clusterloop.go)
		}
		if rec.Producer != opsProducer {
			c.log.Warn("op log record from a foreign producer ignored", zap.Uint64("offset", rec.Offset), zap.String("producer", rec.Producer))
			continue
		}
		op, err := collections.DecodeOp(rec.Payload)
		if err == nil && op.Collection != info.Name {
			err = fmt.Errorf("op of collection %q", op.Collection)
		}
		if err != nil {
			c.log.Warn("op log record ignored", zap.Uint64("offset", rec.Offset), zap.Error(err))
			continue
		}
		c.svc.seq.Observe(c.ref, op.Dot, op.HLC)
		if g := c.svc.geo; g != nil && op.Dot.Region != c.svc.region {
			// What its region had applied (as when it was delivered): a
			// new leader of the op log compacts without waiting for acks.
			g.Learn(c.ref, op.Dot.Region, op.Context.Merge(collections.Vector{{Region: op.Dot.Region, Seq: op.Dot.Seq}}))
		}
		maxHLC = max(maxHLC, op.HLC)
		cur, err := c.current(op.Key, local)
		if err != nil {
			return err
		}
		shown, rev := []byte(nil), ""
		if cur != nil {
			shown, _ = cur.JSON()
			rev = cur.Rev()
		}
		if !c.applied.Covers(op.Dot) {
			next := collections.NewDoc(info.Name, op.Key)
			if cur != nil {
				next = cur.Clone()
			}
			if _, err := next.Apply(&op); err != nil {
				c.log.Warn("op log record ignored", zap.Uint64("offset", rec.Offset), zap.Error(err))
				continue
			}
			c.applied = c.applied.Merge(collections.Vector{{Region: op.Dot.Region, Seq: op.Dot.Seq}})
			shown, _ = next.JSON()
			rev = next.Rev()
			if next.Compact(c.svc.seq.Stable(c.ref)) {
				next = nil
			}
			if err := b.PutDoc(info, op.Key, cur, next); err != nil {
				return err
			}
			local[op.Key] = &overlayEntry{doc: next}
		}
		changes = append(changes, changeMessage(Change{
			Key: op.Key, ID: info.Name + "/" + op.Key, Rev: rev, Op: opChangeName(op.Kind.String(), shown != nil),
			Region: op.Dot.Region, Dot: op.Dot.String(), HLC: op.HLC, Doc: shown,
		}, rec.Offset+info.ChangeSeqBase))
	}
	if err := b.SetApplied(info.ID, c.applied, maxHLC); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return err
	}
	if len(changes) == 0 || c.chg == nil {
		return nil
	}
	for _, r := range c.chg.Publish(changes) {
		if r.Err != nil {
			return fmt.Errorf("collections: re-publish changes of %s: %w", c.ref, r.Err)
		}
	}
	return nil
}
