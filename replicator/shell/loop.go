package shell

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
)

// loop is the only goroutine that touches the engine. It folds bursts of
// input (publishes, peer messages) into one engine step, ticks, and hands
// each Output to the completer after starting its journal writes.
func (s *Shell) loop() {
	defer close(s.loopDone)
	defer close(s.steps)
	ticker := time.NewTicker(s.opts.TickInterval)
	defer ticker.Stop()
	for {
		ticked := false
		select {
		case <-s.stop:
			s.drainOnStop()
			return
		case r := <-s.pubCh:
			s.handlePub(r)
		case m := <-s.netCh:
			s.handleNet(m)
		case f := <-s.ctlCh:
			f(time.Now())
		case <-s.peerWake:
			s.syncPeers(time.Now())
		case <-ticker.C:
			ticked = true
		}
	more:
		for range maxInputsPerStep {
			select {
			case r := <-s.pubCh:
				s.handlePub(r)
			case m := <-s.netCh:
				s.handleNet(m)
			default:
				break more
			}
		}
		now := time.Now()
		if ticked || now.Sub(s.lastTick) >= minTickGap {
			s.engine.Tick(now)
			s.lastTick = now
		}
		s.releaseHeld()
		s.flush()
		s.heal(now)
		s.tryResume()
		s.checkJoinApplied()
	}
}

// drainOnStop fails the publishes still queued or held.
func (s *Shell) drainOnStop() {
	for _, r := range s.held {
		r.fail(ErrClosed)
	}
	s.held = nil
	for {
		select {
		case r := <-s.pubCh:
			r.fail(ErrClosed)
		default:
			return
		}
	}
}

// handlePub creates local ops, or holds the request while the region is
// joining (see replicator.Engine.Joining): a new region learns in one
// round trip that it is new; a wiped one first gets its own ops back.
func (s *Shell) handlePub(r *pubReq) {
	// Publishes keep their order: those held while the region joined or
	// applying was paused are created before this one. The loop releases
	// them once per turn, and the engine can stop joining in between (a
	// peer's ack): created at once, this one would overtake them (a
	// backfill's end before its parts, a producer's later batch first).
	s.releaseHeld()
	if err := s.failure(); err != nil {
		r.fail(err)
		return
	}
	if s.engine.Joining() || s.paused.Load() {
		if len(s.held) >= maxHeldPubs {
			why := error(replicator.ErrJoining)
			if !s.engine.Joining() {
				why = ErrPaused
			}
			r.fail(fmt.Errorf("shell: %d publishes already wait: %w", len(s.held), why))
			return
		}
		s.held = append(s.held, r)
		return
	}
	now := time.Now()
	for i, body := range r.bodies {
		d, err := s.engine.Publish(now, body)
		if err != nil {
			// Never partway: the engine refuses only while joining, and
			// holdOrRun keeps requests until then.
			r.fail(fmt.Errorf("shell: publish: %w", err))
			return
		}
		s.own = append(s.own, ownRef{seq: d.Seq, req: r, idx: i})
	}
	s.m.published.Add(uint64(len(r.bodies)))
}

// handleNet feeds a peer's message to the engine.
func (s *Shell) handleNet(m netMsg) {
	defer s.netBytes.release(m.bytes)
	if s.failed.Load() != nil {
		return
	}
	now := time.Now()
	switch {
	case m.batch != nil:
		err := s.engine.ReceiveBatch(now, *m.batch)
		switch {
		case err == nil:
		case errors.Is(err, replicator.ErrDuplicateBatch):
			s.m.duplicateBatches.Add(1)
		case errors.Is(err, replicator.ErrMissingBase):
			s.m.missingBase.Add(1)
		default:
			s.reject(m.batch.From, err)
		}
	case m.ack != nil:
		if err := s.engine.ReceiveAck(now, *m.ack); err != nil {
			s.reject(m.ack.From, err)
		}
	}
}

// syncPeers tells the engine about links that came up or went down.
func (s *Shell) syncPeers(now time.Time) {
	for p, w := range s.peerWant {
		up, gen := w.up.Load(), w.gen.Load()
		cur := s.peerCur[p]
		switch {
		case up && (!cur.up || gen != cur.gen):
			if err := s.engine.PeerUp(now, p); err != nil {
				if !errors.Is(err, replicator.ErrEvicted) {
					s.log.Warn("peer up", zap.String("peer", p), zap.Error(err))
				}
			} else {
				s.log.Info("peer link up", zap.String("peer", p))
			}
		case !up && cur.up:
			if err := s.engine.PeerDown(p); err != nil {
				s.log.Warn("peer down", zap.String("peer", p), zap.Error(err))
			}
			s.log.Info("peer link down", zap.String("peer", p))
		}
		s.peerCur[p] = peerCur{up: up, gen: gen}
	}
}

// flush turns the engine's Output into a step: it starts the journal
// writes of its deliveries (one append per origin, in seq order; an op
// already journaled, left beyond the consistent cut by a crash, is not
// written again) and queues the step for the completer.
func (s *Shell) flush() {
	out := s.engine.Ready()
	if out.IsEmpty() {
		return
	}
	st := &step{shell: s, durable: make(chan struct{}), sends: out.Sends, acks: out.Acks}
	st.ds = make([]delivery, len(out.Deliveries))
	groups := make(map[string][]segment.Record)
	for i, d := range out.Deliveries {
		st.ds[i] = delivery{d: d}
		if d.Origin == s.self && !d.Recovered {
			if len(s.own) == 0 || s.own[0].seq != d.Seq {
				s.fail(fmt.Errorf("shell: own delivery %s without its publish: %w", d.Dot(), ErrJournal))
				continue
			}
			st.ds[i].req, st.ds[i].idx = s.own[0].req, s.own[0].idx
			s.own = s.own[1:]
		}
		switch end := s.jend[d.Origin]; {
		case d.Seq <= end:
			// Journaled before a restart, beyond the cut: its Order is
			// that life's, so what precedes it in the streams is synced
			// before it is applied (completeStep).
			s.m.rejournaled.Add(1)
			st.rejournaled = true
			continue
		case d.Seq != end+1:
			s.fail(fmt.Errorf("shell: delivery %s after %d journaled: %w", d.Dot(), end, ErrJournal))
			continue
		}
		s.jend[d.Origin] = d.Seq
		s.order++
		meta := replicator.AppendMeta(nil, d)
		if groups[d.Origin] == nil {
			groups[d.Origin] = make([]segment.Record, 0, len(out.Deliveries)-i)
		}
		groups[d.Origin] = append(groups[d.Origin], segment.Record{
			PublishTime: d.HLC.WallNanos / int64(time.Millisecond),
			Origin:      d.Origin,
			OriginSeq:   d.Seq,
			Meta:        meta,
			Payload:     d.Body,
			SequenceID:  int64(s.order),
		})
		if d.Origin == s.self {
			// Own ops are what senders read most; relayed ones come from disk.
			s.journals.cache.put(d.Origin, replicator.JournalEntry{Seq: d.Seq, Meta: meta, Body: d.Body, Order: s.order})
		}
	}
	st.pending.Store(int32(len(groups)))
	if len(groups) == 0 {
		close(st.durable)
	}
	// After a failed journal write no append may follow it (the journal
	// would skip seqs): the step is refused instead.
	failed := s.failure()
	for o, recs := range groups {
		if failed != nil {
			st.journaled(0, failed)
			continue
		}
		s.journals.logs[o].AppendAsync(recs, st.journaled)
	}
	s.stepsInFlight.Add(1)
	s.steps <- st
}

// releaseHeld creates the ops of the publishes held while joining, in
// arrival order, once the region has joined.
func (s *Shell) releaseHeld() {
	if s.joining {
		if s.engine.Joining() {
			return
		}
		s.joining = false
		if err := s.records.setJoinMark(false); err != nil {
			s.fail(err)
			return
		}
		s.joinTarget = s.engine.Delivered()
		s.log.Info("joined the fabric", zap.Int("heldPublishes", len(s.held)),
			zap.Uint64("recoveredOwnOps", s.engine.Metrics().RecoveredOwnOps))
	}
	if len(s.held) == 0 || s.paused.Load() || s.engine.Joining() {
		return
	}
	held := s.held
	s.held = nil
	for _, r := range held {
		s.handlePub(r)
	}
}

// checkJoinApplied reports the region joined (Joined) once everything
// delivered while joining, its own recovered ops included, is applied:
// services that number their own operations (collections) must see their
// previous life's before they number new ones.
func (s *Shell) checkJoinApplied() {
	if s.joinTarget == nil {
		return
	}
	applied, frozen := s.progress.peek()
	if !s.joinTarget.LessEq(applied) && !frozen {
		return
	}
	if frozen {
		s.log.Warn("joined with the applied watermark frozen by an apply error")
	}
	s.joinTarget = nil
	if s.joined.Load() {
		return // joined before a heal or a resume rebuilt the engine
	}
	s.joined.Store(true)
	close(s.joinedC)
	s.log.Info("joined: everything recovered is applied", zap.Any("applied", applied))
}

// Joined reports whether the region has joined the fabric: it did not
// start empty, or it heard from its peers, got back its own ops and
// applied them (see replicator.Engine.Joining). Until then local publishes
// wait, and services that number their own operations must not write.
func (s *Shell) Joined() bool { return s.joined.Load() }

// JoinedC is closed once Joined is true.
func (s *Shell) JoinedC() <-chan struct{} { return s.joinedC }

// AwaitJoined implements broker.Replicator: ready(nil) once Joined (at
// once if it is), ready(ErrClosed) if the shell stops first.
func (s *Shell) AwaitJoined(ready func(error)) {
	if s.joined.Load() {
		ready(nil)
		return
	}
	go func() {
		select {
		case <-s.joinedC:
			ready(nil)
		case <-s.stop:
			ready(ErrClosed)
		}
	}()
}
