package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/causeway/causeway/replicator"
)

// maxBatchBytes is the simulated shell's cut for wire batches (small, to
// exercise splitting).
const maxBatchBytes = 4096

// producer is a client publishing with increasing sequence ids.
type producer struct {
	name string
	next int64
}

// region is one simulated node: an engine and its in-memory shell. The
// journals, the checker's view of what was delivered and the producers'
// dedup table are durable; the engine is rebuilt on restart.
type region struct {
	w         *world
	idx       int
	name      string
	engine    *replicator.Engine
	up        bool
	downUntil time.Time

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

	producers []*producer
	reply     *producer
	replies   int
	// joinMark mirrors the shell's durable join marker: set while the
	// engine joins, so a crash while joining joins again on restart.
	joinMark bool
	// beforeWipe is what the region had delivered when it lost its disk
	// (the maximum over its wipes).
	beforeWipe replicator.Vector
}

func newRegion(w *world, idx int, name string) (*region, error) {
	d, err := replicator.NewDedup(16)
	if err != nil {
		return nil, err
	}
	r := &region{
		w: w, idx: idx, name: name, up: true,
		journals:     make(map[string][]replicator.JournalEntry),
		builder:      replicator.NewBatchBuilder(name, maxBatchBytes),
		dedup:        d,
		count:        make(replicator.Vector),
		producerLast: make(map[string]int64),
		lastDeps:     make(map[string]replicator.Vector),
		reply:        &producer{name: name + "-reply", next: 1},
	}
	for i := range 2 {
		r.producers = append(r.producers, &producer{name: fmt.Sprintf("%s-p%d", name, i), next: 1})
	}
	cfg := w.cfg
	cfg.Self = name
	if r.engine, err = replicator.New(cfg, replicator.Restore{}); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadJournal implements replicator.JournalReader.
func (r *region) ReadJournal(origin string, from, to uint64) ([]replicator.JournalEntry, error) {
	j := r.journals[origin]
	if from == 0 || to < from || to > uint64(len(j)) {
		return nil, fmt.Errorf("sim: %s journal of %s has %d ops, asked %d..%d", r.name, origin, len(j), from, to)
	}
	return j[from-1 : to], nil
}

// restart rebuilds the engine from the journal ends, losing every other
// piece of volatile state. Half the restarts also restore the dependency
// records of the journals' last ops (RestoreFromJournals), half do not.
func (r *region) restart() error {
	ends := make(replicator.Vector)
	for o, j := range r.journals {
		ends[o] = uint64(len(j))
	}
	st, err := replicator.RestoreFromJournals(r, ends)
	if err != nil {
		return err
	}
	r.lastDeps = make(map[string]replicator.Vector)
	if r.w.rng.IntN(2) == 0 {
		st.LastDeps = nil
	} else {
		for o, d := range st.LastDeps {
			r.lastDeps[o] = d.Clone()
		}
	}
	st.Rejoin = r.joinMark
	cfg := r.w.cfg
	cfg.Self = r.name
	e, err := replicator.New(cfg, st)
	if err != nil {
		return err
	}
	r.engine = e
	r.up = true
	r.joinMark = e.Joining()
	r.builder = replicator.NewBatchBuilder(r.name, maxBatchBytes)
	return nil
}

// wipe loses the region's disk: journals, the checker's mirror of them and
// the producers' dedup table. The engine is rebuilt empty on restart.
func (r *region) wipe() error {
	d, err := replicator.NewDedup(16)
	if err != nil {
		return err
	}
	r.dedup = d
	r.journals = make(map[string][]replicator.JournalEntry)
	r.count = make(replicator.Vector)
	r.total = 0
	r.producerLast = make(map[string]int64)
	r.lastDeps = make(map[string]replicator.Vector)
	r.joinMark = false
	return nil
}

// publish has producer p publish its next message here; sometimes the
// client retries it (lost publish ack) and the dedup table must refuse it.
// The caller processes the engine's output afterwards.
func (r *region) publish(p *producer) error {
	if r.engine.Joining() {
		return nil // the client tries again later
	}
	seqID := p.next
	p.next++
	if !r.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup refused fresh %s/%d: %w", r.name, p.name, seqID, errCheck)
	}
	body := fmt.Sprintf("%s|%d|%s", p.name, seqID, strings.Repeat("x", r.w.rng.IntN(300)))
	deps := r.count.Clone()
	delete(deps, r.name)
	d, err := r.engine.Publish(r.w.now, []byte(body))
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
	r.w.trace("%s publishes %s (%s/%d) deps %v", r.name, dot, p.name, seqID, deps)
	if r.w.rng.Float64() < r.w.retryRate && r.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup accepted retry of %s/%d: %w", r.name, p.name, seqID, errCheck)
	}
	return nil
}

// process carries out the engine's Output: journal deliveries (checking
// each), then ship batches and acks. Replies to remote ops are published
// afterwards, and the loop runs until the engine has nothing to say.
func (r *region) process() error {
	for {
		if r.joinMark && !r.engine.Joining() {
			r.joinMark = false
			r.w.trace("%s joined with %v", r.name, r.engine.Delivered())
		}
		out := r.engine.Ready()
		if out.IsEmpty() {
			break
		}
		for _, d := range out.Deliveries {
			if err := r.deliver(d); err != nil {
				return fmt.Errorf("%s: deliver %s: %w", r.name, d.Dot(), err)
			}
		}
		for _, s := range out.Sends {
			to := slices.Index(r.w.names, s.Peer)
			batches, err := r.builder.Build(r, s)
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
		n := r.replies
		r.replies = 0
		for range n {
			if err := r.publish(r.reply); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver checks one delivery against the oracle and journals it.
func (r *region) deliver(d replicator.Delivery) error {
	info := r.w.oracle[d.Dot()]
	if info == nil {
		if info = r.w.limbo[d.Dot()]; info == nil {
			return fmt.Errorf("unknown dot: %w", errCheck)
		}
		// A copy survived the wipe: the op exists after all.
		r.w.oracle[d.Dot()] = info
		delete(r.w.limbo, d.Dot())
		r.w.trace("%s delivers %s from limbo", r.name, d.Dot())
	}
	if have := r.count[d.Origin]; have != d.Seq-1 {
		return fmt.Errorf("delivered %d of %s before: duplicate or out of FIFO order: %w", have, d.Origin, errCheck)
	}
	var full replicator.Vector
	if d.Keyframe {
		full = replicator.Apply(nil, d.Deps)
	} else {
		base, ok := r.lastDeps[d.Origin]
		if !ok {
			return fmt.Errorf("delta metadata without a base (keyframe expected): %w", errCheck)
		}
		full = replicator.Apply(base.Clone(), d.Deps)
	}
	if !full.Equal(info.deps) {
		return fmt.Errorf("dependency metadata %v, true deps %v: %w", full, info.deps, errCheck)
	}
	if !info.deps.LessEq(r.count) {
		return fmt.Errorf("causal order: deps %v not all delivered (have %v): %w", info.deps, r.count, errCheck)
	}
	if string(d.Body) != info.body {
		return fmt.Errorf("body altered: %w", errCheck)
	}
	producer, seqID, err := parseBody(d.Body)
	if err != nil || producer != info.producer || seqID != info.seqID {
		return fmt.Errorf("body %q does not match %s/%d: %v: %w", d.Body, info.producer, info.seqID, err, errCheck)
	}
	if last, ok := r.producerLast[producer]; ok && seqID <= last {
		return fmt.Errorf("producer %s: seq id %d after %d: %w", producer, seqID, last, errCheck)
	}
	r.producerLast[producer] = seqID
	r.count[d.Origin] = d.Seq
	r.total++
	r.lastDeps[d.Origin] = full
	r.journals[d.Origin] = append(r.journals[d.Origin], replicator.JournalEntry{
		Seq: d.Seq, Meta: replicator.AppendMeta(nil, d), Body: slices.Clone(d.Body),
	})
	if d.Origin != r.name && !r.w.healing && r.w.rng.Float64() < r.w.replyRate {
		r.replies++
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
func (r *region) receive(env *envelope) error {
	kind, err := replicator.PeekKind(env.msg)
	if err == nil {
		switch kind {
		case replicator.KindBatch:
			var b replicator.Batch
			if b, err = r.w.codec.DecodeBatch(env.msg); err == nil {
				err = r.engine.ReceiveBatch(r.w.now, b)
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
				if errors.Is(err, replicator.ErrFutureDot) && r.w.wiped[r.name] {
					// A peer that has not seen this region's first full ack
					// since its wipe still sends from what it had before.
					err = nil
				}
				if err != nil {
					return fmt.Errorf("%s: batch from %s refused: %v: %w", r.name, r.w.names[env.from], err, errCheck)
				}
			}
		case replicator.KindAck:
			var a replicator.Ack
			if a, err = r.w.codec.DecodeAck(env.msg); err == nil {
				if r.w.opts.Trace != nil && (a.Full || a.Joining) {
					r.w.trace("%s <- ack %s full=%v joining=%v seen=%v %v (own %d, joining %v)", r.name, a.From,
						a.Full, a.Joining, a.SeenJoining, a.Delivered, r.count[r.name], r.engine.Joining())
				}
				err = r.engine.ReceiveAck(r.w.now, a)
				if errors.Is(err, replicator.ErrEvicted) {
					err = nil
				}
				if err != nil {
					return fmt.Errorf("%s: ack from %s refused: %v: %w", r.name, r.w.names[env.from], err, errCheck)
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
		return fmt.Errorf("%s: message from %s: %v: %w", r.name, r.w.names[env.from], err, errCheck)
	}
	if env.corrupted {
		return fmt.Errorf("%s: corrupted message from %s was accepted: %w", r.name, r.w.names[env.from], errCheck)
	}
	return r.process()
}
