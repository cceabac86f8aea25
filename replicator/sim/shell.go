package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/causeway/causeway/replicator"
)

// shell is one running replicator.Engine with the state a node derives
// from its copy of the region's journal: the journals per origin, the
// producers' dedup table, and the checker's mirror of what was delivered.
// In the default mode a region has one shell whose journals survive a
// crash; with nodes, the leader of the region's journal unit runs a shell
// built from its own log, and a shell dies with its leadership.
type shell struct {
	r *region
	// n is the node running the shell (nil in the default mode).
	n      *node
	engine *replicator.Engine

	journals map[string][]replicator.JournalEntry
	builder  *replicator.BatchBuilder
	dedup    *replicator.Dedup

	// Checker state, mirroring the journals.
	count        replicator.Vector
	total        int
	producerLast map[string]int64
	// lastDeps[origin] is the dependency vector of the last delivered op of
	// origin, rebuilt from Delivery metadata (volatile, like the engine's).
	lastDeps map[string]replicator.Vector

	replies int
	// joinMark mirrors the shell's durable join marker: set while the
	// engine joins, so a crash while joining joins again on restart (with
	// nodes, a record in the replicated journal).
	joinMark bool

	// With nodes (see nodes.go): Outputs held until the region's high
	// watermark covers the journal they were computed from, publishes
	// waiting for it, and the ops published here not journaled yet.
	held    []heldOutput
	waiters []waiter
	fresh   map[uint64]freshOp
	// stopped: the shell's node crashed or stopped leading.
	stopped bool
}

func newShell(r *region, n *node) (*shell, error) {
	d, err := replicator.NewDedup(16)
	if err != nil {
		return nil, err
	}
	return &shell{
		r: r, n: n,
		journals:     make(map[string][]replicator.JournalEntry),
		builder:      replicator.NewBatchBuilder(r.name, maxBatchBytes),
		dedup:        d,
		count:        make(replicator.Vector),
		producerLast: make(map[string]int64),
		lastDeps:     make(map[string]replicator.Vector),
		fresh:        make(map[uint64]freshOp),
	}, nil
}

// ReadJournal implements replicator.JournalReader.
func (sh *shell) ReadJournal(origin string, from, to uint64) ([]replicator.JournalEntry, error) {
	j := sh.journals[origin]
	if from == 0 || to < from || to > uint64(len(j)) {
		return nil, fmt.Errorf("sim: %s journal of %s has %d ops, asked %d..%d", sh.r.name, origin, len(j), from, to)
	}
	return j[from-1 : to], nil
}

// start builds the engine from the journal ends, losing every other piece
// of volatile state. Half the starts also restore the dependency records
// of the journals' last ops (RestoreFromJournals), half do not.
func (sh *shell) start() error {
	r := sh.r
	ends := make(replicator.Vector)
	for o, j := range sh.journals {
		ends[o] = uint64(len(j))
	}
	st, err := replicator.RestoreFromJournals(sh, ends)
	if err != nil {
		return err
	}
	sh.lastDeps = make(map[string]replicator.Vector)
	if r.w.rng.IntN(2) == 0 {
		st.LastDeps = nil
	} else {
		for o, d := range st.LastDeps {
			sh.lastDeps[o] = d.Clone()
		}
	}
	st.Rejoin = sh.joinMark
	cfg := r.w.cfg
	cfg.Self = r.name
	e, err := replicator.New(cfg, st)
	if err != nil {
		return err
	}
	sh.engine = e
	sh.joinMark = e.Joining()
	sh.builder = replicator.NewBatchBuilder(r.name, maxBatchBytes)
	return nil
}

// wipe loses the shell's disk: journals, the checker's mirror of them and
// the producers' dedup table. The engine is rebuilt empty on restart.
func (sh *shell) wipe() error {
	d, err := replicator.NewDedup(16)
	if err != nil {
		return err
	}
	sh.dedup = d
	sh.journals = make(map[string][]replicator.JournalEntry)
	sh.count = make(replicator.Vector)
	sh.total = 0
	sh.producerLast = make(map[string]int64)
	sh.lastDeps = make(map[string]replicator.Vector)
	sh.joinMark = false
	return nil
}

// publish has producer p publish its next message here; sometimes the
// client retries it (lost publish ack) and the dedup table must refuse it.
// The caller processes the engine's output afterwards.
func (sh *shell) publish(p *producer) error {
	if sh.n != nil {
		return sh.publishOnLeader(p)
	}
	r := sh.r
	if sh.engine.Joining() {
		return nil // the client tries again later
	}
	seqID := p.next
	p.next++
	if !sh.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup refused fresh %s/%d: %w", r.name, p.name, seqID, errCheck)
	}
	body := fmt.Sprintf("%s|%d|%s", p.name, seqID, strings.Repeat("x", r.w.rng.IntN(300)))
	deps := sh.count.Clone()
	delete(deps, r.name)
	d, err := sh.engine.Publish(r.w.now, []byte(body))
	if err != nil {
		return fmt.Errorf("%s: publish: %w", r.name, err)
	}
	dot := d.Dot()
	if _, dup := r.w.oracle[dot]; dup {
		return fmt.Errorf("%s: publish reused dot %s: %w", r.name, dot, errCheck)
	}
	if _, lost := r.w.limbo[dot]; lost {
		// The op of a previous life that no region delivered is superseded;
		// a region that still delivers it took one op for another.
		delete(r.w.limbo, dot)
		r.w.trace("%s publishes %s over an op of its previous life in limbo", r.name, dot)
	}
	r.w.oracle[dot] = &opInfo{deps: deps, producer: p.name, seqID: seqID, body: body}
	// The journal is this node's disk: the publish is acknowledged at once.
	r.w.acked[dot] = body
	r.w.trace("%s publishes %s (%s/%d) deps %v", r.name, dot, p.name, seqID, deps)
	if r.w.rng.Float64() < r.w.retryRate && sh.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup accepted retry of %s/%d: %w", r.name, p.name, seqID, errCheck)
	}
	return nil
}

// process carries out the engine's Output: journal deliveries (checking
// each), then ship batches and acks (with nodes, once the region's high
// watermark covers them). Replies to remote ops are published afterwards,
// and the loop runs until the engine has nothing to say.
func (sh *shell) process() error {
	r := sh.r
	for {
		if sh.joinMark && !sh.engine.Joining() {
			sh.joinMark = false
			r.w.trace("%s joined with %v", sh.name(), sh.engine.Delivered())
			if sh.n != nil {
				if err := sh.n.log.add(rec{kind: recJoinEnd}, sh.n.lead.Epoch()); err != nil {
					return err
				}
				sh.n.lead.Appended(sh.n.log.End())
			}
		}
		out := sh.engine.Ready()
		if out.IsEmpty() {
			break
		}
		for _, d := range out.Deliveries {
			if err := sh.deliver(d); err != nil {
				return fmt.Errorf("%s: deliver %s: %w", sh.name(), d.Dot(), err)
			}
		}
		if sh.n != nil {
			if err := sh.hold(out); err != nil {
				return err
			}
		} else {
			for _, s := range out.Sends {
				to := slices.Index(r.w.names, s.Peer)
				batches, err := sh.builder.Build(sh, s)
				if err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
				for _, b := range batches {
					msg, err := r.w.codec.AppendBatch(nil, b)
					if err != nil {
						return fmt.Errorf("%s: %w", r.name, err)
					}
					r.w.send(r.idx, to, msg)
				}
			}
			for _, a := range out.Acks {
				msg, err := r.w.codec.AppendAck(nil, a)
				if err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
				r.w.send(r.idx, slices.Index(r.w.names, a.To), msg)
			}
		}
		n := sh.replies
		sh.replies = 0
		for range n {
			if err := sh.publish(r.reply); err != nil {
				return err
			}
		}
	}
	return nil
}

// name is the region's name, and the node's with nodes.
func (sh *shell) name() string {
	if sh.n == nil {
		return sh.r.name
	}
	return fmt.Sprintf("%s/n%d", sh.r.name, sh.n.id)
}

// deliver checks one delivery against the oracle and journals it.
func (sh *shell) deliver(d replicator.Delivery) error {
	r := sh.r
	var info *opInfo
	fresh, local := sh.fresh[d.Seq]
	local = local && sh.n != nil && d.Origin == r.name && !d.Recovered
	if local {
		// Published here and not committed yet: the oracle learns it when
		// the region's high watermark passes it.
		info = r.w.tentative[fresh.oid]
		delete(sh.fresh, d.Seq)
	} else if info = r.w.oracle[d.Dot()]; info == nil {
		if info = r.w.limbo[d.Dot()]; info == nil {
			return fmt.Errorf("unknown dot (an op that was never committed in its region left it?): %w", errCheck)
		}
		// A copy survived the wipe: the op exists after all (with nodes,
		// once this region commits it: a failover could still cut it).
		r.w.trace("%s delivers %s from limbo", sh.name(), d.Dot())
		if sh.n == nil {
			r.w.oracle[d.Dot()] = info
			delete(r.w.limbo, d.Dot())
		}
	}
	if have := sh.count[d.Origin]; have != d.Seq-1 {
		return fmt.Errorf("delivered %d of %s before: duplicate or out of FIFO order: %w", have, d.Origin, errCheck)
	}
	var full replicator.Vector
	if d.Keyframe {
		full = replicator.Apply(nil, d.Deps)
	} else {
		base, ok := sh.lastDeps[d.Origin]
		if !ok {
			return fmt.Errorf("delta metadata without a base (keyframe expected): %w", errCheck)
		}
		full = replicator.Apply(base.Clone(), d.Deps)
	}
	if !full.Equal(info.deps) {
		return fmt.Errorf("dependency metadata %v, true deps %v: %w", full, info.deps, errCheck)
	}
	if !info.deps.LessEq(sh.count) {
		return fmt.Errorf("causal order: deps %v not all delivered (have %v): %w", info.deps, sh.count, errCheck)
	}
	if string(d.Body) != info.body {
		return fmt.Errorf("body altered: %w", errCheck)
	}
	producer, seqID, err := parseBody(d.Body)
	if err != nil || producer != info.producer || seqID != info.seqID {
		return fmt.Errorf("body %q does not match %s/%d: %v: %w", d.Body, info.producer, info.seqID, err, errCheck)
	}
	if last, ok := sh.producerLast[producer]; ok && seqID <= last {
		return fmt.Errorf("producer %s: seq id %d after %d: %w", producer, seqID, last, errCheck)
	}
	sh.producerLast[producer] = seqID
	if d.Recovered && sh.n != nil {
		// Like the broker's producers, which wait for the join: a client
		// resending what the previous life acknowledged is answered
		// duplicate.
		sh.dedup.Accept(producer, seqID)
	}
	sh.count[d.Origin] = d.Seq
	sh.total++
	sh.lastDeps[d.Origin] = full
	je := replicator.JournalEntry{Seq: d.Seq, Meta: replicator.AppendMeta(nil, d), Body: slices.Clone(d.Body)}
	sh.journals[d.Origin] = append(sh.journals[d.Origin], je)
	if sh.n != nil {
		if err := sh.journal(d, je, fresh, local); err != nil {
			return err
		}
	}
	if d.Origin != r.name && !r.w.healing && r.w.rng.Float64() < r.w.replyRate {
		sh.replies++
	}
	return nil
}

func parseBody(b []byte) (string, int64, error) {
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 {
		return "", 0, errors.New("sim: malformed body")
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	return parts[0], seq, err
}

// receive handles one message arriving from the network.
func (sh *shell) receive(env *envelope) error {
	r := sh.r
	kind, err := replicator.PeekKind(env.msg)
	if err == nil {
		switch kind {
		case replicator.KindBatch:
			var b replicator.Batch
			if b, err = r.w.codec.DecodeBatch(env.msg); err == nil {
				err = sh.engine.ReceiveBatch(r.w.now, b)
				if b.Based {
					r.w.res.BasedBatches++
				}
				if errors.Is(err, replicator.ErrMissingBase) {
					r.w.res.MissingBase++
				}
				if errors.Is(err, replicator.ErrDuplicateBatch) || errors.Is(err, replicator.ErrEvicted) ||
					errors.Is(err, replicator.ErrMissingBase) {
					err = nil
				}
				if errors.Is(err, replicator.ErrFutureDot) && (r.w.wiped[r.name] || sh.deposed()) {
					// A peer that has not seen this region's first full ack
					// since its wipe still sends from what it had before; a
					// deposed leader lacks what its successor created.
					err = nil
				}
				if err != nil {
					return fmt.Errorf("%s: batch from %s refused: %v: %w", sh.name(), r.w.names[env.from], err, errCheck)
				}
			}
		case replicator.KindAck:
			var a replicator.Ack
			if a, err = r.w.codec.DecodeAck(env.msg); err == nil {
				if r.w.opts.Trace != nil && (a.Full || a.Joining) {
					r.w.trace("%s <- ack %s full=%v joining=%v seen=%v %v (own %d, joining %v)", sh.name(), a.From,
						a.Full, a.Joining, a.SeenJoining, a.Delivered, sh.count[r.name], sh.engine.Joining())
				}
				err = sh.engine.ReceiveAck(r.w.now, a)
				if errors.Is(err, replicator.ErrEvicted) || (errors.Is(err, replicator.ErrFutureDot) && sh.deposed()) {
					err = nil
				}
				if err != nil {
					return fmt.Errorf("%s: ack from %s refused: %v: %w", sh.name(), r.w.names[env.from], err, errCheck)
				}
			}
		default:
			err = fmt.Errorf("kind %d", kind)
		}
	}
	if err != nil {
		// Only corrupted messages may fail to decode.
		if env.corrupted {
			return nil
		}
		return fmt.Errorf("%s: message from %s: %v: %w", sh.name(), r.w.names[env.from], err, errCheck)
	}
	if env.corrupted {
		return fmt.Errorf("%s: corrupted message from %s was accepted: %w", sh.name(), r.w.names[env.from], errCheck)
	}
	return sh.process()
}
