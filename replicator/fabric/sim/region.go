package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
)

// entry is one op of a fabric applied at a region (what its streams and
// collections hold), in application order.
type entry struct {
	producer string
	seq      int64
	tag      fabric.Tag
}

// app is a region's applied state of one fabric.
type app struct {
	log  []entry
	last map[string]int64
	// backfilled: the region got the fabric's state from a member since
	// it last had none, so an op it receives again is skipped.
	backfilled bool
	// vecs: per domain, what the engines of the members whose state this
	// region applied (transitively) had delivered when they sent it.
	vecs map[string]replicator.Vector
}

func newApp() *app {
	return &app{last: make(map[string]int64), vecs: make(map[string]replicator.Vector)}
}

// held is an op the router holds.
type held struct {
	b body
}

// region is one simulated region: its domains' engines and journals, the
// router, the applied state per fabric, and what it still has to do
// (cuts and list changes to publish, backfills to ask for). Everything but
// the engines is durable.
type region struct {
	w         *world
	idx       int
	name      string
	up        bool
	downUntil time.Time

	domains map[string]*domain
	router  *fabric.Router[held]
	apps    map[string]*app
	// producers[fabric] publishes the region's ops of the fabric.
	producers map[string]*producer

	cuts      []fabric.Cut
	metas     []fabric.Membership
	backfills map[string]fabric.Backfill
	askedAt   map[string]time.Time
	// received is the state a member sent, waiting for the engines to
	// deliver what the member's had.
	received map[string]*envelope
}

type producer struct {
	name string
	next int64
}

func newRegion(w *world, idx int, name string, initial []fabric.Membership) (*region, error) {
	r := &region{w: w, idx: idx, name: name, up: true, domains: make(map[string]*domain),
		router: fabric.NewRouter[held](name), apps: make(map[string]*app), producers: make(map[string]*producer),
		backfills: make(map[string]fabric.Backfill), askedAt: make(map[string]time.Time),
		received: make(map[string]*envelope)}
	if err := r.startDomain(w.all); err != nil {
		return nil, err
	}
	for _, m := range initial {
		r.apps[m.Fabric] = newApp()
		r.producers[m.Fabric] = &producer{name: fmt.Sprintf("%s-%s", name, m.Fabric), next: 1}
		if err := r.router.Learn(m); err != nil {
			return nil, err
		}
	}
	return r, r.act()
}

// domainKeys lists the region's domains in a fixed order.
func (r *region) domainKeys() []string {
	return slices.Sorted(maps.Keys(r.domains))
}

// startDomain starts an engine for the domain key (new: it joins).
func (r *region) startDomain(key string) error {
	if r.domains[key] != nil {
		return nil
	}
	d := &domain{r: r, key: key, members: fabric.DomainRegions(key), journals: make(map[string][]replicator.JournalEntry)}
	var err error
	if d.codec, err = replicator.NewCodec(secret); err != nil {
		return err
	}
	if r.w.compact {
		if err := d.codec.SetMembership(d.members); err != nil {
			return err
		}
	}
	if err := d.start(); err != nil {
		return err
	}
	r.domains[key] = d
	r.w.trace("%s starts domain %s", r.name, key)
	return nil
}

// publish has the region's producer of fabric f publish its next op.
func (r *region) publish(f string) error {
	tag, key, err := r.router.PublishTag(f)
	if errors.Is(err, fabric.ErrNotMember) {
		r.w.res.Refused++
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: publish %s: %w", r.name, f, err)
	}
	d := r.domains[key]
	if d == nil {
		return fmt.Errorf("%s: publish %s version %d: no engine for domain %s: %w", r.name, f, tag.Version, key, errCheck)
	}
	if d.engine.Joining() {
		return nil // the client tries again later
	}
	p := r.producers[f]
	b := fmt.Sprintf("d|%s|%d|%s|%d|%s", f, tag.Version, p.name, p.next, strings.Repeat("x", r.w.rng.IntN(200)))
	if _, err := d.engine.Publish(r.w.now, []byte(b)); err != nil {
		return fmt.Errorf("%s: publish: %w", r.name, err)
	}
	r.w.oracle[fmt.Sprintf("%s/%d", p.name, p.next)] = &opInfo{tag: tag, deps: maps.Clone(r.apps[f].last)}
	r.w.published[f][p.name] = p.next
	p.next++
	return r.process(d)
}

// publishMeta publishes a list change into every region's domain (false:
// not now, the domain is joining).
func (r *region) publishMeta(m fabric.Membership) (bool, error) {
	d := r.domains[r.w.all]
	if d.engine.Joining() {
		return false, nil
	}
	b := fmt.Sprintf("m|%s|%d|%s", m.Fabric, m.Version, strings.Join(m.Regions, ","))
	if _, err := d.engine.Publish(r.w.now, []byte(b)); err != nil {
		return false, fmt.Errorf("%s: publish list change: %w", r.name, err)
	}
	return true, r.process(d)
}

// retryPending publishes the cuts whose domain was joining and asks again
// for pending backfills.
func (r *region) retryPending() error {
	cuts := r.cuts
	r.cuts = nil
	for _, c := range cuts {
		if err := r.publishCut(c); err != nil {
			return err
		}
	}
	for _, f := range slices.Sorted(maps.Keys(r.received)) {
		if err := r.applyBackfill(f); err != nil {
			return err
		}
	}
	for _, f := range slices.Sorted(maps.Keys(r.backfills)) {
		b := r.backfills[f]
		if r.received[f] != nil {
			continue
		}
		if r.w.now.Sub(r.askedAt[f]) < 300*time.Millisecond {
			continue
		}
		r.askedAt[f] = r.w.now
		// The sources first, then any member of the latest list.
		cands := slices.Clone(b.Sources)
		if m, ok := r.router.Latest(f); ok {
			for _, s := range m.Regions {
				if s != r.name && !slices.Contains(cands, s) {
					cands = append(cands, s)
				}
			}
		}
		if len(cands) == 0 {
			continue
		}
		to := slices.Index(r.w.names, cands[r.w.rng.IntN(len(cands))])
		r.w.send(envelope{from: r.idx, to: to, kind: msgBackfillAsk, tag: b.Tag})
	}
	return nil
}

// publishCut publishes the region's cut into its domain, or keeps it for
// later while the domain joins.
func (r *region) publishCut(c fabric.Cut) error {
	d := r.domains[c.Domain]
	if d == nil {
		return fmt.Errorf("%s: cut of %s version %d into domain %s it does not run: %w", r.name, c.Fabric, c.Version, c.Domain, errCheck)
	}
	if d.engine.Joining() {
		r.cuts = append(r.cuts, c)
		return nil
	}
	b := fmt.Sprintf("c|%s|%d|%s", c.Fabric, c.Version, r.name)
	if _, err := d.engine.Publish(r.w.now, []byte(b)); err != nil {
		return fmt.Errorf("%s: publish cut: %w", r.name, err)
	}
	r.w.trace("%s cuts %s before version %d in %s", r.name, c.Fabric, c.Version, c.Domain)
	return r.process(d)
}

// applyReady applies what the router released, at once (before any later
// delivery: a release comes before the ops delivered after it).
func (r *region) applyReady() error {
	for _, h := range r.router.Ready() {
		if err := r.apply(h.b); err != nil {
			return err
		}
	}
	return nil
}

// act carries out the router's actions (publishing cuts into domains: only
// between engine outputs, never within one).
func (r *region) act() error {
	for {
		if err := r.applyReady(); err != nil {
			return err
		}
		a := r.router.Actions()
		if a.IsEmpty() {
			return nil
		}
		for _, key := range a.StartDomains {
			if err := r.startDomain(key); err != nil {
				return err
			}
		}
		for _, f := range a.Deletes {
			r.apps[f] = newApp()
			delete(r.backfills, f)
			delete(r.received, f)
			r.w.trace("%s deletes %s", r.name, f)
		}
		for _, t := range a.Deleted {
			r.w.res.Deletions++
			r.w.trace("%s: deletion of %s complete (version %d)", r.name, t.Fabric, t.Version)
		}
		for _, b := range a.Backfills {
			r.backfills[b.Fabric] = b
			r.askedAt[b.Fabric] = time.Time{}
			r.w.trace("%s needs a backfill of %s version %d from %v", r.name, b.Fabric, b.Version, b.Sources)
		}
		for _, c := range a.Cuts {
			if err := r.publishCut(c); err != nil {
				return err
			}
		}
	}
}

// apply applies one data op: each producer's ops exactly once, in order,
// after everything its publisher had applied.
func (r *region) apply(b body) error {
	a := r.apps[b.tag.Fabric]
	last := a.last[b.producer]
	if b.seq <= last {
		if !a.backfilled {
			return fmt.Errorf("%s: %s of %s applied twice (had %d): %w", r.name, b, b.tag.Fabric, last, errCheck)
		}
		r.w.res.DedupSkips++
		return nil
	}
	if b.seq != last+1 {
		return fmt.Errorf("%s: %s of %s after %d: lost or out of order: %w", r.name, b, b.tag.Fabric, last, errCheck)
	}
	info := r.w.oracle[fmt.Sprintf("%s/%d", b.producer, b.seq)]
	if info == nil || info.tag != b.tag {
		return fmt.Errorf("%s: %s of %s: unknown op or tag: %w", r.name, b, b.tag.Fabric, errCheck)
	}
	for p, n := range info.deps {
		if a.last[p] < n {
			return fmt.Errorf("%s: %s of %s before %s/%d its publisher had applied: %w", r.name, b, b.tag.Fabric, p, n, errCheck)
		}
	}
	a.last[b.producer] = b.seq
	a.log = append(a.log, entry{producer: b.producer, seq: b.seq, tag: b.tag})
	return nil
}

// receive handles a message from another region.
func (r *region) receive(env *envelope) error {
	from := r.w.names[env.from]
	switch env.kind {
	case msgBackfillAsk:
		return r.giveBackfill(env)
	case msgBackfillGive:
		return r.takeBackfill(env)
	}
	d := r.domains[env.domain]
	if d == nil {
		if !slices.Contains(fabric.DomainRegions(env.domain), r.name) {
			return fmt.Errorf("%s got a message of domain %s from %s: %w", r.name, env.domain, from, errCheck)
		}
		return nil // not started here yet: the sender sends again
	}
	kind, err := replicator.PeekKind(env.msg)
	if err != nil {
		return fmt.Errorf("%s: message from %s: %v: %w", r.name, from, err, errCheck)
	}
	switch kind {
	case replicator.KindBatch:
		b, err := d.codec.DecodeBatch(env.msg)
		if err == nil {
			err = d.engine.ReceiveBatch(r.w.now, b)
		}
		if errors.Is(err, replicator.ErrDuplicateBatch) || errors.Is(err, replicator.ErrMissingBase) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("%s: batch of %s from %s refused: %v: %w", r.name, env.domain, from, err, errCheck)
		}
	case replicator.KindAck:
		a, err := d.codec.DecodeAck(env.msg)
		if err == nil {
			err = d.engine.ReceiveAck(r.w.now, a)
		}
		if err != nil {
			return fmt.Errorf("%s: ack of %s from %s refused: %v: %w", r.name, env.domain, from, err, errCheck)
		}
	default:
		return fmt.Errorf("%s: message kind %d: %w", r.name, kind, errCheck)
	}
	return r.process(d)
}

// giveBackfill answers a member asking for a fabric's state, if this
// region applies the version asked or a later one.
func (r *region) giveBackfill(env *envelope) error {
	f := env.tag.Fabric
	to := r.w.names[env.from]
	st := r.router.Status(f)
	m, ok := r.router.Latest(f)
	if st.Applying == 0 || st.Applying < env.tag.Version || !ok || !m.Has(to) {
		return nil
	}
	// Nothing of a fabric reaches a region outside its list.
	if want := r.w.hist[f][env.tag.Version-1]; !want.Has(to) {
		return fmt.Errorf("%s sends %s's state to %s outside version %d %v: %w", r.name, f, to, env.tag.Version, want.Regions, errCheck)
	}
	// What this region's engines delivered of the domains of the versions
	// from the one asked (a state this region got from a backfill itself
	// comes with the vectors its sender gave): the receiver's engines
	// deliver as much before it applies the state, so that the ops it
	// publishes next under one of those versions depend on everything in
	// it (ops of earlier versions are applied everywhere before any of a
	// later one).
	vecs := make(map[string]replicator.Vector)
	for v := env.tag.Version; v <= st.Applying; v++ {
		key := r.w.hist[f][v-1].Domain()
		if vecs[key] == nil {
			vecs[key] = make(replicator.Vector)
		}
		if have := r.apps[f].vecs[key]; have != nil {
			vecs[key].Merge(have)
		}
		if d := r.domains[key]; d != nil {
			vecs[key].Merge(d.engine.Delivered())
		}
	}
	r.w.send(envelope{from: r.idx, to: env.from, kind: msgBackfillGive, tag: env.tag, entries: slices.Clone(r.apps[f].log), vecs: vecs})
	return nil
}

// takeBackfill keeps a fabric's state from a member until this region's
// engines delivered what the member's had when it sent it, then applies it
// (once).
func (r *region) takeBackfill(env *envelope) error {
	f := env.tag.Fabric
	b, ok := r.backfills[f]
	if !ok || b.Version != env.tag.Version {
		return nil
	}
	if !r.w.hist[f][b.Version-1].Has(r.name) {
		return fmt.Errorf("%s got %s's state outside version %d: %w", r.name, f, b.Version, errCheck)
	}
	if r.received[f] == nil {
		r.received[f] = env
	}
	return r.applyBackfill(f)
}

// applyBackfill applies the state received for f once the engines caught
// up with the sender's.
func (r *region) applyBackfill(f string) error {
	env := r.received[f]
	b, ok := r.backfills[f]
	if env == nil || !ok || b.Version != env.tag.Version || r.router.Status(f).Backfill != b.Version {
		delete(r.received, f)
		return nil
	}
	for _, key := range slices.Sorted(maps.Keys(env.vecs)) {
		d := r.domains[key]
		if !r.w.opts.bugNoCatchUp && (d == nil || !env.vecs[key].LessEq(d.engine.Delivered())) {
			return nil
		}
	}
	delete(r.received, f)
	a := r.apps[f]
	a.backfilled = true
	for key, v := range env.vecs {
		if a.vecs[key] == nil {
			a.vecs[key] = make(replicator.Vector)
		}
		a.vecs[key].Merge(v)
	}
	for _, e := range env.entries {
		if err := r.apply(body{kind: bodyData, tag: e.tag, producer: e.producer, seq: e.seq}); err != nil {
			return fmt.Errorf("backfill from %s: %w", r.w.names[env.from], err)
		}
	}
	delete(r.backfills, f)
	r.w.res.Backfills++
	r.w.trace("%s backfilled %s version %d from %s: %d ops, engines at %v", r.name, f, b.Version, r.w.names[env.from], len(env.entries), env.vecs)
	r.router.Backfilled(b.Tag)
	return r.act()
}

// domain is one causal domain's engine at a region, with its journals.
type domain struct {
	r        *region
	key      string
	members  []string
	engine   *replicator.Engine
	codec    *replicator.Codec
	builder  *replicator.BatchBuilder
	journals map[string][]replicator.JournalEntry
	// joinMark: the engine was joining when it last ran (durable).
	joinMark bool
}

// ReadJournal implements replicator.JournalReader.
func (d *domain) ReadJournal(origin string, from, to uint64) ([]replicator.JournalEntry, error) {
	j := d.journals[origin]
	if from == 0 || to < from || to > uint64(len(j)) {
		return nil, fmt.Errorf("journal of %s has %d ops, asked %d..%d", origin, len(j), from, to)
	}
	return j[from-1 : to], nil
}

// start (re)builds the engine from the journals.
func (d *domain) start() error {
	ends := make(replicator.Vector)
	for o, j := range d.journals {
		ends[o] = uint64(len(j))
	}
	st, err := replicator.RestoreFromJournals(d, ends)
	if err != nil {
		return err
	}
	st.Rejoin = d.joinMark
	cfg := d.r.w.cfg
	cfg.Self, cfg.Regions = d.r.name, d.members
	if d.engine, err = replicator.New(cfg, st); err != nil {
		return err
	}
	d.joinMark = d.engine.Joining()
	d.builder = replicator.NewBatchBuilder(d.r.name, maxBatchBytes)
	return nil
}

// process carries out the engine's output: journal and hand deliveries to
// the router, then send batches (checking every op is the peer's to have)
// and acks.
func (r *region) process(d *domain) error {
	for {
		if d.joinMark && !d.engine.Joining() {
			d.joinMark = false
		}
		out := d.engine.Ready()
		if out.IsEmpty() {
			return nil
		}
		for _, dl := range out.Deliveries {
			if err := r.deliver(d, dl); err != nil {
				return fmt.Errorf("%s: deliver %s in %s: %w", r.name, dl.Dot(), d.key, err)
			}
		}
		for _, s := range out.Sends {
			batches, err := d.builder.Build(d, s)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			for _, b := range batches {
				for _, op := range b.Ops {
					if err := r.w.checkMember(s.Peer, op.Body, d.key); err != nil {
						return fmt.Errorf("%s sends %s:%d to %s: %w", r.name, b.Origin, op.Seq, s.Peer, err)
					}
				}
				msg, err := d.codec.AppendBatch(nil, b)
				if err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
				r.w.send(envelope{from: r.idx, to: slices.Index(r.w.names, s.Peer), kind: msgEngine, domain: d.key, msg: msg})
			}
		}
		for _, a := range out.Acks {
			msg, err := d.codec.AppendAck(nil, a)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			r.w.send(envelope{from: r.idx, to: slices.Index(r.w.names, a.To), kind: msgEngine, domain: d.key, msg: msg})
		}
		if err := r.act(); err != nil {
			return err
		}
	}
}

// deliver journals one delivery and hands it to the router.
func (r *region) deliver(d *domain, dl replicator.Delivery) error {
	if err := r.w.checkMember(r.name, dl.Body, d.key); err != nil {
		return err
	}
	if have := uint64(len(d.journals[dl.Origin])); have != dl.Seq-1 {
		return fmt.Errorf("journal of %s has %d: duplicate or out of order: %w", dl.Origin, have, errCheck)
	}
	d.journals[dl.Origin] = append(d.journals[dl.Origin], replicator.JournalEntry{Seq: dl.Seq,
		Meta: replicator.AppendMeta(nil, dl), Body: slices.Clone(dl.Body)})
	b, err := parseBody(dl.Body)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errCheck)
	}
	switch b.kind {
	case bodyMeta:
		m := fabric.Membership{Fabric: b.tag.Fabric, Version: b.tag.Version, Regions: b.regions}
		if err := r.router.Learn(m); err != nil {
			return fmt.Errorf("%v: %w", err, errCheck)
		}
	case bodyCut:
		r.router.DeliverCut(b.tag, b.region)
	case bodyData:
		if r.w.opts.bugNoHold {
			if err := r.apply(b); err != nil {
				return err
			}
			break
		}
		v, err := r.router.Deliver(b.tag, held{b: b})
		if err != nil {
			return fmt.Errorf("%v: %w", err, errCheck)
		}
		switch v {
		case fabric.Apply:
			if err := r.apply(b); err != nil {
				return err
			}
		case fabric.Hold:
			r.w.res.Held++
		case fabric.Drop:
			r.w.res.Dropped++
		}
	}
	return r.applyReady()
}
