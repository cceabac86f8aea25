package replicator

import (
	"fmt"
	"time"
)

// ReceiveBatch handles a batch from a peer. Operations already delivered are
// ignored (dots make the transport idempotent); deliverable ones are
// delivered in causal order; the rest are buffered within bounds. A batch
// that fails validation returns an error and changes nothing; a batch whose
// every op was already delivered returns ErrDuplicateBatch and changes
// nothing.
func (e *Engine) ReceiveBatch(now time.Time, b Batch) error {
	o, err := e.validateBatch(b)
	if err != nil {
		return fmt.Errorf("replicator: batch %s->%s origin %s: %w", b.From, b.To, b.Origin, err)
	}
	last := b.Ops[len(b.Ops)-1].Seq
	if last <= e.delivered[o] {
		e.metrics.DuplicateOps += uint64(len(b.Ops))
		return fmt.Errorf("replicator: batch %s->%s %s:%d..%d (delivered %d): %w",
			b.From, b.To, b.Origin, b.Ops[0].Seq, last, e.delivered[o], ErrDuplicateBatch)
	}
	running := e.scratch
	clear(running)
	if b.Based {
		// The first op's dependencies are a delta against op first-1: use
		// this region's record of it, delivered or buffered.
		first := b.Ops[0].Seq
		switch p := e.buf.get(o, first-1); {
		case e.delivered[o]+1 >= first && e.depsKnown[o]:
		case p != nil:
			copy(running, p.deps)
		default:
			return fmt.Errorf("replicator: batch %s->%s %s:%d.. based on an op this region lacks (delivered %d): %w",
				b.From, b.To, b.Origin, first, e.delivered[o], ErrMissingBase)
		}
	}
	for _, op := range b.Ops {
		if b.Based && op.Seq == e.delivered[o]+1 {
			// The op before this one is the last delivered: its
			// dependencies are the base of this op's delta.
			copy(running, e.lastDeps[o])
		}
		for _, d := range op.Deps {
			running[e.index[d.Region]] = d.Seq
		}
		if !e.offer(now, o, op, running) && op.Seq == e.delivered[o]+1 && e.buf.ops > 0 {
			// A buffered op may be what this one waits for: drain, retry.
			e.drain(now)
			if op.Seq > e.delivered[o] {
				e.offer(now, o, op, running)
			}
		}
	}
	e.drain(now)
	e.checkJoined(now)
	return nil
}

// validateBatch checks b against the membership and this region's state
// without changing anything, and returns the origin's index.
func (e *Engine) validateBatch(b Batch) (int, error) {
	if b.To != e.cfg.Self {
		return 0, fmt.Errorf("addressed to %q, not %q: %w", b.To, e.cfg.Self, ErrInvalidBatch)
	}
	if _, err := e.activePeer(b.From); err != nil {
		return 0, err
	}
	o, ok := e.index[b.Origin]
	if !ok {
		return 0, fmt.Errorf("origin: %w", ErrUnknownRegion)
	}
	if len(b.Ops) == 0 || len(b.Ops) > MaxBatchOps {
		return 0, fmt.Errorf("%d ops, want 1..%d: %w", len(b.Ops), MaxBatchOps, ErrInvalidBatch)
	}
	first := b.Ops[0].Seq
	if first == 0 || first > maxSeq-uint64(len(b.Ops)) {
		return 0, fmt.Errorf("first seq %d out of range: %w", first, ErrInvalidBatch)
	}
	if first > e.delivered[o]+e.cfg.MaxAheadOps {
		return 0, fmt.Errorf("first seq %d, delivered %d, max ahead %d: %w",
			first, e.delivered[o], e.cfg.MaxAheadOps, ErrFutureDot)
	}
	last := first + uint64(len(b.Ops)) - 1
	if o == e.self && last > e.delivered[o] && !e.join.active {
		return 0, fmt.Errorf("own op %d, created only %d: %w", last, e.delivered[o], ErrFutureDot)
	}
	running := e.scratch
	clear(running)
	for i, op := range b.Ops {
		if op.Seq != first+uint64(i) {
			return 0, fmt.Errorf("op %d has seq %d, want %d: %w", i, op.Seq, first+uint64(i), ErrInvalidBatch)
		}
		for _, d := range op.Deps {
			r, ok := e.index[d.Region]
			switch {
			case !ok:
				return 0, fmt.Errorf("op %d depends on %q: %w", op.Seq, d.Region, ErrUnknownRegion)
			case r == o:
				return 0, fmt.Errorf("op %d depends on its own origin: %w", op.Seq, ErrInvalidBatch)
			case d.Seq < running[r]:
				return 0, fmt.Errorf("op %d dependency on %s goes back from %d to %d: %w",
					op.Seq, d.Region, running[r], d.Seq, ErrInvalidBatch)
			case r == e.self && d.Seq > e.delivered[r] && !e.join.active:
				return 0, fmt.Errorf("op %d depends on %s:%d, created only %d: %w",
					op.Seq, d.Region, d.Seq, e.delivered[r], ErrFutureDot)
			}
			running[r] = d.Seq
		}
	}
	return o, nil
}

// maxSeq bounds sequence numbers so that arithmetic on them cannot overflow.
const maxSeq = uint64(1) << 62

// depsDelivered reports whether every dependency in full (dense, the
// origin's own component ignored) is delivered here.
func (e *Engine) depsDelivered(o int, full []uint64) bool {
	for r, v := range full {
		if v > e.delivered[r] && r != o {
			return false
		}
	}
	return true
}

// offer delivers op of origin o (full dependency vector running) when it
// is next in its origin's log and its dependencies are delivered, skips it
// when already delivered, and otherwise buffers it. It reports whether the
// op is now delivered (by this call or before).
func (e *Engine) offer(now time.Time, o int, op Op, running []uint64) bool {
	switch {
	case op.Seq <= e.delivered[o]:
		e.metrics.DuplicateOps++
		return true
	case op.Seq == e.delivered[o]+1 && e.depsDelivered(o, running):
		e.observe(op.HLC, now)
		e.deliver(o, op.Seq, op.HLC, running, op.Body)
		e.buf.remove(o, op.Seq)
		return true
	}
	e.bufferOp(o, op, running)
	return false
}

// bufferOp keeps an undeliverable op if it is not buffered yet and the
// bounds allow; otherwise it is dropped (the sender retransmits).
func (e *Engine) bufferOp(o int, op Op, full []uint64) {
	if e.buf.get(o, op.Seq) != nil {
		e.metrics.DuplicateOps++
		return
	}
	p := &pending{hlc: op.HLC, deps: append([]uint64(nil), full...), body: op.Body}
	if e.buf.ops+1 > e.cfg.MaxBufferedOps || e.buf.bytes+p.size() > e.cfg.MaxBufferedBytes {
		e.metrics.DroppedOps++
		return
	}
	e.buf.put(o, op.Seq, p)
}

// drain delivers buffered ops that became deliverable, until none does.
func (e *Engine) drain(now time.Time) {
	if e.buf.ops == 0 {
		return
	}
	for progress := true; progress; {
		progress = false
		for o := range e.buf.byOrigin {
			for e.buf.has(o) {
				seq := e.delivered[o] + 1
				p := e.buf.get(o, seq)
				if p == nil || !e.depsDelivered(o, p.deps) {
					break
				}
				e.buf.remove(o, seq)
				e.observe(p.hlc, now)
				e.deliver(o, seq, p.hlc, p.deps, p.body)
				progress = true
			}
		}
	}
}

// observe merges a delivered op's timestamp into the clock.
func (e *Engine) observe(t Timestamp, now time.Time) {
	if _, err := e.clock.Observe(t, now.UnixNano()); err != nil {
		e.metrics.ClockSkew++
	}
}

// ReceiveAck merges a peer's advertised delivered vector. An invalid ack
// returns an error and changes nothing.
func (e *Engine) ReceiveAck(now time.Time, a Ack) error {
	if a.To != e.cfg.Self {
		return fmt.Errorf("replicator: ack %s->%s: not for %q: %w", a.From, a.To, e.cfg.Self, ErrInvalidAck)
	}
	from, err := e.activePeer(a.From)
	if err != nil {
		return fmt.Errorf("replicator: ack from %s: %w", a.From, err)
	}
	if len(a.Delivered) > MaxRegions {
		return fmt.Errorf("replicator: ack from %s: %d entries: %w", a.From, len(a.Delivered), ErrTooLarge)
	}
	for _, d := range a.Delivered {
		r, ok := e.index[d.Region]
		switch {
		case !ok:
			return fmt.Errorf("replicator: ack from %s: entry %q: %w", a.From, d.Region, ErrUnknownRegion)
		case r == e.self && d.Seq > e.delivered[r] && !e.join.active:
			return fmt.Errorf("replicator: ack from %s: %s=%d, created only %d: %w",
				a.From, d.Region, d.Seq, e.delivered[r], ErrFutureDot)
		case d.Seq >= maxSeq:
			return fmt.Errorf("replicator: ack from %s: %s=%d: %w", a.From, d.Region, d.Seq, ErrInvalidAck)
		}
	}
	p := e.peers[from]
	// A stale ack (reordered behind a later one) is merged by maximum
	// only: it says nothing of what the peer lost or saw since.
	fresh := a.Stamp.IsZero() || a.Stamp.Compare(p.stamp) > 0
	if fresh {
		if !a.Stamp.IsZero() {
			p.stamp = a.Stamp
		}
		p.membership = a.Membership
	}
	e.noteOwn(now, from, a, fresh)
	if a.Full && fresh {
		e.regress(now, from, a.Delivered)
		e.join.heard[from] = true
		if a.SeenJoining && e.join.active && e.answers(a) {
			e.join.seen[from] = true
		}
	}
	for _, d := range a.Delivered {
		r := e.index[d.Region]
		if d.Seq <= p.acked[r] {
			continue
		}
		p.acked[r] = d.Seq
		p.noBase[r] = false
		p.lastProgress[r] = now
		p.lagSince[r] = now
		p.rto[r] = e.cfg.RetransmitTimeout
		if p.sent[r] < d.Seq {
			p.sent[r] = d.Seq
		}
	}
	if a.Joining {
		// The peer joins: what of its origin is buffered here past what it
		// has is a previous life's that nobody delivered (what a region
		// delivered comes back through it); once the peer joined, its new
		// ops would reuse those dots.
		e.buf.dropOriginAbove(from, p.acked[from])
		if fresh {
			// Answer at once the first Joining ack, and every one that
			// asks (the peer has not counted an answer since it last
			// needed answers again).
			p.joinStamp = a.Stamp
			if !p.joinSeen || a.Asking {
				p.forceFullAck = true
			}
		}
	}
	if fresh {
		p.joinSeen = a.Joining
	}
	e.checkJoined(now)
	return nil
}

// regress lowers peer i's acked counts to what its full ack advertises
// (absent: 0) where they went back: the peer lost state (a wiped disk, or
// an unsynced journal tail) and must be sent those ops again, not based on
// records it no longer has.
func (e *Engine) regress(now time.Time, i int, full []Entry) {
	p := e.peers[i]
	adv := e.scratch
	clear(adv)
	for _, d := range full {
		adv[e.index[d.Region]] = d.Seq
	}
	for o, s := range p.acked {
		if adv[o] >= s {
			continue
		}
		e.metrics.PeerRegressions++
		if o == i {
			// Ops of the peer's previous life that are buffered here
			// were never delivered anywhere it can recover them from:
			// its next life will number new ops the same way.
			e.buf.dropOrigin(o)
		}
		p.acked[o], p.sent[o] = adv[o], adv[o]
		p.noBase[o] = true
		p.relaying[o] = false
		p.lagSince[o] = now
		p.lastProgress[o] = now
		p.rto[o] = e.cfg.RetransmitTimeout
	}
}
