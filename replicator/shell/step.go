package shell

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
)

// delivery is one delivered op of a step, with the publish request it
// came from when it is local.
type delivery struct {
	d   replicator.Delivery
	req *pubReq
	idx int
}

// step is one engine Output on its way: journal writes, then applies to
// the streams (in delivery order), then sends and acks.
type step struct {
	shell   *Shell
	ds      []delivery
	sends   []replicator.SendRange
	acks    []replicator.Ack
	pending atomic.Int32  // journal appends in flight
	durable chan struct{} // closed when they are all done
	errMu   sync.Mutex
	err     error

	// rejournaled: an op of the step was journaled in an earlier life
	// (loop.go flush)
	rejournaled bool

	applying atomic.Int32 // stream appends in flight (+1 while issuing)
	applyErr atomic.Bool
	applied  bool // (progress.mu)
}

// journaled is the callback of one journal append.
func (st *step) journaled(_ uint64, err error) {
	if err != nil {
		st.errMu.Lock()
		st.err = errors.Join(st.err, err)
		st.errMu.Unlock()
		// At once, so that the loop issues no append after this one.
		st.shell.fail(fmt.Errorf("shell: journal write: %w", err))
	}
	if st.pending.Add(-1) == 0 {
		close(st.durable)
	}
}

func (st *step) journalErr() error {
	st.errMu.Lock()
	defer st.errMu.Unlock()
	return st.err
}

// add and done implement tracker.
func (st *step) add() { st.applying.Add(1) }

func (st *step) done(err error) {
	if err != nil {
		st.applyErr.Store(true)
	}
	if st.applying.Add(-1) == 0 {
		st.shell.progress.stepApplied(st)
	}
}

// complete is the completer goroutine: for each step in order, once its
// journal writes are durable, it applies the deliveries to their streams
// (and registered kinds) and hands the sends and acks to the senders.
// Nothing is advertised to a peer before it is durable here.
func (s *Shell) complete() {
	defer close(s.completerDone)
	for st := range s.steps {
		s.completeStep(st)
		s.stepsInFlight.Add(-1)
	}
}

// completeStep waits for a step's journal writes, then applies and
// dispatches it; after a failure it refuses the step's publishes instead
// (their journal writes failed or come after one that did: heal rebuilds
// the engine without them, so they are stored nowhere).
func (s *Shell) completeStep(st *step) {
	<-st.durable
	if err := st.journalErr(); err != nil {
		s.fail(err)
	}
	if st.rejournaled && !s.paused.Load() {
		// Its journal Order is older than what was applied since the
		// restart: a crash must not lose those before it (re-derived by
		// Order, they would follow it).
		if err := s.node.SyncReplicated(); err != nil {
			s.fail(err)
		}
	}
	if err := s.failure(); err != nil {
		s.progress.freeze(err)
		for _, d := range st.ds {
			if d.req != nil && d.idx == 0 {
				d.req.fail(err)
			}
		}
		return
	}
	if s.paused.Load() {
		// Journaled and acknowledged; applied from the journal on Resume
		// (the step leaves the watermark where it is).
		if !s.stopping() {
			s.dispatch(st)
		}
		return
	}
	s.progress.push(st)
	st.add()
	a := applier{s: s, t: st}
	for i := range st.ds {
		a.left = len(st.ds) - i
		a.add(&st.ds[i])
	}
	a.flush()
	st.done(nil)
	if !s.stopping() {
		s.dispatch(st)
	}
}

// dispatch hands a step's sends and acks to the per-peer senders.
func (s *Shell) dispatch(st *step) {
	for i := range st.sends {
		s.senders[st.sends[i].Peer].queue(sendItem{send: &st.sends[i]})
	}
	for i := range st.acks {
		s.senders[st.acks[i].To].queue(sendItem{ack: &st.acks[i]})
	}
}

// tracker counts the applies of a step (or of a restart).
type tracker interface {
	add()
	done(err error)
}

// applier groups consecutive stream messages of one stream into one
// append, and consecutive ops of one registered kind into one call of its
// BatchApplyFunc, in delivery order, and answers local publishes. At most
// one group is open at a time: a stream group is flushed before an op of a
// registered kind is added, a batch of ops before a stream message or an
// op of another kind. flush closes whichever is open.
type applier struct {
	s    *Shell
	t    tracker
	name naming.Stream
	recs []segment.Record
	pubs []pubAt
	left int // deliveries left to add, this one included (a capacity hint)
	// bodies decodes the stream messages of remote ops.
	bodies streamMessageDecoder

	// The open batch of ops of one kind: items, and for each its local
	// publish request (nil for a remote op); opBytes sums their payloads.
	kind    Kind
	apply   BatchApplyFunc
	items   []KindItem
	itemReq []*pubReq
	opBytes int

	// later: an op had to be applied later (applyLater). The groups
	// flushed after it are dropped, not applied: the step does not count
	// as applied, and heal (or the next restore) re-applies them all from
	// the journal in order, so none is applied before an op it may depend
	// on (a backfill's end before its parts, a collection op before the
	// one it saw). A local publish among them is answered as applied later.
	later bool
}

// pubAt is a publish request whose first record is recs[at].
type pubAt struct {
	req *pubReq
	at  int
}

func (a *applier) add(dl *delivery) {
	s, d := a.s, dl.d
	if r := dl.req; r != nil && r.stream != nil {
		rec := r.recs[dl.idx]
		rec.Origin, rec.OriginSeq = d.Origin+s.originSuffix, d.Seq
		a.flushOps()
		a.addRecord(r.stream.Name(), rec, dl.idx == 0, r)
		return
	}
	kind, payload, err := DecodeKind(d.Body)
	if err == nil && kind == KindStreamMessage {
		var name naming.Stream
		var rec segment.Record
		if name, rec, err = a.bodies.decode(d.Body); err == nil {
			rec.Origin, rec.OriginSeq = d.Origin+s.originSuffix, d.Seq
			a.flushOps()
			a.addRecord(name, rec, true, nil)
			return
		}
	}
	if err != nil {
		s.m.corruptBodies.Add(1)
		s.log.Error("journaled op does not decode, not applied", zap.Stringer("dot", d.Dot()), zap.Error(err))
		if dl.req != nil {
			dl.req.fail(err)
		}
		return
	}
	a.flushRecords()
	if len(a.items) > 0 && (a.kind != kind || len(a.items) >= maxApplyBatchOps || a.opBytes+len(payload) > maxApplyBatchBytes) {
		a.flushOps()
	}
	if len(a.items) == 0 {
		a.kind, a.apply = kind, s.kindApply(kind)
	}
	if a.apply == nil {
		s.m.unknownKinds.Add(1)
		if dl.req != nil {
			dl.req.opDone(d.Dot(), fmt.Errorf("shell: op %s of kind %d: %w", d.Dot(), kind, ErrUnknownKind))
		}
		return
	}
	if a.items == nil {
		n := min(max(a.left, 1), maxApplyBatchOps)
		a.items, a.itemReq = make([]KindItem, 0, n), make([]*pubReq, 0, n)
	}
	a.items = append(a.items, KindItem{Origin: d.Origin, Seq: d.Seq, Domain: s.domain, Payload: payload})
	a.itemReq = append(a.itemReq, dl.req)
	a.opBytes += len(payload)
}

// flushOps applies the open batch of ops and answers their publishes, each
// with its own op's error.
func (a *applier) flushOps() {
	if len(a.items) == 0 {
		return
	}
	s, items, reqs, kind := a.s, a.items, a.itemReq, a.kind
	if a.later {
		for i, it := range items {
			if reqs[i] != nil {
				reqs[i].opDone(replicator.Dot{Origin: it.Origin, Seq: it.Seq}, fmt.Errorf("%w: after an op applied later", ErrApplyLater))
			}
		}
		a.resetOps()
		return
	}
	errs := a.apply(items)
	for i, it := range items {
		var err error
		if len(errs) == len(items) {
			err = errs[i]
		} else {
			err = fmt.Errorf("shell: kind %d: %d results for %d ops: %w", kind, len(errs), len(items), errBatchResults)
		}
		dot := replicator.Dot{Origin: it.Origin, Seq: it.Seq}
		if err != nil {
			if applyLater(err) {
				// Not applied: the step must not count as applied (and a
				// restart's re-apply fails), heal applies it again.
				a.t.add()
				a.t.done(err)
				s.applyFailed(fmt.Sprintf("kind %d", kind), err)
				a.later = true
			} else {
				s.logRate.Warn(s.log, fmt.Sprintf("apply op kind %d: %v", kind, err), "apply op",
					zap.Stringer("dot", dot), zap.Uint8("kind", uint8(kind)), zap.Error(err))
			}
		}
		if reqs[i] != nil {
			reqs[i].opDone(dot, err)
		}
	}
	a.resetOps()
}

// resetOps empties the batch of ops, keeping its memory.
func (a *applier) resetOps() {
	clear(a.items)
	clear(a.itemReq)
	a.items, a.itemReq, a.opBytes, a.apply = a.items[:0], a.itemReq[:0], 0, nil
}

// addRecord adds a stream message to the current group. A group is cut
// when the stream changes or it is full, never inside one publish request
// (starts is false for its later records).
func (a *applier) addRecord(name naming.Stream, rec segment.Record, starts bool, req *pubReq) {
	if len(a.recs) > 0 && (a.name != name || (starts && len(a.recs) >= maxApplyGroupRecords)) {
		a.flushRecords()
	}
	a.name = name
	if a.recs == nil {
		a.recs = make([]segment.Record, 0, min(max(a.left, 1), maxApplyGroupRecords))
	}
	if req != nil && starts {
		a.pubs = append(a.pubs, pubAt{req: req, at: len(a.recs)})
	}
	rec.PayloadRef = a.s.payloadRefs && len(rec.Payload) > 0 // its op is in the journal (payloads.go)
	a.recs = append(a.recs, rec)
}

// flush applies the open group, stream messages or ops.
func (a *applier) flush() {
	a.flushRecords()
	a.flushOps()
}

// flushRecords appends the current group of stream messages to its stream.
func (a *applier) flushRecords() {
	if len(a.recs) == 0 {
		return
	}
	s, t, name, recs, pubs := a.s, a.t, a.name, a.recs, a.pubs
	a.recs, a.pubs = nil, nil
	if a.later {
		for _, p := range pubs {
			p.req.done(0, fmt.Errorf("%w: %s: after an op applied later", ErrAppliedLater, name))
		}
		return
	}
	t.add()
	s.applies.Add(1)
	s.node.ApplyReplicated(name, recs, func(offsets []uint64, err error) {
		defer s.applies.Done()
		if err != nil {
			s.m.applyErrors.Add(1)
			s.applyFailed(name.String(), err)
		}
		for _, p := range pubs {
			switch {
			case err != nil:
				// Journaled and replicated: not a refusal.
				p.req.done(0, fmt.Errorf("%w: %s: %w", ErrAppliedLater, name, err))
			case offsets[p.at] == broker.NotApplied:
				p.req.done(0, fmt.Errorf("%w: %s", ErrNotApplied, name))
			default:
				p.req.done(offsets[p.at], nil)
			}
		}
		for _, off := range offsets {
			if off == broker.NotApplied {
				s.m.skipped.Add(1)
			} else {
				s.m.applied.Add(1)
			}
		}
		t.done(err)
	})
}

// progress tracks the applied watermark: steps leave it in order, once
// every append of theirs is durable. After an apply error it stops (the
// journal tail past it is re-applied after a restart).
type progress struct {
	mu      sync.Mutex
	queue   []*step
	applied replicator.Vector
	frozen  bool
	dirty   bool
	log     *zap.Logger
}

func newProgress(applied replicator.Vector, log *zap.Logger) *progress {
	return &progress{applied: applied.Clone(), log: log}
}

func (p *progress) push(st *step) {
	p.mu.Lock()
	p.queue = append(p.queue, st)
	p.mu.Unlock()
}

func (p *progress) stepApplied(st *step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st.applied = true
	if st.applyErr.Load() && !p.frozen {
		p.frozen = true
		p.log.Warn("applied watermark frozen after an apply error")
	}
	for len(p.queue) > 0 && p.queue[0].applied {
		head := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if p.frozen {
			continue
		}
		for _, d := range head.ds {
			if d.d.Seq > p.applied[d.d.Origin] {
				p.applied[d.d.Origin] = d.d.Seq
			}
		}
		p.dirty = true
	}
}

// reset restarts the watermark at applied, unfrozen (heal).
func (p *progress) reset(applied replicator.Vector) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue, p.applied, p.frozen, p.dirty = nil, applied.Clone(), false, true
}

func (p *progress) freeze(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.log.Warn("applied watermark frozen", zap.Error(err))
	}
}

// snapshot returns the watermark and whether it changed since the last
// snapshot.
func (p *progress) snapshot() (replicator.Vector, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	dirty := p.dirty
	p.dirty = false
	return p.applied.Clone(), dirty
}

func (p *progress) markDirty() {
	p.mu.Lock()
	p.dirty = true
	p.mu.Unlock()
}

// counters are the shell's own metrics.
type counters struct {
	published, batchesIn, acksIn, duplicateBatches, missingBase, rejected atomic.Uint64
	applied, skipped, applyErrors, corruptBodies, unknownKinds            atomic.Uint64
	rejournaled, sendErrors, sendDrops, restoredOps                       atomic.Uint64
	failures, recoveries                                                  atomic.Uint64
}

// peek returns the watermark without clearing the dirty flag.
func (p *progress) peek() (replicator.Vector, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied.Clone(), p.frozen
}
