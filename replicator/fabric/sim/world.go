package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
	"github.com/causeway/causeway/replicator/link"
)

// Options configures one run. Zero fields are drawn from the seed.
type Options struct {
	Seed uint64
	// Regions is the number of regions (3..6 when drawn); Fabrics the
	// number of fabrics besides _system (2..4 when drawn).
	Regions, Fabrics int
	// Steps is the number of random steps before the final heal.
	Steps int
	// Trace, when set, receives a line per notable event.
	Trace func(string)
	// Calm runs without faults and without list changes.
	Calm bool

	// bugNoHold applies every op at once (the router's verdict ignored):
	// for the simulator's own test, that its checkers catch it.
	bugNoHold bool
	// bugNoCatchUp applies a backfill at once, without waiting for the
	// engines to deliver what the sender's had.
	bugNoCatchUp bool
}

// Result summarizes a successful run.
type Result struct {
	Regions, Fabrics int
	// Ops counts data ops published, Applied their applications in every
	// region, Held those held across a change, Dropped those dropped by a
	// region the fabric left, DedupSkips those a region had from a
	// backfill already.
	Ops, Applied, Held, Dropped, DedupSkips int
	// Adds and Removes count list changes, Backfills backfills applied,
	// Deletions deletions completed, Refused publishes refused at a
	// non-member.
	Adds, Removes, Backfills, Deletions, Refused int
	Crashes, Partitions, Messages                int
	Domains                                      int
	HealTime                                     time.Duration
}

// errCheck marks checker failures.
var errCheck = errors.New("fabric sim: check failed")

var epoch = time.Unix(1_700_000_000, 0)

var secret = []byte("causeway-fabric-sim-secret-012345")

// maxBatchBytes is small, to split batches.
const maxBatchBytes = 4096

// opInfo is the oracle's record of one data op.
type opInfo struct {
	tag fabric.Tag
	// deps is what the publisher had applied of the fabric, per producer.
	deps map[string]int64
}

type msgKind uint8

const (
	msgEngine msgKind = iota
	msgBackfillAsk
	msgBackfillGive
)

type envelope struct {
	at       time.Time
	id       uint64
	from, to int
	kind     msgKind
	domain   string
	msg      []byte
	// Backfill messages.
	tag     fabric.Tag
	entries []entry
	vecs    map[string]replicator.Vector
}

type queue []*envelope

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].id < q[j].id
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*envelope)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type world struct {
	opts    Options
	rng     *rand.Rand
	now     time.Time
	step    int
	names   []string
	all     string // the domain of every region
	regions []*region
	mesh    *link.Mesh
	cfg     replicator.Config
	compact bool
	net     queue
	nextID  uint64
	times   []time.Time

	fabrics []string
	// hist is every fabric's authoritative list history (what homes
	// published).
	hist map[string][]fabric.Membership
	// oracle: data ops by "producer/seq"; published counts the ops of each
	// producer of each fabric.
	oracle    map[string]*opInfo
	published map[string]map[string]int64
	res       Result
	healing   bool
}

// Run runs one simulation and returns its summary or the first failed
// check (naming the seed and step).
func Run(opts Options) (Result, error) {
	w, err := newWorld(opts)
	if err != nil {
		return Result{}, fmt.Errorf("fabric sim: seed %d: setup: %w", opts.Seed, err)
	}
	if err := w.run(); err != nil {
		return w.res, fmt.Errorf("fabric sim: seed %d step %d (t=%s): %w", opts.Seed, w.step, w.now.Sub(epoch), err)
	}
	return w.res, nil
}

func newWorld(opts Options) (*world, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, 0xfab))
	if opts.Regions == 0 {
		opts.Regions = 3 + rng.IntN(4)
	}
	if opts.Fabrics == 0 {
		opts.Fabrics = 2 + rng.IntN(3)
	}
	if opts.Steps == 0 {
		opts.Steps = 200 + rng.IntN(400)
	}
	w := &world{opts: opts, rng: rng, now: epoch, hist: make(map[string][]fabric.Membership),
		oracle: make(map[string]*opInfo), published: make(map[string]map[string]int64)}
	for i := range opts.Regions {
		w.names = append(w.names, fmt.Sprintf("r%d", i))
	}
	w.all = fabric.DomainKey(w.names)
	w.cfg = replicator.Config{
		MaxBatchOps:          1 + rng.IntN(32),
		MaxBufferedOps:       8 + rng.IntN(256),
		MaxRetransmitTimeout: time.Second,
		RelayDelay:           time.Duration(100+rng.IntN(400)) * time.Millisecond,
		AckInterval:          time.Duration(rng.IntN(30)) * time.Millisecond,
		FullAckInterval:      time.Second,
		LagWindowOps:         64,
		JoinTimeout:          time.Hour,
	}
	w.cfg.MaxInflightOps = w.cfg.MaxBatchOps * (1 + rng.IntN(8))
	lc := link.Config{
		Latency:      time.Duration(5+rng.IntN(60)) * time.Millisecond,
		Jitter:       time.Duration(rng.IntN(40)) * time.Millisecond,
		LossRate:     rng.Float64() * 0.15,
		DupRate:      rng.Float64() * 0.1,
		ReorderRate:  rng.Float64() * 0.2,
		ReorderDelay: time.Duration(rng.IntN(200)) * time.Millisecond,
	}
	if opts.Calm {
		lc = link.Config{Latency: lc.Latency}
	}
	w.cfg.RetransmitTimeout = 3*lc.Latency + 100*time.Millisecond
	w.compact = rng.IntN(4) != 0
	var err error
	if w.mesh, err = link.NewMesh(w.names, lc, rng.Uint64()); err != nil {
		return nil, err
	}
	// Fabrics over random subsets (some with the same set: they share a
	// domain), known to every region from the start (configuration).
	var initial []fabric.Membership
	for i := range opts.Fabrics {
		name := fmt.Sprintf("f%d", i)
		var list []string
		for _, n := range w.names {
			if rng.IntN(2) == 0 {
				list = append(list, n)
			}
		}
		if len(list) == 0 {
			list = []string{w.names[rng.IntN(len(w.names))]}
		}
		m, err := fabric.Create(name, list[rng.IntN(len(list))], list, w.names)
		if err != nil {
			return nil, err
		}
		w.fabrics = append(w.fabrics, name)
		w.hist[name] = []fabric.Membership{m}
		w.published[name] = make(map[string]int64)
		initial = append(initial, m)
	}
	for i, n := range w.names {
		r, err := newRegion(w, i, n, initial)
		if err != nil {
			return nil, err
		}
		w.regions = append(w.regions, r)
	}
	w.res.Regions, w.res.Fabrics = len(w.names), len(w.fabrics)
	w.trace("regions %v fabrics %v", w.names, initial)
	return w, nil
}

func (w *world) trace(format string, a ...any) {
	if w.opts.Trace != nil {
		w.opts.Trace(fmt.Sprintf("%8s ", w.now.Sub(epoch)) + fmt.Sprintf(format, a...))
	}
}

func (w *world) run() error {
	for w.step = 0; w.step < w.opts.Steps; w.step++ {
		if err := w.randomStep(); err != nil {
			return err
		}
	}
	return w.heal()
}

func (w *world) randomStep() error {
	w.now = w.now.Add(time.Duration(1+w.rng.IntN(15)) * time.Millisecond)
	if err := w.deliverDue(); err != nil {
		return err
	}
	switch x := w.rng.Float64(); {
	case w.opts.Calm:
	case x < 0.02:
		w.partition()
	case x < 0.035:
		w.mesh.Heal()
		w.trace("heal")
	case x < 0.042:
		if err := w.crash(w.regions[w.rng.IntN(len(w.regions))]); err != nil {
			return err
		}
	case x < 0.052:
		if err := w.changeList(); err != nil {
			return err
		}
	}
	for _, r := range w.regions {
		if !r.up && w.now.After(r.downUntil) {
			if err := w.restart(r); err != nil {
				return err
			}
		}
	}
	for n := w.rng.IntN(5); n > 0; n-- {
		r := w.regions[w.rng.IntN(len(w.regions))]
		if r.up {
			if err := r.publish(w.fabrics[w.rng.IntN(len(w.fabrics))]); err != nil {
				return err
			}
		}
	}
	return w.tickAll(0.7)
}

// tickAll ticks each up region's engines (each with probability p) and
// retries what the regions have pending.
func (w *world) tickAll(p float64) error {
	for _, r := range w.regions {
		if !r.up {
			continue
		}
		for _, key := range r.domainKeys() {
			if w.rng.Float64() >= p {
				continue
			}
			d := r.domains[key]
			d.engine.Tick(w.now)
			if err := r.process(d); err != nil {
				return err
			}
		}
		if err := r.retryPending(); err != nil {
			return err
		}
	}
	return nil
}

// changeList has a fabric's home add or remove a region.
func (w *world) changeList() error {
	f := w.fabrics[w.rng.IntN(len(w.fabrics))]
	h := w.hist[f]
	cur := h[len(h)-1]
	// The home makes a change once it applies the latest version.
	home := w.regions[slices.Index(w.names, cur.Home)]
	if st := home.router.Status(f); !home.up || st.Latest != cur.Version || st.Applying != cur.Version {
		return nil
	}
	list := slices.Clone(cur.Regions)
	var outside []string
	for _, n := range w.names {
		if !cur.Has(n) {
			outside = append(outside, n)
		}
	}
	adding := len(outside) > 0 && (len(list) == 1 || w.rng.IntN(2) == 0)
	switch {
	case adding:
		list = append(list, outside[w.rng.IntN(len(outside))])
	case len(list) == 1:
		return nil
	default:
		i := slices.Index(list, cur.Home)
		for i == slices.Index(list, cur.Home) {
			i = w.rng.IntN(len(list))
		}
		list = slices.Delete(list, i, i+1)
	}
	next, err := fabric.Change(cur, list, w.names, nil)
	if err != nil {
		return fmt.Errorf("change %s %v -> %v: %w", f, cur.Regions, list, err)
	}
	ok, err := home.publishMeta(next)
	if err != nil || !ok {
		return err
	}
	w.hist[f] = append(h, next)
	if adding {
		w.res.Adds++
	} else {
		w.res.Removes++
	}
	w.trace("%s changes %s: version %d %v", home.name, f, next.Version, next.Regions)
	return nil
}

// partition cuts links: a split, a triangle or a one-way cut.
func (w *world) partition() {
	w.res.Partitions++
	names := slices.Clone(w.names)
	w.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	switch w.rng.IntN(3) {
	case 0:
		k := 1 + w.rng.IntN(len(names)-1)
		_ = w.mesh.Partition(names[:k], names[k:])
		w.trace("partition %v | %v", names[:k], names[k:])
	case 1:
		_ = w.mesh.Cut(names[0], names[2])
		_ = w.mesh.Cut(names[2], names[0])
		w.trace("triangle: %s cannot reach %s", names[0], names[2])
	default:
		_ = w.mesh.Cut(names[0], names[1])
		w.trace("one-way cut %s -> %s", names[0], names[1])
	}
}

// send passes a message through the link from -> to.
func (w *world) send(env envelope) {
	w.times = w.mesh.Link(w.names[env.from], w.names[env.to]).Send(w.now, w.times[:0])
	for _, at := range w.times {
		w.nextID++
		e := env
		e.at, e.id = at, w.nextID
		heap.Push(&w.net, &e)
		w.res.Messages++
	}
}

func (w *world) deliverDue() error {
	for len(w.net) > 0 && !w.net[0].at.After(w.now) {
		env := heap.Pop(&w.net).(*envelope)
		r := w.regions[env.to]
		if !r.up {
			continue
		}
		if err := r.receive(env); err != nil {
			return err
		}
	}
	return nil
}

// crash takes a region down for a while: its engines' volatile state is
// lost; journals, the router and applied state are durable.
func (w *world) crash(r *region) error {
	if !r.up {
		return nil
	}
	r.up = false
	r.downUntil = w.now.Add(time.Duration(w.rng.IntN(3000)) * time.Millisecond)
	w.res.Crashes++
	w.trace("crash %s until %s", r.name, r.downUntil.Sub(epoch))
	for _, o := range w.regions {
		if o == r || !o.up {
			continue
		}
		for key, d := range o.domains {
			if r.domains[key] != nil {
				if err := d.engine.PeerDown(r.name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *world) restart(r *region) error {
	for _, key := range r.domainKeys() {
		if err := r.domains[key].start(); err != nil {
			return err
		}
	}
	r.up = true
	w.trace("restart %s", r.name)
	for _, o := range w.regions {
		if o == r || !o.up {
			continue
		}
		for key, d := range o.domains {
			if r.domains[key] != nil {
				if err := d.engine.PeerUp(w.now, r.name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// heal restores every link and region, then runs until every fabric
// converged in its latest list (bounded virtual time).
func (w *world) heal() error {
	w.mesh.Heal()
	lc := w.mesh.Link(w.names[0], w.names[1]).Config()
	lc.LossRate /= 2
	if err := w.mesh.SetAll(lc); err != nil {
		return err
	}
	w.healing = true
	start := w.now
	deadline := w.now.Add(3 * time.Minute)
	for ; w.now.Before(deadline); w.step++ {
		w.now = w.now.Add(10 * time.Millisecond)
		if err := w.deliverDue(); err != nil {
			return err
		}
		for _, r := range w.regions {
			if !r.up {
				if err := w.restart(r); err != nil {
					return err
				}
			}
		}
		if err := w.tickAll(1); err != nil {
			return err
		}
		if w.converged() == "" {
			w.res.HealTime = w.now.Sub(start)
			return w.finalChecks()
		}
	}
	return fmt.Errorf("not converged %s after heal: %s: %w", w.now.Sub(start), w.converged(), errCheck)
}

// converged returns what is not converged yet ("" when everything is).
func (w *world) converged() string {
	for _, f := range w.fabrics {
		h := w.hist[f]
		latest := h[len(h)-1]
		for _, r := range w.regions {
			st := r.router.Status(f)
			a := r.apps[f]
			if !latest.Has(r.name) {
				if st.Applying != 0 || st.Deleting != 0 || len(a.log) != 0 || st.Held != 0 {
					return fmt.Sprintf("%s outside %s %v: status %+v, %d applied", r.name, f, latest.Regions, st, len(a.log))
				}
				continue
			}
			if st.Latest != latest.Version || st.Applying != latest.Version || st.Held != 0 || st.Backfill != 0 {
				msg := fmt.Sprintf("%s in %s version %d %v: status %+v", r.name, f, latest.Version, latest.Regions, st)
				if env := r.received[f]; env != nil {
					msg += fmt.Sprintf("; state received from %s waits for %v", w.names[env.from], env.vecs)
					for key := range env.vecs {
						if d := r.domains[key]; d != nil {
							msg += fmt.Sprintf("; %s delivered %v", key, d.engine.Delivered())
						}
					}
				}
				return msg
			}
			for p, n := range w.published[f] {
				if a.last[p] != n {
					return fmt.Sprintf("%s has %d of %s's %d ops of %s", r.name, a.last[p], p, n, f)
				}
			}
		}
	}
	for _, r := range w.regions {
		if len(r.cuts) != 0 || len(r.metas) != 0 {
			return fmt.Sprintf("%s has %d cuts and %d list changes to publish", r.name, len(r.cuts), len(r.metas))
		}
	}
	return ""
}

// finalChecks scans every journal: no op of a fabric at a region outside
// its version's list.
func (w *world) finalChecks() error {
	for _, r := range w.regions {
		for _, key := range r.domainKeys() {
			d := r.domains[key]
			for origin, j := range d.journals {
				for _, e := range j {
					if err := w.checkMember(r.name, e.Body, key); err != nil {
						return fmt.Errorf("%s journal of %s in %s: %w", r.name, origin, key, err)
					}
				}
			}
		}
		for _, f := range w.fabrics {
			w.res.Applied += len(r.apps[f].log)
		}
		w.res.Domains += len(r.domains)
	}
	w.res.Ops = len(w.oracle)
	return nil
}

// checkMember checks that an op body may be at region in domain: a data
// op's version list holds region and is the domain; a cut's previous
// version's; a list change travels in every region's domain.
func (w *world) checkMember(region string, body []byte, domain string) error {
	b, err := parseBody(body)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errCheck)
	}
	var m fabric.Membership
	switch b.kind {
	case bodyMeta:
		if domain != w.all {
			return fmt.Errorf("list change of %s in domain %s: %w", b.tag.Fabric, domain, errCheck)
		}
		return nil
	case bodyData:
		m = w.hist[b.tag.Fabric][b.tag.Version-1]
	case bodyCut:
		m = w.hist[b.tag.Fabric][b.tag.Version-2]
	}
	if !m.Has(region) {
		return fmt.Errorf("%s of %s version %d at %s, outside %v: %w", b, b.tag.Fabric, b.tag.Version, region, m.Regions, errCheck)
	}
	if m.Domain() != domain {
		return fmt.Errorf("%s in domain %s, want %s: %w", b, domain, m.Domain(), errCheck)
	}
	return nil
}

// bodyKind is the kind of a simulated op body.
type bodyKind uint8

const (
	bodyData bodyKind = iota
	bodyCut
	bodyMeta
)

// body is a parsed op body: d|fabric|version|producer|seq|pad,
// c|fabric|version|region, or m|fabric|version|r1,r2.
type body struct {
	kind     bodyKind
	tag      fabric.Tag
	producer string
	seq      int64
	region   string
	regions  []string
}

func (b body) String() string {
	switch b.kind {
	case bodyData:
		return fmt.Sprintf("op %s/%d", b.producer, b.seq)
	case bodyCut:
		return fmt.Sprintf("cut of %s", b.region)
	}
	return "list"
}

func parseBody(raw []byte) (body, error) {
	parts := strings.Split(string(raw), "|")
	if len(parts) < 4 {
		return body{}, fmt.Errorf("malformed body %q", raw)
	}
	var b body
	var v uint64
	if _, err := fmt.Sscan(parts[2], &v); err != nil || v == 0 {
		return body{}, fmt.Errorf("body %q: version: %v", raw, err)
	}
	b.tag = fabric.Tag{Fabric: parts[1], Version: v}
	switch parts[0] {
	case "d":
		if len(parts) != 6 {
			return body{}, fmt.Errorf("malformed data body %q", raw)
		}
		b.kind, b.producer = bodyData, parts[3]
		if _, err := fmt.Sscan(parts[4], &b.seq); err != nil {
			return body{}, fmt.Errorf("body %q: seq: %v", raw, err)
		}
	case "c":
		b.kind, b.region = bodyCut, parts[3]
	case "m":
		b.kind, b.regions = bodyMeta, strings.Split(parts[3], ",")
	default:
		return body{}, fmt.Errorf("malformed body %q", raw)
	}
	return b, nil
}
