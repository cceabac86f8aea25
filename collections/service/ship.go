package service

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/replicator"
)

// Shipping. A collection's op log is the source of truth for the ops made
// in this region: the shipper tails it from the shipped position (saved in
// the view) up to the position the view has committed, and hands this
// region's ops to the replicator in log order (PublishOp). After a crash it
// starts again from the saved position; ops sent twice are duplicates
// every region ignores (by their collection dot). Once idle, or at most
// every ackInterval while busy, it also ships an ack: what this region
// has applied to the collection (see GeoSequencer).
//
// An ack promises that every op this region ships after it has seen the
// acked ops. It is therefore the vector of the ops (own and remote) at
// the op-log positions already shipped, not what the region has applied:
// an own op written before a remote op arrived but committed after the
// shipped position has not seen it, and an ack getting ahead of it would
// let the other regions compact the remote op's object markers, which
// that op (a delete, say) would then remove without its values, leaving
// children under a node that is no longer an object. After a restart the
// vector starts empty: the acks rise again as the log is shipped (the
// other regions keep what they learnt).

// Bounds of the shipper.
const (
	shipBatchRecords = 1024
	shipBatchBytes   = 8 << 20
	// ackInterval is the shortest time between two acks of a collection.
	ackInterval = 200 * time.Millisecond
	// shipRetry is the pause after a failed read or publish.
	shipRetry = time.Second
)

// shipper ships one collection's own ops.
type shipper struct {
	c *collection
	// limit is the op-log position up to which the view is committed.
	limit atomic.Uint64
	// pos is the op-log position shipped so far (for status and tests).
	pos     atomic.Uint64
	wake    chan struct{}
	stop    chan struct{}
	started atomic.Bool
	once    sync.Once

	// owned by run
	// shippedSeen is the vector of the ops at the op-log positions shipped
	// since the shipper started: what every op it ships from now on has
	// seen.
	shippedSeen collections.Vector
	lastAck     collections.Vector
	ackAt       time.Time
	// savedPos is the position last saved to the region's map (a
	// geo-replicated region of several nodes), at savedAt.
	savedPos uint64
	savedAt  time.Time
}

func newShipper(c *collection) *shipper {
	return &shipper{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// advance raises the committed limit and wakes the shipper.
func (sh *shipper) advance(end uint64) {
	for {
		cur := sh.limit.Load()
		if end <= cur || sh.limit.CompareAndSwap(cur, end) {
			break
		}
	}
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// start runs the shipper with r (once).
func (sh *shipper) start(r Replication) {
	if !sh.started.CompareAndSwap(false, true) {
		return
	}
	s := sh.c.svc
	s.wg.Add(1)
	go sh.run(r)
}

// close stops the shipper without waiting.
func (sh *shipper) close() { sh.once.Do(func() { close(sh.stop) }) }

func (sh *shipper) stopped() bool {
	select {
	case <-sh.stop:
		return true
	case <-sh.c.svc.stop:
		return true
	default:
		return false
	}
}

// pause waits d or until the shipper stops; it reports whether to go on.
func (sh *shipper) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-sh.stop:
		return false
	case <-sh.c.svc.stop:
		return false
	case <-t.C:
		return true
	}
}

func (sh *shipper) run(r Replication) {
	c := sh.c
	s := c.svc
	defer s.wg.Done()
	defer func() { sh.saveRegion(sh.pos.Load(), true) }()
	info := c.info.Load()
	src := c.opsStream.Source()
	from, ok, err := s.store.Shipped(info.ID)
	if err != nil || !ok {
		from = src.StartOffset()
	}
	if s.geoClustered() {
		// Another node of the region may have shipped further while it
		// led the op log: go on from there (ops shipped twice are
		// duplicates everywhere, so an older position is only slower).
		from = max(from, s.regionShipped(info))
		sh.savedPos = from
	}
	sh.pos.Store(from)
	for !sh.stopped() {
		lim := sh.limit.Load()
		if from >= lim {
			if !sh.idle(r) {
				return
			}
			continue
		}
		recs, err := src.Read(from, shipBatchRecords, shipBatchBytes)
		if err != nil || len(recs) == 0 {
			if err != nil {
				c.log.Warn("ship: read op log", zap.Uint64("from", from), zap.Error(err))
			}
			if !sh.pause(shipRetry) {
				return
			}
			continue
		}
		results := make(chan error, len(recs))
		sent, next := 0, from
		seen := map[string]uint64{}
		for _, rec := range recs {
			if rec.Offset >= lim {
				break
			}
			next = rec.Offset + 1
			if rec.Producer != opsProducer {
				continue
			}
			op, err := collections.DecodeOp(rec.Payload)
			if err != nil {
				continue
			}
			seen[op.Dot.Region] = max(seen[op.Dot.Region], op.Dot.Seq)
			if op.Dot.Region != s.region {
				continue
			}
			payload := appendOpPayload(nil, info.Tenant, info.Fabric, rec.Payload)
			sent++
			r.PublishOp(ReplicationKind, payload, func(_ replicator.Dot, err error) { results <- err })
		}
		var failed error
		for range sent {
			select {
			case err := <-results:
				if err != nil && failed == nil {
					failed = err
				}
			case <-sh.stop:
				return
			case <-s.stop:
				return
			}
		}
		if failed != nil {
			// Sent again from the same position: the copies that went
			// through are duplicates everywhere.
			c.log.Warn("ship: publish to the replicator", zap.Error(failed))
			if !sh.pause(shipRetry) {
				return
			}
			continue
		}
		from = next
		sh.pos.Store(from)
		if len(seen) > 0 {
			sh.shippedSeen = sh.shippedSeen.Merge(collections.VectorOf(seen))
		}
		if err := s.store.SetShipped(info.ID, from); err != nil {
			c.log.Warn("ship: save position", zap.Error(err))
		}
		sh.saveRegion(from, false)
		if time.Since(sh.ackAt) >= ackInterval {
			sh.ack(r)
		}
	}
}

// idle waits for more to ship; it acks when what this region applied
// changed. It reports whether to go on.
func (sh *shipper) idle(r Replication) bool {
	if sh.ackDue() {
		if wait := ackInterval - time.Since(sh.ackAt); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-sh.stop:
				return false
			case <-sh.c.svc.stop:
				return false
			case <-sh.wake:
				return true
			case <-t.C:
			}
		}
		sh.ack(r)
		return true
	}
	select {
	case <-sh.stop:
		return false
	case <-sh.c.svc.stop:
		return false
	case <-sh.wake:
		return true
	}
}

// ackVector is what the ops at the shipped op-log positions add up to:
// every op shipped after the ack has seen it (see Shipping, at the top
// of this file). Remote ops count as soon as they precede the shipped position.
func (sh *shipper) ackVector() collections.Vector {
	return sh.shippedSeen
}

func (sh *shipper) ackDue() bool {
	v := sh.ackVector()
	return len(v) > 0 && !sh.lastAck.Dominates(v)
}

// ack ships the applied vector when it changed since the last ack.
func (sh *shipper) ack(r Replication) {
	v := sh.ackVector()
	if len(v) == 0 || sh.lastAck.Dominates(v) {
		return
	}
	info := sh.c.info.Load()
	known := make(map[string]uint64, len(v))
	for _, e := range v {
		known[e.Region] = e.Seq
	}
	payload, err := appendMetaPayload(nil, &MetaEvent{Type: MetaAck, Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name, Known: known})
	if err != nil {
		sh.c.log.Warn("ship: encode ack", zap.Error(err))
		return
	}
	// The ack needs no answer: a lost one is followed by the next.
	r.PublishOp(ReplicationKind, payload, func(replicator.Dot, error) {})
	sh.lastAck = v
	sh.ackAt = time.Now()
}

// saveRegion records the shipped position in the region's map (a
// geo-replicated region of several nodes), at most every shipSaveInterval
// unless final (the shipper stops: this node no longer leads the op log,
// or shuts down).
func (sh *shipper) saveRegion(pos uint64, final bool) {
	s := sh.c.svc
	if !s.geoClustered() || pos <= sh.savedPos || (!final && time.Since(sh.savedAt) < shipSaveInterval) {
		return
	}
	if err := s.saveRegionShipped(sh.c.info.Load(), pos); err != nil {
		s.rate.Warn(sh.c.log, "ship region "+sh.c.ref.String(), "ship: saving the shipped position in the region", zap.Error(err))
		return
	}
	sh.savedPos, sh.savedAt = pos, time.Now()
}
