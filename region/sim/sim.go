package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/causeway/causeway/region"
)

// Config is one simulated run.
type Config struct {
	Seed  uint64
	Nodes int // at the start, 3-5
	Units int
	// Groups co-location groups of GroupUnits units each are created at
	// the start, and one more unit per group while faults run (groups.go).
	Groups, GroupUnits int
	// Producers publish, one record in flight each, until the faults stop.
	Producers int
	// FaultTime is how long faults are injected; then the network heals,
	// every node comes back and the run must settle.
	FaultTime time.Duration
	// AddNodes: nodes added (and, as many, drained and removed) while
	// faults run.
	AddNodes int
	// Trace, if set, receives a line per event (replaying a failing seed).
	Trace func(string)
}

// Result is what a run saw.
type Result struct {
	Acked, Crashes, Wipes, Pauses, Partitions, Elections, Drained int
	// GroupSplits counts commits that left a co-location group with
	// units under different leaders (or one without); LateInFaults the
	// groups' late units created while faults ran.
	GroupSplits, LateInFaults int
	// SplitTime sums, over groups, the time their leadership was split
	// (sampled every controller tick).
	SplitTime, Settled time.Duration
}

const (
	tick           = time.Millisecond
	nodeTick       = 5 * time.Millisecond
	ctrlTick       = 50 * time.Millisecond
	sessionTimeout = 400 * time.Millisecond
	publishTimeout = 300 * time.Millisecond
	fetchTimeout   = 100 * time.Millisecond
	proposeBackoff = 50 * time.Millisecond
	settleLimit    = 60 * time.Second
)

type world struct {
	cfg  Config
	rng  *rand.Rand
	now  time.Duration
	meta []region.Command // committed metadata log
	// metaAt is when each entry was committed; a node applies an entry
	// applyLag after it (a Raft follower that is behind).
	metaAt []time.Duration
	truth  *region.State
	nodes  []*node // index i is node id i+1; removed nodes stay as tombstones
	// voters of the metadata Raft group (node ids); they never change here.
	voters []region.NodeID
	ctrl   *region.Controller
	ctrlBy region.NodeID
	group  map[region.NodeID]int // partition side of each node
	queue  msgQueue
	seq    int
	prods  []*producer
	// acked[unit][offset] is the record acknowledged there.
	acked map[region.UnitID]map[uint64][2]uint32
	res   Result
	// crashes are nodes to crash at the end of this step (buggify).
	crashes []*node
	// groups are the co-location groups and their units.
	groups []*simGroup
	// recovering is the node whose disk was wiped last, until it is back
	// in sync everywhere: a second disk is lost only after that (the
	// promise is about one node at a time).
	recovering region.NodeID
}

type node struct {
	id      region.NodeID
	inc     uint64
	up      bool
	removed bool
	paused  time.Duration // processes nothing before this
	applied int           // metadata entries applied
	// applyLag is how far behind the committed log this node applies.
	applyLag time.Duration
	// slow is extra latency on the node's log shipping (a slow disk or a
	// congested link): it falls out of sync while its heartbeats are fine.
	slow    time.Duration
	state   *region.State
	logs    map[region.UnitID]*memLog
	lead    map[region.UnitID]*region.Leader
	follow  map[region.UnitID]*region.Follower
	fetchAt map[region.UnitID]time.Duration // a fetch is in flight since
	// proposedAt: the leader's last in-sync proposal per unit.
	proposedAt map[region.UnitID]time.Duration
	waiters    map[region.UnitID][]waiter
	hw         map[region.UnitID]uint64
}

type waiter struct {
	offset uint64
	prod   int
	seq    uint32
}

type producer struct {
	id     int
	unit   region.UnitID
	seq    uint32 // the record in flight (or next)
	sentAt time.Duration
	busy   bool
	done   bool
}

// message kinds
type msg struct {
	at       time.Duration
	order    int
	from, to region.NodeID // 0: a producer (prod)
	prod     int
	fetch    *region.FetchRequest
	resp     *region.FetchResponse
	publish  *publishReq
	result   *publishResult
	hb       *region.Member
}

type publishReq struct {
	unit region.UnitID
	seq  uint32
}

type publishResult struct {
	seq    uint32
	ok     bool
	offset uint64
	unit   region.UnitID
}

type msgQueue []*msg

func (q msgQueue) Len() int { return len(q) }
func (q msgQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].order < q[j].order
}
func (q msgQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *msgQueue) Push(x any)   { *q = append(*q, x.(*msg)) }
func (q *msgQueue) Pop() any {
	old := *q
	m := old[len(old)-1]
	*q = old[:len(old)-1]
	return m
}

// Run runs one simulation and returns an error describing the first
// violated property.
func Run(cfg Config) (Result, error) {
	w := &world{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), truth: region.NewState(),
		group: map[region.NodeID]int{}, acked: map[region.UnitID]map[uint64][2]uint32{}}
	for range cfg.Nodes {
		w.addNode()
	}
	for i := range min(cfg.Nodes, 5) {
		w.voters = append(w.voters, region.NodeID(i+1))
	}
	for _, n := range w.nodes {
		w.register(n)
	}
	factor := region.DefaultFactor(cfg.Nodes)
	for u := range cfg.Units {
		id := region.UnitID(fmt.Sprintf("stream:t/f/s%d", u))
		w.propose(0, region.Command{Kind: region.KindCreateUnit, Unit: id, Factor: factor, Replicas: region.Place(w.truth, factor)})
		w.acked[id] = map[uint64][2]uint32{}
	}
	targets := make([]region.UnitID, 0, cfg.Units)
	for u := range cfg.Units {
		targets = append(targets, region.UnitID(fmt.Sprintf("stream:t/f/s%d", u)))
	}
	targets = append(targets, w.createGroups(factor)...)
	for p := range cfg.Producers {
		w.prods = append(w.prods, &producer{id: p + 1, unit: targets[p%len(targets)]})
	}
	added, drained := 0, 0
	for w.now = 0; ; w.now += tick {
		if err := w.step(); err != nil {
			return w.res, fmt.Errorf("seed %d at %v: %w", cfg.Seed, w.now, err)
		}
		w.createLate()
		if w.now < cfg.FaultTime {
			w.fault()
			if added < cfg.AddNodes && w.rng.IntN(4000) == 0 {
				added++
				n := w.addNode()
				w.register(n)
			}
			if drained < added && w.rng.IntN(4000) == 0 {
				if w.drainOne() {
					drained++
				}
			}
			continue
		}
		if w.now == cfg.FaultTime {
			w.healAll()
		}
		if w.settled() {
			w.res.Settled = w.now - cfg.FaultTime
			return w.res, w.check()
		}
		if w.now-cfg.FaultTime > settleLimit {
			return w.res, fmt.Errorf("seed %d: not settled %v after the faults stopped: %s", cfg.Seed, settleLimit, w.describe())
		}
	}
}

func (w *world) trace(format string, args ...any) {
	if w.cfg.Trace != nil {
		w.cfg.Trace(fmt.Sprintf("%8v ", w.now) + fmt.Sprintf(format, args...))
	}
}

func (w *world) addNode() *node {
	n := &node{id: region.NodeID(len(w.nodes) + 1), inc: w.rng.Uint64() | 1, up: true, state: region.NewState()}
	n.reset()
	w.nodes = append(w.nodes, n)
	w.group[n.id] = 0
	return n
}

func (n *node) reset() {
	n.logs = map[region.UnitID]*memLog{}
	n.hw = map[region.UnitID]uint64{}
	n.volatile()
}

// volatile forgets what a process keeps in memory.
func (n *node) volatile() {
	n.lead = map[region.UnitID]*region.Leader{}
	n.follow = map[region.UnitID]*region.Follower{}
	n.fetchAt = map[region.UnitID]time.Duration{}
	n.proposedAt = map[region.UnitID]time.Duration{}
	n.waiters = map[region.UnitID][]waiter{}
}

func (w *world) node(id region.NodeID) *node {
	if id == 0 || int(id) > len(w.nodes) {
		return nil
	}
	return w.nodes[id-1]
}

func (w *world) register(n *node) {
	w.propose(n.id, region.Command{Kind: region.KindRegisterNode, Member: region.Member{Node: n.id, Incarnation: n.inc},
		Addrs: region.Addrs{Raft: "r", Data: "d", HTTP: "h"}})
}

// quorate reports whether node id (0: the operator, on the majority side)
// reaches a majority of up voters.
func (w *world) quorate(id region.NodeID) bool {
	side := 0
	if id != 0 {
		n := w.node(id)
		if n == nil || !n.up || n.paused > w.now {
			return false
		}
		side = w.group[id]
	} else if !w.majoritySide(&side) {
		return false
	}
	reach := 0
	for _, v := range w.voters {
		if vn := w.node(v); vn.up && w.group[v] == side {
			reach++
		}
	}
	return reach > len(w.voters)/2
}

func (w *world) majoritySide(side *int) bool {
	for s := range 3 {
		*side = s
		reach := 0
		for _, v := range w.voters {
			if vn := w.node(v); vn.up && w.group[v] == s {
				reach++
			}
		}
		if reach > len(w.voters)/2 {
			return true
		}
	}
	return false
}

// propose appends c to the metadata log if from can reach a quorum, and
// reports whether it was committed and applied without error (a proposer
// learns its command's result, as from dragonboat's SyncPropose).
func (w *world) propose(from region.NodeID, c region.Command) bool {
	_, ok := w.proposeAt(from, c)
	return ok
}

// proposeAt is propose, also returning the index the command got (0 if it
// was not committed).
func (w *world) proposeAt(from region.NodeID, c region.Command) (uint64, bool) {
	if !w.quorate(from) {
		return 0, false
	}
	b, err := c.Encode()
	if err != nil {
		panic(fmt.Sprintf("sim proposes an invalid command %+v: %v", c, err))
	}
	if _, err := region.DecodeCommand(b); err != nil {
		panic(err)
	}
	w.meta = append(w.meta, c)
	w.metaAt = append(w.metaAt, w.now)
	before := w.truth.Clone()
	index := uint64(len(w.meta))
	defer w.countSplits(before)
	if err := w.truth.Apply(index, c); err != nil {
		w.trace("meta %d by %d: %s %+v refused: %v", index, from, c.Kind, c, err)
		return index, false
	}
	w.trace("meta %d by %d: %s %+v", index, from, c.Kind, c)
	for _, id := range sortedUnits(w.truth) {
		u := w.truth.Units[id]
		w.trace("   %s leader %d epoch %d replicas %v inSync %v eligible %v", id, u.Leader, u.Epoch, u.Replicas, u.InSync, u.Eligible)
	}
	for id, u := range w.truth.Units {
		if b := before.Units[id]; b != nil && b.Leader != u.Leader {
			w.res.Elections++
		}
	}
	return index, true
}

func (w *world) send(m *msg, delay time.Duration) {
	w.seq++
	m.order = w.seq
	m.at = w.now + delay
	heap.Push(&w.queue, m)
}

func (w *world) latency() time.Duration {
	return time.Duration(1+w.rng.IntN(4)) * time.Millisecond
}

// connected reports whether a message can travel between two nodes (0 is
// a producer, which reaches every node that is up).
func (w *world) connected(a, b region.NodeID) bool {
	if a == 0 || b == 0 {
		return true
	}
	return w.group[a] == w.group[b]
}

func (w *world) step() error {
	for w.queue.Len() > 0 && w.queue[0].at <= w.now {
		m := heap.Pop(&w.queue).(*msg)
		if to := w.node(m.to); to != nil {
			if !to.up || to.removed || !w.connected(m.from, m.to) {
				continue
			}
			if to.paused > w.now {
				m.at = to.paused // a paused process reads its socket later
				heap.Push(&w.queue, m)
				continue
			}
		}
		if err := w.deliver(m); err != nil {
			return err
		}
	}
	if w.now%nodeTick == 0 {
		for _, n := range w.nodes {
			if n.up && !n.removed && n.paused <= w.now {
				if err := w.nodeTick(n); err != nil {
					return err
				}
			}
		}
		w.producersTick()
	}
	if w.now%ctrlTick == 0 {
		w.controllerTick()
		w.sampleSplits()
	}
	for _, n := range w.crashes {
		if n.up {
			n.up = false
			n.volatile()
			w.res.Crashes++
		}
	}
	w.crashes = w.crashes[:0]
	return nil
}

func (w *world) deliver(m *msg) error {
	switch {
	case m.hb != nil:
		if w.ctrl != nil && m.to == w.ctrlBy {
			w.ctrl.Heartbeat(*m.hb, w.now)
		}
	case m.fetch != nil:
		n := w.node(m.to)
		l := n.lead[m.fetch.Unit]
		if l == nil {
			return nil // not leading: the follower times out and looks again
		}
		resp := l.Fetch(*m.fetch, n.logs[m.fetch.Unit], w.now)
		w.send(&msg{from: n.id, to: m.from, resp: &resp}, w.latency()+w.node(m.from).slow)
		return w.ackWaiters(n, m.fetch.Unit)
	case m.resp != nil:
		n := w.node(m.to)
		f := n.follow[m.resp.Unit]
		delete(n.fetchAt, m.resp.Unit)
		if f == nil {
			return nil
		}
		log := n.logs[m.resp.Unit]
		st := f.Handle(*m.resp, log.End(), log.Epochs())
		if st.Truncate {
			w.trace("node %d truncates %s from %d to %d", n.id, m.resp.Unit, log.End(), st.TruncateTo)
			log.truncate(st.TruncateTo)
		}
		for _, e := range st.Entries {
			log.append(e)
		}
		if len(st.Entries) > 0 {
			w.trace("node %d fetched %s %d..%d from %d (epoch %d, hw %d)", n.id, m.resp.Unit, st.Entries[0].Offset, log.End(), m.from, f.Epoch, f.HighWatermark)
		}
		n.hw[m.resp.Unit] = max(n.hw[m.resp.Unit], min(f.HighWatermark, log.End()))
	case m.publish != nil:
		return w.handlePublish(w.node(m.to), m.prod, m.publish)
	case m.result != nil:
		p := w.prods[m.prod-1]
		if !p.busy || m.result.seq != p.seq {
			return nil // a stale answer to an earlier try
		}
		p.busy = false
		if m.result.ok {
			p.seq++
			w.res.Acked++
		}
	}
	return nil
}

func (w *world) handlePublish(n *node, prod int, req *publishReq) error {
	l := n.lead[req.unit]
	if l == nil {
		w.send(&msg{from: n.id, prod: prod, result: &publishResult{seq: req.seq}}, w.latency())
		return nil
	}
	log := n.logs[req.unit]
	off, ok := log.find(uint32(prod), req.seq)
	if !ok {
		off = log.End()
		w.trace("node %d appends %s offset %d = %v epoch %d", n.id, req.unit, off, [2]uint32{uint32(prod), req.seq}, l.Epoch())
		log.append(region.Entry{Offset: off, Epoch: l.Epoch(), Data: encodeRecord(uint32(prod), req.seq)})
		l.Appended(log.End())
	}
	n.waiters[req.unit] = append(n.waiters[req.unit], waiter{offset: off, prod: prod, seq: req.seq})
	return w.ackWaiters(n, req.unit)
}

// ackWaiters acknowledges the publishes below the leader's high watermark,
// checking that no other record was ever acknowledged at their offsets.
func (w *world) ackWaiters(n *node, unit region.UnitID) error {
	l := n.lead[unit]
	if l == nil {
		return nil
	}
	hw := l.HighWatermark()
	n.hw[unit] = max(n.hw[unit], hw)
	keep := n.waiters[unit][:0]
	for _, wt := range n.waiters[unit] {
		if wt.offset >= hw {
			keep = append(keep, wt)
			continue
		}
		rec := [2]uint32{uint32(wt.prod), wt.seq}
		if prev, ok := w.acked[unit][wt.offset]; ok && prev != rec {
			return fmt.Errorf("split brain: %s offset %d acknowledged as %v and as %v (by node %d, epoch %d)", unit, wt.offset, prev, rec, n.id, l.Epoch())
		}
		w.acked[unit][wt.offset] = rec
		w.trace("node %d acks %s offset %d = %v (hw %d, epoch %d)", n.id, unit, wt.offset, rec, hw, l.Epoch())
		w.send(&msg{from: n.id, prod: wt.prod, result: &publishResult{seq: wt.seq, ok: true, offset: wt.offset, unit: unit}}, w.latency())
	}
	n.waiters[unit] = keep
	w.buggify(n, 1500)
	return nil
}

// buggify crashes n now with probability 1/oneIn while faults run: at the
// moments where a crash tests the most (just after an acknowledgement, or
// a proposal), not only at random ones.
func (w *world) buggify(n *node, oneIn int) {
	if w.now < w.cfg.FaultTime && w.rng.IntN(oneIn) == 0 {
		w.crashes = append(w.crashes, n)
	}
}

func (w *world) nodeTick(n *node) error {
	// Learn the metadata log (only on the majority side, like a Raft
	// follower that hears its leader).
	if w.quorate(n.id) {
		for n.applied < len(w.meta) && w.metaAt[n.applied]+n.applyLag <= w.now {
			n.applied++
			_ = n.state.Apply(uint64(n.applied), w.meta[n.applied-1])
		}
	}
	self := region.Member{Node: n.id, Incarnation: n.inc}
	me := n.state.Nodes[n.id]
	registered := me != nil && me.Incarnation == n.inc
	if w.now%(ctrlTick) == 0 && w.ctrlBy != 0 {
		w.send(&msg{from: n.id, to: w.ctrlBy, hb: &self}, w.latency())
	}
	if !registered {
		if w.now%(100*time.Millisecond) == 0 {
			w.register(n)
		}
		return nil
	}
	for _, id := range sortedUnits(n.state) {
		u := n.state.Units[id]
		isReplica := slices.Contains(u.Replicas, n.id)
		if isReplica && n.logs[id] == nil {
			n.logs[id] = &memLog{}
		}
		if l := n.lead[id]; l != nil && !l.Metadata(u, n.state.Applied, w.now) {
			w.dropLeader(n, id)
		}
		if f := n.follow[id]; f != nil && (f.Epoch != u.Epoch || f.Leader != u.Leader || !isReplica) {
			delete(n.follow, id)
			delete(n.fetchAt, id)
		}
		switch {
		case u.Leader == n.id && n.lead[id] == nil && n.applied == len(w.meta):
			// Leading starts from a linearizable read of the metadata:
			// everything committed is applied here first.
			w.trace("node %d leads %s at epoch %d (log end %d, hw %d, applied %d)", n.id, id, u.Epoch, n.logs[id].End(), n.hw[id], n.applied)
			// As ship's replica does (and Kafka's leader epoch cache): the
			// epoch enters the history when its leader starts, before it
			// writes a record; a leader deposed before writing leaves an
			// empty epoch behind.
			log := n.logs[id]
			log.epochs = log.epochs.Assign(u.Epoch, log.End())
			n.lead[id] = region.NewLeader(region.LeaderConfig{MaxFetchEntries: 64, MaxLag: 200 * time.Millisecond}, self, u, n.hw[id], w.now)
		case isReplica && u.Leader != n.id && u.Leader != 0 && n.follow[id] == nil:
			n.follow[id] = &region.Follower{Unit: id, Self: self, Leader: u.Leader, Epoch: u.Epoch}
		}
	}
	for _, id := range sortedKeys(n.lead) {
		l := n.lead[id]
		if n.state.Units[id] == nil {
			w.dropLeader(n, id)
			continue
		}
		if set, ok := l.InSyncChange(n.logs[id].End(), n.state.Nodes, w.now); ok && w.now-n.proposedAt[id] >= proposeBackoff {
			// Pending from the proposal on (the high watermark waits for a
			// joining replica before the change is known committed); a
			// refusal clears it.
			l.Proposed(set, 0)
			n.proposedAt[id] = w.now
			index, _ := w.proposeAt(n.id, region.Command{Kind: region.KindAlterInSync, Unit: id, Epoch: l.Epoch(), Member: self, InSync: set, Version: l.InSyncVersion()})
			if index == 0 {
				l.Proposed(nil, 0)
			} else {
				l.Proposed(set, index)
			}
			w.buggify(n, 5)
		}
		if err := w.ackWaiters(n, id); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(n.follow) {
		f := n.follow[id]
		if at, ok := n.fetchAt[id]; ok && w.now-at < fetchTimeout {
			continue
		}
		log := n.logs[id]
		req := f.Request(log.End(), log.Epochs())
		n.fetchAt[id] = w.now
		w.send(&msg{from: n.id, to: f.Leader, fetch: &req}, w.latency())
	}
	return nil
}

// dropLeader ends a leadership: publishes waiting on it get an error (their
// outcome is unknown to the producer, which retries under the same id).
func (w *world) dropLeader(n *node, id region.UnitID) {
	delete(n.lead, id)
	for _, wt := range n.waiters[id] {
		w.send(&msg{from: n.id, prod: wt.prod, result: &publishResult{seq: wt.seq}}, w.latency())
	}
	delete(n.waiters, id)
}

func (w *world) producersTick() {
	for _, p := range w.prods {
		if !p.busy && w.now >= w.cfg.FaultTime {
			p.done = true
		}
		if p.done || (p.busy && w.now-p.sentAt < publishTimeout) {
			continue
		}
		// Metadata from any live node, as a client's metadata request.
		var view *node
		for range 4 {
			c := w.nodes[w.rng.IntN(len(w.nodes))]
			if c.up && !c.removed {
				view = c
				break
			}
		}
		if view == nil {
			continue
		}
		target := view.id
		if u := view.state.Units[p.unit]; u != nil && u.Leader != 0 {
			target = u.Leader
		}
		p.busy, p.sentAt = true, w.now
		w.send(&msg{to: target, prod: p.id, publish: &publishReq{unit: p.unit, seq: p.seq}}, w.latency())
	}
}

func (w *world) controllerTick() {
	// The controller runs on the lowest up voter of the majority side.
	var by region.NodeID
	var side int
	if w.majoritySide(&side) {
		for _, v := range w.voters {
			if n := w.node(v); n.up && w.group[v] == side && n.paused <= w.now {
				by = v
				break
			}
		}
	}
	if by != w.ctrlBy {
		w.ctrlBy = by
		w.ctrl = nil
		if by != 0 {
			w.ctrl = region.NewController(region.ControllerConfig{SessionTimeout: sessionTimeout, ReplaceAfter: 2 * time.Second}, w.now)
		}
	}
	if w.ctrl == nil {
		return
	}
	n := w.node(by)
	for n.applied < len(w.meta) { // the Raft leader has every committed entry
		n.applied++
		_ = n.state.Apply(uint64(n.applied), w.meta[n.applied-1])
	}
	for _, c := range w.ctrl.Decide(n.state, w.now) {
		w.propose(by, c)
	}
	// Remove drained nodes that hold nothing any more.
	for _, id := range n.state.NodeIDs() {
		x := n.state.Nodes[id]
		if x.Status == region.NodeDraining && !holdsReplica(n.state, id) {
			if w.propose(by, region.Command{Kind: region.KindRemoveNode, Member: region.Member{Node: id}}) {
				w.node(id).removed = true
				w.res.Drained++
			}
		}
	}
}

func holdsReplica(s *region.State, id region.NodeID) bool {
	for _, u := range s.Units {
		if slices.Contains(u.Replicas, id) {
			return true
		}
	}
	return false
}

// fault injects at most one fault per step, rarely.
func (w *world) fault() {
	if w.rng.IntN(400) != 0 {
		return
	}
	live := []*node{}
	for _, n := range w.nodes {
		if !n.removed {
			live = append(live, n)
		}
	}
	n := live[w.rng.IntN(len(live))]
	switch w.rng.IntN(8) {
	case 0: // crash, or restart
		if n.up {
			n.up = false
			n.volatile()
			w.res.Crashes++
		} else {
			w.restart(n)
		}
	case 1: // wipe: one disk lost at a time
		if n.up && (w.recovering == 0 || w.inSyncEverywhere(w.recovering)) {
			n.up = false
			n.inc = w.rng.Uint64() | 1
			n.state, n.applied = region.NewState(), 0
			n.reset()
			w.recovering = n.id
			w.res.Wipes++
		}
	case 6: // a node's metadata falls behind, or catches up
		n.applyLag = time.Duration(w.rng.IntN(4)) * 50 * time.Millisecond
	case 7: // a node's log shipping slows down, or recovers
		n.slow = time.Duration(w.rng.IntN(3)) * 300 * time.Millisecond
	case 2: // pause: a long GC or a stopped VM; it wakes up maybe deposed
		if n.up {
			n.paused = w.now + time.Duration(100+w.rng.IntN(900))*time.Millisecond
			w.res.Pauses++
		}
	case 3: // partition: split in two, or isolate one node
		for _, x := range w.nodes {
			w.group[x.id] = 0
			if w.rng.IntN(2) == 0 {
				w.group[x.id] = 1
			}
		}
		w.res.Partitions++
	case 4: // heal
		for _, x := range w.nodes {
			w.group[x.id] = 0
		}
	default: // restart every crashed node
		for _, x := range live {
			if !x.up {
				w.restart(x)
			}
		}
	}
}

// inSyncEverywhere: the node, in its current incarnation, is in the
// in-sync set of every unit it replicates.
func (w *world) inSyncEverywhere(id region.NodeID) bool {
	n := w.node(id)
	for _, u := range w.truth.Units {
		if slices.Contains(u.Replicas, id) && !slices.Contains(u.InSync, region.Member{Node: id, Incarnation: n.inc}) {
			return false
		}
	}
	return true
}

func (w *world) restart(n *node) {
	n.up = true
	n.paused = 0
	n.volatile()
}

func (w *world) drainOne() bool {
	for _, n := range w.nodes {
		if n.removed || !n.up || slices.Contains(w.voters, n.id) {
			continue
		}
		if x := w.truth.Nodes[n.id]; x != nil && x.Status == region.NodeActive {
			return w.propose(0, region.Command{Kind: region.KindDrainNode, Member: region.Member{Node: n.id}})
		}
	}
	return false
}

func (w *world) healAll() {
	for _, n := range w.nodes {
		w.group[n.id] = 0
		n.applyLag, n.slow = 0, 0
		if !n.removed && !n.up {
			w.restart(n)
		}
	}
}

// fullyInSync: every unit has its factor of in-sync replicas, all of them
// up and holding the leader's whole log.
func (w *world) fullyInSync() bool {
	for id, u := range w.truth.Units {
		if u.Leader == 0 || len(u.InSync) < u.Factor {
			return false
		}
		lead := w.node(u.Leader)
		if !lead.up || lead.logs[id] == nil {
			return false
		}
		for _, m := range u.InSync {
			n := w.node(m.Node)
			if !n.up || n.inc != m.Incarnation || n.logs[id] == nil || n.logs[id].End() != lead.logs[id].End() {
				return false
			}
		}
	}
	return true
}

// settled: producers are done and every unit is fully in sync with its
// leader's high watermark at the end of its log.
func (w *world) settled() bool {
	for _, p := range w.prods {
		if !p.done {
			return false
		}
	}
	if !w.fullyInSync() || w.groupsApart() != "" {
		return false
	}
	for id, u := range w.truth.Units {
		l := w.node(u.Leader).lead[id]
		if l == nil || l.HighWatermark() != w.node(u.Leader).logs[id].End() {
			return false
		}
	}
	return true
}

func (w *world) describe() string {
	s := fmt.Sprintf("now %v meta %d;", w.now, len(w.meta))
	for _, p := range w.prods {
		s += fmt.Sprintf(" p%d seq %d done %v;", p.id, p.seq, p.done)
	}
	for _, id := range sortedUnits(w.truth) {
		u := w.truth.Units[id]
		s += fmt.Sprintf(" %s leader %d epoch %d replicas %v inSync %v;", id, u.Leader, u.Epoch, u.Replicas, u.InSync)
	}
	for _, n := range w.nodes {
		s += fmt.Sprintf(" node %d up %v removed %v applied %d;", n.id, n.up, n.removed, n.applied)
	}
	if apart := w.groupsApart(); apart != "" {
		s += " " + apart
	}
	return s
}

func sortedKeys[V any](m map[region.UnitID]V) []region.UnitID {
	ids := make([]region.UnitID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func sortedUnits(s *region.State) []region.UnitID {
	ids := make([]region.UnitID, 0, len(s.Units))
	for id := range s.Units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// check runs the end-of-run checkers on the settled region.
func (w *world) check() error {
	if apart := w.groupsApart(); apart != "" {
		return fmt.Errorf("seed %d: %s", w.cfg.Seed, apart)
	}
	for _, id := range sortedUnits(w.truth) {
		u := w.truth.Units[id]
		lead := w.node(u.Leader).logs[id]
		for off, rec := range w.acked[id] {
			if off >= lead.End() {
				return fmt.Errorf("seed %d: lost: %s offset %d acknowledged as %v, log ends at %d", w.cfg.Seed, id, off, rec, lead.End())
			}
			p, s := decodeRecord(lead.entries[off].Data)
			if [2]uint32{p, s} != rec {
				return fmt.Errorf("seed %d: %s offset %d acknowledged as %v holds %v", w.cfg.Seed, id, off, rec, [2]uint32{p, s})
			}
		}
		seen := map[[2]uint32]bool{}
		last := map[uint32]uint32{}
		for off, e := range lead.entries {
			p, s := decodeRecord(e.Data)
			if seen[[2]uint32{p, s}] {
				return fmt.Errorf("seed %d: duplicate: %s holds producer %d record %d twice (again at %d)", w.cfg.Seed, id, p, s, off)
			}
			seen[[2]uint32{p, s}] = true
			if l, ok := last[p]; ok && s <= l {
				return fmt.Errorf("seed %d: order: %s producer %d record %d after %d", w.cfg.Seed, id, p, s, l)
			}
			last[p] = s
		}
		for _, m := range u.InSync {
			other := w.node(m.Node).logs[id]
			if !slices.EqualFunc(other.entries, lead.entries, func(a, b region.Entry) bool {
				return a.Offset == b.Offset && a.Epoch == b.Epoch && string(a.Data) == string(b.Data)
			}) {
				return fmt.Errorf("seed %d: %s: in-sync replica %d differs from leader %d", w.cfg.Seed, id, m.Node, u.Leader)
			}
		}
	}
	// What a producer saw acknowledged was acknowledged by a leader (and
	// so is in the log); a record whose answer it never saw may be there
	// too (an ambiguous outcome), but not twice.
	for _, p := range w.prods {
		seen := map[uint32]bool{}
		for _, rec := range w.acked[p.unit] {
			if rec[0] == uint32(p.id) {
				seen[rec[1]] = true
			}
		}
		for seq := range p.seq {
			if !seen[seq] {
				return fmt.Errorf("seed %d: producer %d saw record %d acknowledged, no leader acknowledged it", w.cfg.Seed, p.id, seq)
			}
		}
	}
	return nil
}
