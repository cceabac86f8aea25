package sim

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/link"
)

// Options configures one simulation run. Zero fields are drawn from the
// seed.
type Options struct {
	Seed uint64
	// Regions is the number of regions (3..7 when drawn).
	Regions int
	// Steps is the number of random steps before the final heal.
	Steps int
	// Trace, when set, receives a line per notable event.
	Trace func(string)
	// Calm runs without faults: FIFO links with a fixed latency, no loss,
	// duplication, corruption, partition, crash or final cut.
	Calm bool
	// WipeStorm adds, at a random step of the first half, a storm: every
	// region loses its disk within WipeStormWindow, in random order, and
	// one-way cuts are made among them.
	WipeStorm bool
	// Nodes makes every region a cluster of Nodes nodes (0 or 1: one node
	// whose journals survive a crash, the default): the region's journal
	// is a unit replicated by log shipping (region.Leader and
	// region.Follower, leader epochs, in-sync sets in region.State), its
	// leader runs the engine from its own copy of the journal, and nothing
	// leaves the region or is acknowledged before the high watermark.
	// Nodes crash, lose their disk and are partitioned within the region.
	Nodes int

	// Mutations for the simulator's own tests, with nodes: bugSendAboveHW
	// ships batches and bugAckAboveHW acks without waiting for the high
	// watermark to cover what they carry; bugUnchecked turns off the check
	// of every message leaving a region, so that only the consequences are
	// left to catch them.
	bugSendAboveHW, bugAckAboveHW, bugUnchecked bool
}

// maxNodes bounds Options.Nodes (every node is a voter of its region's
// metadata group).
const maxNodes = 7

// WipeStormWindow is how long a WipeStorm takes to wipe every region.
const WipeStormWindow = 1500 * time.Millisecond

// Result summarizes a successful run.
type Result struct {
	Regions     int
	Ops         int
	Deliveries  int
	Messages    int
	Restarts    int
	Partitions  int
	Retransmits uint64
	Relayed     uint64
	Evictions   int
	// Wipes counts regions that lost their disk and rejoined.
	Wipes int
	// BasedBatches counts delta-based batches received, MissingBase those
	// refused for want of their base.
	BasedBatches, MissingBase int
	HealTime                  time.Duration
	// AckedPublishes counts publishes acknowledged to their client.
	AckedPublishes int

	// With nodes: LeaderStarts counts engines started on a node taking up
	// the journal's leadership (the first of each region included),
	// NodeCrashes and NodeWipes single-node faults, RegionPartitions
	// in-region partitions, TruncatedOps the ops cut from followers' logs
	// (never committed), DedupedRetries the publishes a client sent again
	// after a failover that the new leader's journal already held, and
	// HeldDropped the Outputs a leader dropped while they waited for its
	// high watermark. InSyncShrinks counts in-sync sets a leader shrank.
	Nodes                                int
	LeaderStarts, NodeCrashes, NodeWipes int
	RegionPartitions, TruncatedOps       int
	DedupedRetries, HeldDropped          int
	InSyncShrinks                        int
}

// errCheck marks checker failures (as opposed to harness errors).
var errCheck = errors.New("sim: check failed")

// epoch is the virtual clock's origin.
var epoch = time.Unix(1_700_000_000, 0)

// secret is the simulated fabric secret.
var secret = []byte("causeway-sim-fabric-secret-0123")

// opInfo is the oracle's record of one created op.
type opInfo struct {
	deps     replicator.Vector
	producer string
	seqID    int64
	body     string
}

type envelope struct {
	at       time.Time
	id       uint64
	from, to int
	msg      []byte
	// corrupted is set when a byte of msg was flipped in flight.
	corrupted bool
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

// world is the whole simulated fabric.
type world struct {
	opts    Options
	rng     *rand.Rand
	now     time.Time
	step    int
	names   []string
	regions []*region
	mesh    *link.Mesh
	codec   *replicator.Codec
	cfg     replicator.Config
	net     queue
	nextID  uint64
	oracle  map[replicator.Dot]*opInfo
	// limbo holds the ops a wipe may have lost: no other region had
	// delivered them, but one may hold a copy it received and has not
	// delivered yet (buffered, waiting for a dependency). A delivery of one
	// revives it into the oracle (it exists, and every region must get
	// it); a new op that reuses its dot supersedes it (a later delivery of
	// the old body is then a collision the checker reports).
	limbo map[replicator.Dot]*opInfo
	res   Result
	// tentative holds, with nodes, the ops published on a leader and not
	// committed yet (by the oid their journal record carries): the oracle
	// learns an op when a leader's high watermark passes it; one that a
	// failover cuts never existed for the other regions.
	tentative map[uint64]*opInfo
	nextOID   uint64
	// acked is every op acknowledged to its publisher, by dot: each must
	// be delivered everywhere at the end, unless its region lost every
	// disk before another region had it (wipedAway).
	acked     map[replicator.Dot]string
	wipedAway map[replicator.Dot]bool

	corruptRate float64
	// replyRate is the probability that a region's reply producer publishes
	// after a remote delivery (a causal chain across regions); it is divided
	// by the number of peers so replies do not snowball.
	replyRate float64
	retryRate float64
	times     []time.Time
	healing   bool
	// lost is the region lost for good and evicted in the final phase, or
	// nil.
	lost *region
	// wiped names the regions that lost their disk at least once.
	wiped map[string]bool
	// permanentCut is set when the final phase keeps a link down: acks are
	// not relayed, so stability stays pinned (conservatively) and is not
	// awaited.
	permanentCut bool
	// storm is when each region is wiped in a WipeStorm (zero: not, or
	// done); stormStep the step it starts at.
	storm     []time.Time
	stormStep int
}

// Run runs one simulation and returns its summary, or the first check that
// failed (the error names the seed and step).
func Run(opts Options) (Result, error) {
	w, err := newWorld(opts)
	if err != nil {
		return Result{}, fmt.Errorf("sim: seed %d: setup: %w", opts.Seed, err)
	}
	if err := w.run(); err != nil {
		return w.res, fmt.Errorf("sim: seed %d step %d (t=%s): %w", opts.Seed, w.step, w.now.Sub(epoch), err)
	}
	return w.res, nil
}

func newWorld(opts Options) (*world, error) {
	if opts.Nodes < 0 || opts.Nodes > maxNodes {
		return nil, fmt.Errorf("sim: %d nodes per region, want 0..%d", opts.Nodes, maxNodes)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	if opts.Regions == 0 {
		opts.Regions = 3 + rng.IntN(5)
	}
	if opts.Steps == 0 {
		opts.Steps = 100 + rng.IntN(250)
	}
	w := &world{opts: opts, rng: rng, now: epoch, oracle: make(map[replicator.Dot]*opInfo), limbo: make(map[replicator.Dot]*opInfo),
		wiped: make(map[string]bool), tentative: make(map[uint64]*opInfo), acked: make(map[replicator.Dot]string),
		wipedAway: make(map[replicator.Dot]bool)}
	for i := range opts.Regions {
		w.names = append(w.names, fmt.Sprintf("r%d", i))
	}
	w.cfg = replicator.Config{
		Regions:              w.names,
		MaxBatchOps:          1 + rng.IntN(64),
		MaxBufferedOps:       8 + rng.IntN(512),
		MaxRetransmitTimeout: time.Second,
		RelayDelay:           time.Duration(100+rng.IntN(400)) * time.Millisecond,
		AckInterval:          time.Duration(rng.IntN(30)) * time.Millisecond,
		FullAckInterval:      time.Second,
		LagWindowOps:         64,
		// A region that starts empty waits for every peer, however long
		// they are down or cut off: the simulator checks that no op is
		// taken for another, which JoinTimeout trades for availability.
		JoinTimeout: time.Hour,
	}
	w.cfg.MaxInflightOps = w.cfg.MaxBatchOps * (1 + rng.IntN(8))
	lc := link.Config{
		Latency:      time.Duration(5+rng.IntN(60)) * time.Millisecond,
		Jitter:       time.Duration(rng.IntN(40)) * time.Millisecond,
		LossRate:     rng.Float64() * 0.2,
		DupRate:      rng.Float64() * 0.1,
		ReorderRate:  rng.Float64() * 0.2,
		ReorderDelay: time.Duration(rng.IntN(200)) * time.Millisecond,
	}
	w.corruptRate = rng.Float64() * 0.01
	if opts.Calm {
		lc = link.Config{Latency: lc.Latency}
		w.corruptRate = 0
	}
	// Retransmit after a few round trips (acks also wait for ticks).
	w.cfg.RetransmitTimeout = 3*lc.Latency + 100*time.Millisecond
	w.replyRate = rng.Float64() * 0.6 / float64(opts.Regions-1)
	w.retryRate = rng.Float64() * 0.1
	var err error
	if w.mesh, err = link.NewMesh(w.names, lc, rng.Uint64()); err != nil {
		return nil, err
	}
	if w.codec, err = replicator.NewCodec(secret); err != nil {
		return nil, err
	}
	if rng.IntN(4) != 0 {
		// Most runs use compact batches; the others name regions.
		if err := w.codec.SetMembership(w.names); err != nil {
			return nil, err
		}
	}
	for i, n := range w.names {
		r, err := newRegion(w, i, n)
		if err != nil {
			return nil, err
		}
		w.regions = append(w.regions, r)
	}
	w.res.Regions = len(w.names)
	if opts.Nodes > 1 {
		w.res.Nodes = opts.Nodes
		// Every region elects its journal leader, which starts the engine.
		for _, r := range w.regions {
			if err := r.cl.step(); err != nil {
				return nil, err
			}
		}
	}
	if opts.WipeStorm {
		w.stormStep = rng.IntN(opts.Steps/2 + 1)
	}
	return w, nil
}

func (w *world) trace(format string, a ...any) {
	if w.opts.Trace != nil {
		w.opts.Trace(fmt.Sprintf("%8s ", w.now.Sub(epoch)) + fmt.Sprintf(format, a...))
	}
}

// run drives the random phase, then heals and waits for convergence.
func (w *world) run() error {
	for w.step = 0; w.step < w.opts.Steps; w.step++ {
		if err := w.randomStep(); err != nil {
			return err
		}
	}
	return w.heal()
}

// randomStep advances the clock, delivers due messages, and performs random
// client, fault and tick actions.
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
	case x < 0.045:
		if err := w.wipe(w.regions[w.rng.IntN(len(w.regions))]); err != nil {
			return err
		}
	}
	if w.opts.Nodes > 1 && !w.opts.Calm {
		for _, r := range w.regions {
			if r.up {
				r.cl.fault()
			}
		}
	}
	if err := w.wipeStorm(); err != nil {
		return err
	}
	for _, r := range w.regions {
		if !r.up && w.now.After(r.downUntil) {
			if err := w.restart(r); err != nil {
				return err
			}
		}
	}
	if err := w.stepClusters(); err != nil {
		return err
	}
	for n := w.rng.IntN(4); n > 0; n-- {
		r := w.regions[w.rng.IntN(len(w.regions))]
		if !r.up {
			continue
		}
		if sh := r.publishTarget(); sh != nil {
			if err := sh.publish(r.producers[w.rng.IntN(len(r.producers))]); err != nil {
				return err
			}
			if err := sh.process(); err != nil {
				return err
			}
		}
	}
	for _, r := range w.regions {
		for _, sh := range r.shells() {
			if sh.stopped || w.rng.Float64() >= 0.7 {
				continue
			}
			sh.engine.Tick(w.now)
			if err := sh.process(); err != nil {
				return err
			}
		}
	}
	for _, r := range w.regions {
		for _, sh := range r.shells() {
			if !sh.engine.Delivered().Equal(sh.count) {
				return fmt.Errorf("%s: engine says delivered %v, journals hold %v: %w",
					sh.name(), sh.engine.Delivered(), sh.count, errCheck)
			}
			if m := sh.engine.Metrics(); m.BufferedOps > w.cfg.MaxBufferedOps {
				return fmt.Errorf("%s: %d ops buffered, bound %d: %w", sh.name(), m.BufferedOps, w.cfg.MaxBufferedOps, errCheck)
			}
		}
	}
	if w.rng.Float64() < 0.1 {
		return w.checkStability()
	}
	return nil
}

// stepClusters runs every region's cluster for one step (with nodes).
func (w *world) stepClusters() error {
	for _, r := range w.regions {
		if r.cl != nil {
			if err := r.cl.step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// wipeStorm starts the storm at its step (every region gets a wipe time
// within WipeStormWindow, and two one-way cuts are made) and wipes the
// regions whose time came. A region down at its time is wiped as soon as it
// is up again.
func (w *world) wipeStorm() error {
	if !w.opts.WipeStorm {
		return nil
	}
	if w.step == w.stormStep {
		w.storm = make([]time.Time, len(w.regions))
		for i := range w.storm {
			w.storm[i] = w.now.Add(time.Duration(w.rng.Int64N(int64(WipeStormWindow))))
		}
		for range 2 {
			a, b := w.rng.IntN(len(w.names)), w.rng.IntN(len(w.names)-1)
			if b >= a {
				b++
			}
			_ = w.mesh.Cut(w.names[a], w.names[b])
			w.trace("storm: one-way cut %s -> %s", w.names[a], w.names[b])
		}
	}
	for i, at := range w.storm {
		r := w.regions[i]
		if at.IsZero() || w.now.Before(at) || !r.up {
			continue
		}
		w.storm[i] = time.Time{}
		w.trace("storm wipes %s", r.name)
		if err := w.wipe(r); err != nil {
			return err
		}
	}
	return nil
}

// partition cuts links: a symmetric split, a non-transitive triangle
// (A-B and B-C up, A-C cut both ways) or a one-way cut.
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
		w.trace("triangle: %s cannot reach %s, both reach %s", names[0], names[2], names[1])
	default:
		_ = w.mesh.Cut(names[0], names[1])
		w.trace("one-way cut %s -> %s", names[0], names[1])
	}
}

// send passes a message through the link from -> to.
func (w *world) send(from, to int, msg []byte) {
	w.times = w.mesh.Link(w.names[from], w.names[to]).Send(w.now, w.times[:0])
	for _, at := range w.times {
		w.nextID++
		env := &envelope{at: at, id: w.nextID, from: from, to: to, msg: msg}
		if w.rng.Float64() < w.corruptRate {
			env.msg = slices.Clone(msg)
			env.msg[w.rng.IntN(len(msg))] ^= byte(1 + w.rng.IntN(255))
			env.corrupted = true
		}
		heap.Push(&w.net, env)
		w.res.Messages++
	}
}

// deliverDue hands every message due by now to its region.
func (w *world) deliverDue() error {
	for len(w.net) > 0 && !w.net[0].at.After(w.now) {
		env := heap.Pop(&w.net).(*envelope)
		sh := w.regions[env.to].receiver()
		if sh == nil {
			continue
		}
		if err := sh.receive(env); err != nil {
			return err
		}
	}
	return nil
}

// crash takes a region down for a while; it loses all volatile state.
func (w *world) crash(r *region) error {
	if !r.up {
		return nil
	}
	r.up = false
	r.downUntil = w.now.Add(time.Duration(w.rng.IntN(3000)) * time.Millisecond)
	w.trace("crash %s until %s", r.name, r.downUntil.Sub(epoch))
	if r.cl != nil {
		// Every node goes down; the last engine to stop tells the others.
		r.cl.crashAll(r.downUntil)
		return nil
	}
	for _, o := range w.regions {
		if o != r && o.up {
			if err := o.sh.engine.PeerDown(r.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// wipe crashes a region and loses its disk. Its connections die with it
// (what it had in flight is lost). Its own ops that no other region
// delivered may be gone for good: the oracle moves them to limbo (another
// region may still hold a received copy it has not delivered), and the
// region's next life, once joined, numbers new ops from the highest any
// region holds.
func (w *world) wipe(r *region) error {
	if !r.up {
		return nil
	}
	if err := w.crash(r); err != nil {
		return err
	}
	kept := w.net[:0]
	for _, env := range w.net {
		if env.from != r.idx {
			kept = append(kept, env)
		}
	}
	w.net = kept
	heap.Init(&w.net)
	// Of every origin (its own, and another wiped region's ops it was the
	// last to hold), what no other region holds is gone.
	holds := r.holds()
	for origin, had := range holds {
		held := uint64(0)
		for _, o := range w.regions {
			if o != r {
				// With nodes, what another region has not committed a
				// failover there may still cut.
				held = max(held, o.has()[origin])
			}
		}
		for seq := held + 1; seq <= had; seq++ {
			d := replicator.Dot{Origin: origin, Seq: seq}
			if info := w.oracle[d]; info != nil {
				w.limbo[d] = info
				delete(w.oracle, d)
				if w.acked[d] == info.body {
					w.wipedAway[d] = true
				}
			}
		}
		if held < had {
			w.trace("wipe %s: %s:%d..%d delivered nowhere else (limbo)", r.name, origin, held+1, had)
		}
	}
	before := holds.Clone()
	before.Merge(r.beforeWipe)
	r.beforeWipe = before
	w.res.Wipes++
	w.wiped[r.name] = true
	w.trace("wipe %s", r.name)
	if r.cl != nil {
		return r.cl.reset()
	}
	return r.sh.wipe()
}

// restart rebuilds a crashed region's engine from its journals.
func (w *world) restart(r *region) error {
	if r.cl != nil {
		// Every node comes back; the journal's leader starts the engine.
		r.up = true
		r.cl.restartAll()
		w.res.Restarts++
		w.trace("restart %s", r.name)
		return nil
	}
	if err := r.sh.start(); err != nil {
		return err
	}
	r.up = true
	w.res.Restarts++
	w.trace("restart %s delivered %v", r.name, r.sh.engine.Delivered())
	if w.lost != nil {
		// Evictions are operator configuration: they survive restarts.
		if err := r.sh.engine.EvictRegion(w.lost.name); err != nil {
			return err
		}
	}
	for _, o := range w.regions {
		if o != r && o.up {
			if err := o.sh.engine.PeerUp(w.now, r.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkStability: nothing a region reports stable may be missing anywhere.
func (w *world) checkStability() error {
	r := w.regions[w.rng.IntN(len(w.regions))]
	for _, sh := range r.shells() {
		for origin, s := range sh.stable() {
			for _, o := range w.regions {
				// A region that lost its disk lost what was stable there
				// too; the others learn it from its first full ack. With
				// nodes, a region has what its journal committed.
				if got := max(o.has()[origin], o.beforeWipe[origin]); got < s {
					return fmt.Errorf("%s reports %s:%d stable but %s has only %d: %w",
						sh.name(), origin, s, o.name, got, errCheck)
				}
			}
		}
	}
	return nil
}

// heal restores every link and region, then runs until every region has
// delivered every op (nothing lost), within a bounded virtual time.
func (w *world) heal() error {
	w.mesh.Heal()
	// Half the runs end with a permanent non-transitive partition: two
	// regions cannot reach each other (both ways, or one way), so they only
	// converge through relays by the others.
	if !w.opts.Calm && w.rng.IntN(2) == 0 {
		a, c := w.rng.IntN(len(w.names)), w.rng.IntN(len(w.names)-1)
		if c >= a {
			c++
		}
		_ = w.mesh.Cut(w.names[a], w.names[c])
		if w.rng.IntN(2) == 0 {
			_ = w.mesh.Cut(w.names[c], w.names[a])
		}
		w.trace("heal all but %s -> %s", w.names[a], w.names[c])
		w.permanentCut = true
	}
	// A quarter of the runs with 4+ regions lose one region for good; the
	// operator evicts it everywhere so that it stops pinning stability. The
	// others must still converge, relaying the ops of the lost region that
	// any of them has.
	if !w.opts.Calm && len(w.regions) >= 4 && w.rng.IntN(4) == 0 {
		w.lost = w.regions[w.rng.IntN(len(w.regions))]
		if err := w.crash(w.lost); err != nil {
			return err
		}
		for _, r := range w.regions {
			for _, sh := range r.shells() {
				if r != w.lost {
					if err := sh.engine.EvictRegion(w.lost.name); err != nil {
						return err
					}
				}
			}
		}
		w.trace("lost and evicted %s", w.lost.name)
	}
	lc := w.mesh.Link(w.names[0], w.names[1]).Config()
	lc.Down = false
	lc.LossRate /= 2
	for _, a := range w.names {
		for _, b := range w.names {
			if l := w.mesh.Link(a, b); l != nil {
				lc.Down = l.Config().Down
				if err := l.SetConfig(lc); err != nil {
					return err
				}
			}
		}
	}
	w.corruptRate = 0
	w.healing = true
	for _, r := range w.regions {
		if r.cl != nil && r != w.lost {
			r.cl.healLAN()
			if r.up {
				r.cl.restartAll()
			}
		}
	}
	start := w.now
	deadline := w.now.Add(2 * time.Minute)
	for ; w.now.Before(deadline); w.step++ {
		w.now = w.now.Add(10 * time.Millisecond)
		if err := w.deliverDue(); err != nil {
			return err
		}
		for _, r := range w.regions {
			if r == w.lost {
				continue
			}
			if !r.up {
				if err := w.restart(r); err != nil {
					return err
				}
			}
			if r.cl != nil {
				if err := r.cl.step(); err != nil {
					return err
				}
			}
			for _, sh := range r.shells() {
				if sh.stopped {
					continue
				}
				sh.engine.Tick(w.now)
				if err := sh.process(); err != nil {
					return err
				}
			}
		}
		if w.converged() && (w.permanentCut || w.stable()) {
			w.res.HealTime = w.now.Sub(start)
			return w.finalChecks()
		}
	}
	var lines []string
	for _, r := range w.regions {
		if r.cl != nil {
			lines = append(lines, r.cl.describe())
		}
		v := r.view()
		if v == nil {
			lines = append(lines, fmt.Sprintf("%s: no engine serving", r.name))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s delivered %v metrics %+v", r.name, v.engine.Delivered(), v.engine.Metrics()))
	}
	return fmt.Errorf("not converged %s after heal: ops lost or stuck (created %d):\n%s: %w",
		w.now.Sub(start), len(w.oracle), strings.Join(lines, "\n"), errCheck)
}

// converged reports whether every surviving region delivered every op
// created by a survivor, and the same ops of the lost region.
func (w *world) converged() bool {
	var ref *shell
	for _, r := range w.regions {
		if r == w.lost {
			continue
		}
		v := r.view()
		if v == nil || (r.cl != nil && !r.cl.fullyInSync()) {
			return false
		}
		if ref == nil {
			ref = v
		}
		if !v.count.Equal(ref.count) {
			return false
		}
	}
	want := len(w.oracle)
	for d := range w.oracle {
		if w.lostWithLost(d.Origin) && d.Seq > ref.count[d.Origin] {
			want--
		}
	}
	return ref.total == want
}

// lostWithLost reports whether origin's last ops may have been held by
// the lost region alone: its own, or a wiped region's (which lost them).
// Survivors must agree on how many of them they have, not have them all.
func (w *world) lostWithLost(origin string) bool {
	return w.lost != nil && (origin == w.lost.name || w.wiped[origin])
}

// stable reports whether every survivor knows that everything it delivered
// is delivered everywhere (nobody evicted pins it).
func (w *world) stable() bool {
	for _, r := range w.regions {
		if r != w.lost && !r.view().stable().Equal(r.view().count) {
			return false
		}
	}
	return true
}

// finalChecks: every region delivered the same set, the oracle's.
func (w *world) finalChecks() error {
	created := make(replicator.Vector)
	for d := range w.oracle {
		created[d.Origin] = max(created[d.Origin], d.Seq)
	}
	var ref *shell
	for _, r := range w.regions {
		if r != w.lost {
			ref = r.view()
		}
	}
	for o := range created {
		if w.lostWithLost(o) {
			created[o] = min(created[o], ref.count[o])
		}
	}
	for _, r := range w.regions {
		if r == w.lost {
			continue
		}
		v := r.view()
		if !v.engine.Delivered().Equal(created) || !created.Equal(v.count) {
			return fmt.Errorf("%s delivered %v (oracle count %v), created %v: %w",
				r.name, v.engine.Delivered(), v.count, created, errCheck)
		}
		for o, s := range created {
			if uint64(len(v.journals[o])) != s {
				return fmt.Errorf("%s journal of %s has %d ops, want %d: %w", r.name, o, len(v.journals[o]), s, errCheck)
			}
		}
		if r.cl != nil {
			if err := r.cl.finalCheck(); err != nil {
				return err
			}
		}
		m := v.engine.Metrics()
		w.res.Retransmits += m.Retransmits
		w.res.Relayed += m.RelayedRanges
		w.res.Deliveries += v.total
	}
	if err := w.checkAcked(ref); err != nil {
		return err
	}
	w.res.Ops = len(w.oracle)
	if w.lost != nil {
		w.res.Evictions++
	}
	return nil
}

// checkAcked: every op acknowledged to its publisher is delivered, with its
// body, in every surviving region, unless its region lost every disk
// before another region held it, or it was the lost region's own (or a
// wiped region's) and only the lost region had it.
func (w *world) checkAcked(ref *shell) error {
	dots := make([]replicator.Dot, 0, len(w.acked))
	for d := range w.acked {
		dots = append(dots, d)
	}
	slices.SortFunc(dots, func(a, b replicator.Dot) int {
		if a.Origin != b.Origin {
			return strings.Compare(a.Origin, b.Origin)
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	for _, d := range dots {
		body := w.acked[d]
		if info := w.oracle[d]; info == nil || info.body != body {
			if w.wipedAway[d] {
				continue
			}
			return fmt.Errorf("acknowledged op %s lost: %w", d, errCheck)
		}
		if w.lostWithLost(d.Origin) && d.Seq > ref.count[d.Origin] {
			continue
		}
		for _, r := range w.regions {
			if r == w.lost {
				continue
			}
			j := r.view().journals[d.Origin]
			if uint64(len(j)) < d.Seq || string(j[d.Seq-1].Body) != body {
				return fmt.Errorf("acknowledged op %s is not delivered in %s: %w", d, r.name, errCheck)
			}
		}
	}
	return nil
}
