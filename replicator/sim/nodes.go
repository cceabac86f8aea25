package sim

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"time"

	core "github.com/causeway/causeway/region"
	"github.com/causeway/causeway/replicator"
)

// journalUnit is the region unit holding the fabric's replication journal.
const journalUnit = core.UnitID("journal:sim/fabric")

// Timing of a region's cluster (virtual time).
const (
	// lanLatencyMax bounds a message between two nodes of a region.
	lanLatencyMax = 4 * time.Millisecond
	// fetchTimeout: a follower whose fetch got no answer asks again.
	fetchTimeout = 100 * time.Millisecond
	// leaseTimeout: a leader that cannot reach the metadata majority for
	// this long stops serving (its engine stops; clients go elsewhere).
	leaseTimeout = 300 * time.Millisecond
	// sessionTimeout: the controller fences a node it has not heard for
	// this long (its units get new leaders).
	sessionTimeout = 400 * time.Millisecond
	ctrlInterval   = 50 * time.Millisecond
	proposeBackoff = 50 * time.Millisecond
	// maxHeldOutputs bounds a shell's Outputs waiting for the high
	// watermark; past it the oldest are dropped (lost messages: the
	// engine retransmits).
	maxHeldOutputs = 1024
	// maxLag: a follower not caught up with its leader for this long
	// leaves the in-sync set.
	maxLag = 200 * time.Millisecond
	// nodeDownMax bounds how long a crashed node stays down.
	nodeDownMax = 1000 * time.Millisecond
)

// node is one node of a region: its disk (its copy of the journal, the
// high watermark it learnt, its incarnation) and its process (metadata
// view, log shipping roles, the engine when it leads the journal).
type node struct {
	id  core.NodeID
	inc uint64
	up  bool
	// downUntil: a crashed node restarts after it.
	downUntil time.Time
	// side is the node's side of an in-region partition.
	side int
	log  *nodeLog
	hw   uint64

	state  *core.State
	lead   *core.Leader
	follow *core.Follower
	// fetchAt is when the follower's fetch in flight was sent.
	fetchAt    time.Time
	fetching   bool
	proposedAt time.Duration
	// quorateAt is the last time the node reached the metadata majority.
	quorateAt time.Time
	// sh is the engine's shell while the node leads the journal.
	sh *shell
	// checked is how much of the node's log was compared with what the
	// region committed.
	checked uint64
}

func (n *node) member() core.Member { return core.Member{Node: n.id, Incarnation: n.inc} }

// cluster is a region of many nodes: its metadata (a Raft group modelled
// as a log only a node on the side of a majority can append to or learn
// from, applied by the real region.State), the controller (region.
// Controller) and log shipping of the journal unit (region.Leader and
// region.Follower over an in-region network).
type cluster struct {
	r     *region
	nodes []*node
	truth *core.State
	// index is the metadata log's last index.
	index  uint64
	ctrl   *core.Controller
	ctrlBy core.NodeID
	ctrlAt time.Time
	lan    lanQueue
	lanID  uint64
	// committed is the region's journal below the high watermark, as the
	// leaders that moved it saw it: no two leaders may commit different
	// records at one offset.
	committed      []core.Entry
	committedRecs  []rec
	committedCount replicator.Vector
	committedAt    map[replicator.Dot]int
	// recovering is the node whose disk was wiped last, until it is back
	// in sync: a second disk is lost only after that (the promise is
	// about one node at a time).
	recovering core.NodeID
}

// pub is one publish of a client, until it is acknowledged.
type pub struct {
	seqID int64
	body  string
}

// freshOp is an op published on a shell, not journaled yet.
type freshOp struct {
	oid uint64
	p   *producer
	pb  *pub
}

// waiter is a publish waiting for the high watermark to pass its offset.
type waiter struct {
	off uint64
	p   *producer
	pb  *pub
}

// heldOutput is what an Output asks to send, held until the journal is
// committed up to need (its end when the Output was computed).
type heldOutput struct {
	need uint64
	msgs []wanMsg
}

type wanMsg struct {
	to    int
	msg   []byte
	batch *replicator.Batch
	ack   *replicator.Ack
}

type lanMsg struct {
	at       time.Time
	id       uint64
	from, to *node
	fetch    *core.FetchRequest
	resp     *core.FetchResponse
}

type lanQueue []*lanMsg

func (q lanQueue) Len() int { return len(q) }
func (q lanQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].id < q[j].id
}
func (q lanQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *lanQueue) Push(x any)   { *q = append(*q, x.(*lanMsg)) }
func (q *lanQueue) Pop() any {
	old := *q
	m := old[len(old)-1]
	*q = old[:len(old)-1]
	return m
}

func newCluster(r *region, nodes int) (*cluster, error) {
	c := &cluster{r: r}
	for i := range nodes {
		c.nodes = append(c.nodes, &node{id: core.NodeID(i + 1), up: true})
	}
	return c, c.reset()
}

// reset gives the region new disks: every node a new incarnation and an
// empty log, a new metadata group that registers them and creates the
// journal unit. Nodes keep whether they are up.
func (c *cluster) reset() error {
	w := c.r.w
	c.truth, c.index = core.NewState(), 0
	c.ctrl, c.ctrlBy = nil, 0
	c.lan = nil
	c.committed, c.committedRecs = nil, nil
	c.committedCount = make(replicator.Vector)
	c.committedAt = make(map[replicator.Dot]int)
	c.recovering = 0
	for _, n := range c.nodes {
		n.inc = w.rng.Uint64() | 1
		n.log, n.hw, n.checked = newNodeLog(), 0, 0
		n.lead, n.follow, n.fetching = nil, nil, false
		if _, ok := c.propose(nil, core.Command{Kind: core.KindRegisterNode, Member: n.member(),
			Addrs: core.Addrs{Raft: "r", Data: "d", HTTP: "h"}}); !ok {
			return fmt.Errorf("sim: %s: register node %d", c.r.name, n.id)
		}
	}
	factor := core.DefaultFactor(len(c.nodes))
	if _, ok := c.propose(nil, core.Command{Kind: core.KindCreateUnit, Unit: journalUnit, Factor: factor,
		Replicas: core.Place(c.truth, factor)}); !ok {
		return fmt.Errorf("sim: %s: create the journal unit", c.r.name)
	}
	for _, n := range c.nodes {
		n.state = c.truth.Clone()
	}
	return nil
}

func (c *cluster) node(id core.NodeID) *node {
	if id == 0 || int(id) > len(c.nodes) {
		return nil
	}
	return c.nodes[id-1]
}

// quorate reports whether n reaches a majority of the region's voters
// (every node votes).
func (c *cluster) quorate(n *node) bool {
	if !n.up {
		return false
	}
	reach := 0
	for _, o := range c.nodes {
		if o.up && o.side == n.side {
			reach++
		}
	}
	return reach > len(c.nodes)/2
}

// propose appends cmd to the metadata log when from (nil: the operator)
// reaches the majority, and reports its index and whether it applied.
func (c *cluster) propose(from *node, cmd core.Command) (uint64, bool) {
	if from != nil && !c.quorate(from) {
		return 0, false
	}
	c.index++
	if err := c.truth.Apply(c.index, cmd); err != nil {
		c.r.w.trace("%s meta %d: %s refused: %v", c.r.name, c.index, cmd.Kind, err)
		return c.index, false
	}
	if u := c.truth.Units[journalUnit]; u != nil {
		c.r.w.trace("%s meta %d: %s %v -> leader %d epoch %d in-sync %v", c.r.name, c.index, cmd.Kind, cmd.Member,
			u.Leader, u.Epoch, u.InSync)
	}
	return c.index, true
}

// leaderNode is the journal's leader as the metadata says (nil: none).
func (c *cluster) leaderNode() *node {
	if u := c.truth.Units[journalUnit]; u != nil {
		return c.node(u.Leader)
	}
	return nil
}

// primary is the shell of the journal's leader at the current epoch.
func (c *cluster) primary() *shell {
	u := c.truth.Units[journalUnit]
	if u == nil {
		return nil
	}
	n := c.node(u.Leader)
	if n == nil || !n.up || n.sh == nil || n.lead.Epoch() != u.Epoch {
		return nil
	}
	return n.sh
}

// running are the shells of the nodes that believe they lead.
func (c *cluster) running() []*shell {
	var out []*shell
	for _, n := range c.nodes {
		if n.up && n.sh != nil {
			out = append(out, n.sh)
		}
	}
	return out
}

// holds is, per origin, the most ops any node's disk holds.
func (c *cluster) holds() replicator.Vector {
	v := make(replicator.Vector)
	for _, n := range c.nodes {
		v.Merge(n.log.ends)
	}
	return v
}

// deposed reports whether the shell runs on a node that is no longer (or
// not at the current epoch) the journal's leader.
func (sh *shell) deposed() bool {
	return sh.n != nil && sh.r.cl.primary() != sh
}

// stable is what the shell may report causally stable: the engine's Stable
// counts this region's delivered vector, which with a replicated journal
// holds ops not committed yet (a failover may cut them), so it is clamped
// to what the journal committed.
func (sh *shell) stable() replicator.Vector {
	v := sh.engine.Stable()
	if sh.n == nil {
		return v
	}
	durable := sh.n.log.counts(sh.n.lead.HighWatermark())
	for o, s := range v {
		if d := durable[o]; d < s {
			v[o] = d
			if d == 0 {
				delete(v, o)
			}
		}
	}
	return v
}

// step runs the cluster for one simulator step: in-region messages,
// restarts, metadata, roles, the controller, and what leaders release.
func (c *cluster) step() error {
	w := c.r.w
	for len(c.lan) > 0 && !c.lan[0].at.After(w.now) {
		m := heap.Pop(&c.lan).(*lanMsg)
		if !m.to.up || !m.from.up || m.to.side != m.from.side {
			continue
		}
		if err := c.deliver(m); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		if !n.up && c.r.up && w.now.After(n.downUntil) {
			c.restartNode(n)
		}
	}
	for _, n := range c.nodes {
		if n.up {
			if err := c.nodeTick(n); err != nil {
				return err
			}
		}
	}
	c.controllerTick()
	for _, n := range c.nodes {
		if n.sh != nil {
			if err := c.release(n.sh); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *cluster) sendLAN(m *lanMsg) {
	w := c.r.w
	c.lanID++
	m.id = c.lanID
	m.at = w.now.Add(time.Millisecond + time.Duration(w.rng.Int64N(int64(lanLatencyMax))))
	heap.Push(&c.lan, m)
}

func (c *cluster) deliver(m *lanMsg) error {
	w := c.r.w
	now := w.now.Sub(epoch)
	switch {
	case m.fetch != nil:
		l := m.to.lead
		if l == nil {
			return nil // not leading: the follower times out and looks again
		}
		resp := l.Fetch(*m.fetch, m.to.log, now)
		c.sendLAN(&lanMsg{from: m.to, to: m.from, resp: &resp})
		if m.to.sh != nil {
			return c.release(m.to.sh)
		}
	case m.resp != nil:
		n := m.to
		f := n.follow
		n.fetching = false
		if f == nil || n.lead != nil {
			return nil
		}
		st := f.Handle(*m.resp, n.log.End(), n.log.Epochs())
		if st.Truncate {
			cut := n.log.truncate(st.TruncateTo)
			n.checked = min(n.checked, st.TruncateTo)
			w.res.TruncatedOps += cut
			w.trace("%s/n%d truncates the journal to %d (%d ops cut)", c.r.name, n.id, st.TruncateTo, cut)
		}
		for _, e := range st.Entries {
			if err := n.log.fetched(e); err != nil {
				return fmt.Errorf("%s/n%d: %w", c.r.name, n.id, err)
			}
		}
		n.hw = max(n.hw, min(f.HighWatermark, n.log.End()))
		if st.Truncate || len(st.Entries) > 0 {
			c.fetch(n) // fetching again at once acknowledges what came
		}
	}
	return nil
}

// fetch sends the follower's next fetch.
func (c *cluster) fetch(n *node) {
	req := n.follow.Request(n.log.End(), n.log.Epochs())
	n.fetching, n.fetchAt = true, c.r.w.now
	c.sendLAN(&lanMsg{from: n, to: c.node(n.follow.Leader), fetch: &req})
}

// nodeTick learns the metadata (on the majority side), registers a new
// incarnation, takes up or drops the journal's leadership, proposes
// in-sync changes and fetches.
func (c *cluster) nodeTick(n *node) error {
	w := c.r.w
	now := w.now.Sub(epoch)
	if c.quorate(n) {
		n.quorateAt = w.now
		if n.state.Applied < c.truth.Applied {
			n.state = c.truth.Clone()
		}
		if me := c.truth.Nodes[n.id]; me == nil || me.Incarnation != n.inc {
			c.propose(n, core.Command{Kind: core.KindRegisterNode, Member: n.member(),
				Addrs: core.Addrs{Raft: "r", Data: "d", HTTP: "h"}})
			n.state = c.truth.Clone()
		}
	} else if n.lead != nil && w.now.Sub(n.quorateAt) > leaseTimeout {
		w.trace("%s/n%d cannot reach the region's majority: stops leading", c.r.name, n.id)
		c.stopLeading(n)
	}
	u := n.state.Units[journalUnit]
	me := n.state.Nodes[n.id]
	if u == nil || me == nil || me.Incarnation != n.inc {
		if n.lead != nil {
			c.stopLeading(n)
		}
		n.follow = nil
		return nil
	}
	isReplica := slices.Contains(u.Replicas, n.id)
	if n.lead != nil && !n.lead.Metadata(u, n.state.Applied, now) {
		w.trace("%s/n%d learns it no longer leads (epoch %d, leader %d)", c.r.name, n.id, u.Epoch, u.Leader)
		c.stopLeading(n)
	}
	if f := n.follow; f != nil && (f.Epoch != u.Epoch || f.Leader != u.Leader || !isReplica) {
		n.follow, n.fetching = nil, false
	}
	switch {
	case u.Leader == n.id && n.lead == nil && c.quorate(n):
		// Leading starts from a linearizable read of the metadata (the
		// node just learnt every committed entry).
		n.follow, n.fetching = nil, false
		n.lead = core.NewLeader(core.LeaderConfig{MaxFetchEntries: 64, MaxLag: maxLag},
			n.member(), u, n.hw, now)
		if err := c.startShell(n); err != nil {
			return err
		}
	case isReplica && u.Leader != n.id && u.Leader != 0 && n.follow == nil && n.lead == nil:
		n.follow = &core.Follower{Unit: journalUnit, Self: n.member(), Leader: u.Leader, Epoch: u.Epoch}
	}
	if l := n.lead; l != nil {
		if set, ok := l.InSyncChange(n.log.End(), n.state.Nodes, now); ok && now-n.proposedAt >= proposeBackoff {
			// Pending from the proposal on (the high watermark waits for a
			// joining replica before the change is known committed); a
			// refusal clears it.
			l.Proposed(set, 0)
			n.proposedAt = now
			index, ok := c.propose(n, core.Command{Kind: core.KindAlterInSync, Unit: journalUnit, Epoch: l.Epoch(),
				Member: n.member(), InSync: set, Version: l.InSyncVersion()})
			if ok && len(set) < len(u.InSync) {
				w.res.InSyncShrinks++
			}
			if index == 0 {
				l.Proposed(nil, 0)
			} else {
				l.Proposed(set, index)
			}
		}
	}
	if n.follow != nil && (!n.fetching || w.now.Sub(n.fetchAt) >= fetchTimeout) {
		c.fetch(n)
	}
	return nil
}

// controllerTick runs the controller on the lowest up node of the majority
// side: heartbeats of the nodes it reaches, then its decisions.
func (c *cluster) controllerTick() {
	w := c.r.w
	now := w.now.Sub(epoch)
	var by *node
	for _, n := range c.nodes {
		if c.quorate(n) {
			by = n
			break
		}
	}
	var id core.NodeID
	if by != nil {
		id = by.id
	}
	if id != c.ctrlBy {
		c.ctrlBy, c.ctrl = id, nil
		if by != nil {
			c.ctrl = core.NewController(core.ControllerConfig{SessionTimeout: sessionTimeout, ReplaceAfter: 2 * time.Second}, now)
		}
	}
	if c.ctrl == nil {
		return
	}
	for _, n := range c.nodes {
		if n.up && n.side == by.side {
			c.ctrl.Heartbeat(n.member(), now)
		}
	}
	if w.now.Sub(c.ctrlAt) < ctrlInterval {
		return
	}
	c.ctrlAt = w.now
	for _, cmd := range c.ctrl.Decide(c.truth.Clone(), now) {
		c.propose(by, cmd)
	}
}

// startShell starts the region's engine on n, which just took up the
// journal's leadership, from n's own copy of the journal.
func (c *cluster) startShell(n *node) error {
	r, w := c.r, c.r.w
	sh, err := newShell(r, n)
	if err != nil {
		return err
	}
	for _, rc := range n.log.recs {
		switch rc.kind {
		case recJoinStart:
			sh.joinMark = true
		case recJoinEnd:
			sh.joinMark = false
		case recOp:
			if err := sh.load(rc); err != nil {
				return fmt.Errorf("%s: %w", sh.name(), err)
			}
		}
	}
	marked := sh.joinMark
	if err := sh.start(); err != nil {
		return fmt.Errorf("%s: start engine: %w", sh.name(), err)
	}
	if sh.joinMark && !marked {
		// The durable join marker goes into the journal before any op
		// recovered from the peers.
		if err := n.log.add(rec{kind: recJoinStart}, n.lead.Epoch()); err != nil {
			return err
		}
		n.lead.Appended(n.log.End())
	}
	if w.lost != nil && w.lost != r {
		if err := sh.engine.EvictRegion(w.lost.name); err != nil {
			return err
		}
	}
	n.sh = sh
	w.res.LeaderStarts++
	w.trace("%s/n%d leads the journal at epoch %d: engine from its log (end %d, hw %d) delivered %v joining %v",
		r.name, n.id, n.lead.Epoch(), n.log.End(), n.lead.HighWatermark(), sh.engine.Delivered(), sh.engine.Joining())
	// The other regions' connections to the region come up again (to
	// this node).
	for _, o := range w.regions {
		if o == r {
			continue
		}
		for _, s := range o.shells() {
			if err := s.engine.PeerUp(w.now, r.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// load takes one journaled op of the node's log into a starting shell.
func (sh *shell) load(rc rec) error {
	if have := sh.count[rc.origin]; rc.seq != have+1 {
		return fmt.Errorf("log holds %s after %d of its ops: %w", rc.dot(), have, errCheck)
	}
	producer, seqID, err := parseBody(rc.body)
	if err != nil {
		return fmt.Errorf("log holds %s with body %q: %v: %w", rc.dot(), rc.body, err, errCheck)
	}
	if last, ok := sh.producerLast[producer]; ok && seqID <= last {
		return fmt.Errorf("log holds producer %s seq id %d after %d: %w", producer, seqID, last, errCheck)
	}
	sh.producerLast[producer] = seqID
	if rc.origin == sh.r.name {
		sh.dedup.Accept(producer, seqID)
	}
	sh.journals[rc.origin] = append(sh.journals[rc.origin], rc.entry())
	sh.count[rc.origin] = rc.seq
	sh.total++
	return nil
}

// stopLeading ends n's leadership and its engine: what it held is dropped
// (never sent), its publishers' outcomes are unknown (they send again
// wherever they reconnect).
func (c *cluster) stopLeading(n *node) {
	w := c.r.w
	n.lead = nil
	if n.sh == nil {
		return
	}
	n.sh.stopped = true
	n.sh = nil
	if len(c.running()) == 0 {
		for _, o := range w.regions {
			if o == c.r {
				continue
			}
			for _, s := range o.shells() {
				_ = s.engine.PeerDown(c.r.name)
			}
		}
	}
}

// crashNode takes a node down until until; it keeps its disk.
func (c *cluster) crashNode(n *node, until time.Time) {
	if !n.up {
		return
	}
	c.stopLeading(n)
	n.up, n.downUntil = false, until
	n.follow, n.fetching = nil, false
}

// wipeNode crashes a node and loses its disk: it comes back with a new
// incarnation and copies the journal again.
func (c *cluster) wipeNode(n *node, until time.Time) {
	c.crashNode(n, until)
	n.inc = c.r.w.rng.Uint64() | 1
	n.log, n.hw, n.checked = newNodeLog(), 0, 0
	n.state = core.NewState()
	c.recovering = n.id
}

func (c *cluster) restartNode(n *node) {
	n.up = true
	n.quorateAt = c.r.w.now
	c.r.w.trace("%s/n%d restarts (journal end %d)", c.r.name, n.id, n.log.End())
}

// fault injects at most one in-region fault: a node crash (half the time
// the journal's leader), a wiped disk (one at a time), a partition (half
// the time isolating the leader) or a heal.
func (c *cluster) fault() {
	w := c.r.w
	x := w.rng.Float64()
	pick := func() *node {
		if l := c.leaderNode(); l != nil && w.rng.IntN(2) == 0 {
			return l
		}
		return c.nodes[w.rng.IntN(len(c.nodes))]
	}
	switch {
	case x < 0.004:
		n := pick()
		if n.up {
			c.crashNode(n, w.now.Add(time.Duration(w.rng.Int64N(int64(nodeDownMax)))))
			w.res.NodeCrashes++
			w.trace("%s/n%d crashes until %s", c.r.name, n.id, n.downUntil.Sub(epoch))
		}
	case x < 0.0055:
		n := pick()
		if c.recovering == 0 || c.inSync(c.node(c.recovering)) {
			c.wipeNode(n, w.now.Add(time.Duration(w.rng.Int64N(int64(nodeDownMax)))))
			w.res.NodeWipes++
			w.trace("%s/n%d loses its disk, down until %s", c.r.name, n.id, n.downUntil.Sub(epoch))
		}
	case x < 0.008:
		l := c.leaderNode()
		if l != nil && w.rng.IntN(2) == 0 {
			for _, n := range c.nodes {
				n.side = 0
			}
			l.side = 1
		} else {
			for _, n := range c.nodes {
				n.side = w.rng.IntN(2)
			}
		}
		w.res.RegionPartitions++
		sides := make([]int, len(c.nodes))
		for i, n := range c.nodes {
			sides[i] = n.side
		}
		w.trace("%s: in-region partition, sides %v", c.r.name, sides)
	case x < 0.012:
		c.healLAN()
	}
}

func (c *cluster) healLAN() {
	for _, n := range c.nodes {
		n.side = 0
	}
	c.r.w.trace("%s: in-region heal", c.r.name)
}

// inSync reports whether n, in its current incarnation, is in the journal's
// in-sync set.
func (c *cluster) inSync(n *node) bool {
	u := c.truth.Units[journalUnit]
	return u != nil && slices.Contains(u.InSync, n.member())
}

// crashAll takes every node down (the region's power fails).
func (c *cluster) crashAll(until time.Time) {
	for _, n := range c.nodes {
		c.crashNode(n, until)
	}
}

// restartAll brings every node up.
func (c *cluster) restartAll() {
	for _, n := range c.nodes {
		if !n.up {
			c.restartNode(n)
		}
	}
}

// commit extends what the region committed with n's log below its leader's
// high watermark, checking that no other leader committed anything else
// there; the region's own ops committed become the oracle's.
func (c *cluster) commit(n *node) error {
	w := c.r.w
	hw := n.lead.HighWatermark()
	if hw > n.log.End() {
		return fmt.Errorf("%s/n%d: high watermark %d past its log end %d: %w", c.r.name, n.id, hw, n.log.End(), errCheck)
	}
	for off := n.checked; off < hw && off < uint64(len(c.committed)); off++ {
		a, b := c.committed[off], n.log.entries[off]
		if a.Epoch != b.Epoch || string(a.Data) != string(b.Data) {
			return fmt.Errorf("%s/n%d: split brain: journal offset %d committed as %v (epoch %d) and as %v (epoch %d): %w",
				c.r.name, n.id, off, c.committedRecs[off].dot(), a.Epoch, n.log.recs[off].dot(), b.Epoch, errCheck)
		}
	}
	for off := uint64(len(c.committed)); off < hw; off++ {
		rc := n.log.recs[off]
		c.committed = append(c.committed, n.log.entries[off])
		c.committedRecs = append(c.committedRecs, rc)
		if rc.kind != recOp {
			continue
		}
		if have := c.committedCount[rc.origin]; rc.seq != have+1 {
			return fmt.Errorf("%s: committed %s after %d of its ops: %w", c.r.name, rc.dot(), have, errCheck)
		}
		c.committedCount[rc.origin] = rc.seq
		c.committedAt[rc.dot()] = int(off)
		if rc.origin != c.r.name || rc.oid == 0 {
			// An op of another region (or of this one, recovered after it
			// lost every disk): the oracle knows it, or it was in limbo
			// and exists after all.
			info := w.oracle[rc.dot()]
			if info == nil {
				if info = w.limbo[rc.dot()]; info == nil {
					return fmt.Errorf("%s: committed %s, an op no region committed: %w", c.r.name, rc.dot(), errCheck)
				}
				w.oracle[rc.dot()] = info
				delete(w.limbo, rc.dot())
				w.trace("%s commits %s from limbo", c.r.name, rc.dot())
			}
			if info.body != string(rc.body) {
				return fmt.Errorf("%s: committed %s with another body than its origin's: %w", c.r.name, rc.dot(), errCheck)
			}
			continue
		}
		info := w.tentative[rc.oid]
		if info == nil {
			return fmt.Errorf("%s: committed %s of an unknown publish: %w", c.r.name, rc.dot(), errCheck)
		}
		delete(w.tentative, rc.oid)
		if prev := w.oracle[rc.dot()]; prev != nil && prev != info {
			return fmt.Errorf("%s: dot %s committed for two ops (%s/%d and %s/%d): %w", c.r.name, rc.dot(),
				prev.producer, prev.seqID, info.producer, info.seqID, errCheck)
		}
		if _, lost := w.limbo[rc.dot()]; lost {
			// The op of a previous life that no region delivered is
			// superseded; a region that still delivers it took one op for
			// another.
			delete(w.limbo, rc.dot())
			w.trace("%s commits %s over an op of its previous life in limbo", c.r.name, rc.dot())
		}
		w.oracle[rc.dot()] = info
	}
	n.checked = max(n.checked, hw)
	return nil
}

// release commits what the shell's leader's high watermark covers, then
// acknowledges the publishes below it and sends the Outputs it covers,
// checking that nothing leaves the region above what it committed.
func (c *cluster) release(sh *shell) error {
	w := c.r.w
	n := sh.n
	if err := c.commit(n); err != nil {
		return err
	}
	hw := n.lead.HighWatermark()
	n.hw = max(n.hw, hw)
	keep := sh.waiters[:0]
	for _, wt := range sh.waiters {
		if wt.off >= hw {
			keep = append(keep, wt)
			continue
		}
		rc := n.log.recs[wt.off]
		if rc.kind != recOp || rc.origin != c.r.name || string(rc.body) != wt.pb.body {
			return fmt.Errorf("%s: publish %s/%d acknowledged at journal offset %d, which holds %s: %w",
				sh.name(), wt.p.name, wt.pb.seqID, wt.off, rc.dot(), errCheck)
		}
		i := slices.Index(wt.p.pending, wt.pb)
		if i < 0 {
			continue // the client went elsewhere: it never hears this answer
		}
		wt.p.pending = slices.Delete(wt.p.pending, i, i+1)
		w.acked[rc.dot()] = wt.pb.body
		w.res.AckedPublishes++
		w.trace("%s acknowledges %s (%s/%d) at journal offset %d (hw %d)", sh.name(), rc.dot(), wt.p.name, wt.pb.seqID, wt.off, hw)
	}
	sh.waiters = keep
	for len(sh.held) > 0 && sh.held[0].need <= hw {
		for _, m := range sh.held[0].msgs {
			if err := c.leave(sh, m); err != nil {
				return err
			}
		}
		sh.held = sh.held[1:]
	}
	return nil
}

// leave checks a message leaving the region and sends it.
func (c *cluster) leave(sh *shell, m wanMsg) error {
	if err := c.checkLeaving(sh, m); err != nil && !c.r.w.opts.bugUnchecked {
		return err
	}
	c.r.w.send(c.r.idx, m.to, m.msg)
	return nil
}

// checkLeaving: every op a batch carries and every count an ack advertises
// is committed in the region.
func (c *cluster) checkLeaving(sh *shell, m wanMsg) error {
	if b := m.batch; b != nil {
		for _, op := range b.Ops {
			d := replicator.Dot{Origin: b.Origin, Seq: op.Seq}
			off, ok := c.committedAt[d]
			if !ok || string(c.committedRecs[off].body) != string(op.Body) {
				return fmt.Errorf("%s: sends %s to %s above the region's high watermark: %w", sh.name(), d, b.To, errCheck)
			}
		}
	}
	if a := m.ack; a != nil {
		for _, e := range a.Delivered {
			if have := c.committedCount[e.Region]; e.Seq > have {
				return fmt.Errorf("%s: acks %s:%d to %s, the region committed %d: %w", sh.name(), e.Region, e.Seq, a.To, have, errCheck)
			}
		}
	}
	return nil
}

// hold encodes what an Output sends and holds it until the journal is
// committed up to its current end (what the Output was computed from).
func (sh *shell) hold(out replicator.Output) error {
	r := sh.r
	var msgs []wanMsg
	for _, s := range out.Sends {
		to := slices.Index(r.w.names, s.Peer)
		batches, err := sh.builder.Build(sh, s)
		if err != nil {
			return fmt.Errorf("%s: %w", sh.name(), err)
		}
		for i := range batches {
			msg, err := r.w.codec.AppendBatch(nil, batches[i])
			if err != nil {
				return fmt.Errorf("%s: %w", sh.name(), err)
			}
			msgs = append(msgs, wanMsg{to: to, msg: msg, batch: &batches[i]})
		}
	}
	for i := range out.Acks {
		a := out.Acks[i]
		msg, err := r.w.codec.AppendAck(nil, a)
		if err != nil {
			return fmt.Errorf("%s: %w", sh.name(), err)
		}
		msgs = append(msgs, wanMsg{to: slices.Index(r.w.names, a.To), msg: msg, ack: &a})
	}
	if o := r.w.opts; o.bugSendAboveHW || o.bugAckAboveHW {
		kept := msgs[:0]
		for _, m := range msgs {
			if (m.batch != nil && o.bugSendAboveHW) || (m.ack != nil && o.bugAckAboveHW) {
				if err := r.cl.leave(sh, m); err != nil {
					return err
				}
				continue
			}
			kept = append(kept, m)
		}
		msgs = kept
	}
	if len(msgs) > 0 {
		sh.held = append(sh.held, heldOutput{need: sh.n.log.End(), msgs: msgs})
		if len(sh.held) > maxHeldOutputs {
			sh.held = sh.held[1:]
			r.w.res.HeldDropped++
		}
	}
	// Appending may have moved the high watermark too.
	return r.cl.release(sh)
}

// journal appends a delivery to the leader's log.
func (sh *shell) journal(d replicator.Delivery, je replicator.JournalEntry, fresh freshOp, local bool) error {
	n := sh.n
	rc := rec{kind: recOp, origin: d.Origin, seq: d.Seq, meta: je.Meta, body: je.Body}
	if local {
		rc.oid = fresh.oid
	}
	if err := n.log.add(rc, n.lead.Epoch()); err != nil {
		return err
	}
	n.lead.Appended(n.log.End())
	if local {
		sh.waiters = append(sh.waiters, waiter{off: n.log.End() - 1, p: fresh.p, pb: fresh.pb})
	}
	return nil
}

// publishOnLeader has producer p publish its next message on this leader.
// A client that was connected elsewhere first sends again, in order and
// under the same ids, what was not acknowledged there: the dedup table
// (rebuilt from this node's log) refuses those the journal already holds,
// and the client waits for the high watermark to pass them.
func (sh *shell) publishOnLeader(p *producer) error {
	r := sh.r
	if sh.engine.Joining() {
		return nil // the client tries again later
	}
	if p.at != sh {
		retry := p.pending
		p.pending, p.at = nil, sh
		for _, pb := range retry {
			if err := sh.submit(p, pb, true); err != nil {
				return err
			}
		}
	}
	seqID := p.next
	p.next++
	pb := &pub{seqID: seqID, body: fmt.Sprintf("%s|%d|%s", p.name, seqID, strings.Repeat("x", r.w.rng.IntN(300)))}
	if err := sh.submit(p, pb, false); err != nil {
		return err
	}
	if r.w.rng.Float64() < r.w.retryRate && sh.dedup.Accept(p.name, seqID) {
		return fmt.Errorf("%s: dedup accepted retry of %s/%d: %w", sh.name(), p.name, seqID, errCheck)
	}
	return nil
}

func (sh *shell) submit(p *producer, pb *pub, retry bool) error {
	r, w := sh.r, sh.r.w
	if !sh.dedup.Accept(p.name, pb.seqID) {
		if !retry {
			return fmt.Errorf("%s: dedup refused fresh %s/%d: %w", sh.name(), p.name, pb.seqID, errCheck)
		}
		off, ok := sh.n.log.find(r.name, []byte(pb.body))
		if !ok {
			return fmt.Errorf("%s: dedup refused the retry of %s/%d, which the journal lacks: %w", sh.name(), p.name, pb.seqID, errCheck)
		}
		w.res.DedupedRetries++
		p.pending = append(p.pending, pb)
		sh.waiters = append(sh.waiters, waiter{off: off, p: p, pb: pb})
		return nil
	}
	deps := sh.count.Clone()
	delete(deps, r.name)
	d, err := sh.engine.Publish(w.now, []byte(pb.body))
	if err != nil {
		return fmt.Errorf("%s: publish: %w", sh.name(), err)
	}
	w.nextOID++
	w.tentative[w.nextOID] = &opInfo{deps: deps, producer: p.name, seqID: pb.seqID, body: pb.body}
	sh.fresh[d.Seq] = freshOp{oid: w.nextOID, p: p, pb: pb}
	p.pending = append(p.pending, pb)
	w.trace("%s publishes %s (%s/%d, retry %v) deps %v", sh.name(), d.Dot(), p.name, pb.seqID, retry, deps)
	return nil
}

// fullyInSync: the journal has a leader running its engine, every in-sync
// replica (its factor of them) is up and holds the leader's whole log, and
// the high watermark is at its end.
func (c *cluster) fullyInSync() bool {
	u := c.truth.Units[journalUnit]
	if u == nil || u.Leader == 0 || len(u.InSync) < u.Factor {
		return false
	}
	lead := c.node(u.Leader)
	if c.primary() == nil || lead.lead.HighWatermark() != lead.log.End() {
		return false
	}
	for _, m := range u.InSync {
		n := c.node(m.Node)
		if !n.up || n.inc != m.Incarnation || n.log.End() != lead.log.End() {
			return false
		}
	}
	return len(c.running()) == 1
}

// finalCheck: every in-sync replica holds the leader's log, all of it
// committed.
func (c *cluster) finalCheck() error {
	u := c.truth.Units[journalUnit]
	lead := c.node(u.Leader)
	if uint64(len(c.committed)) != lead.log.End() {
		return fmt.Errorf("%s: committed %d records, the leader's log holds %d: %w", c.r.name, len(c.committed), lead.log.End(), errCheck)
	}
	for _, m := range u.InSync {
		n := c.node(m.Node)
		if !slices.EqualFunc(n.log.entries, lead.log.entries, func(a, b core.Entry) bool {
			return a.Offset == b.Offset && a.Epoch == b.Epoch && string(a.Data) == string(b.Data)
		}) {
			return fmt.Errorf("%s: in-sync node %d's journal differs from leader %d's: %w", c.r.name, m.Node, u.Leader, errCheck)
		}
	}
	return nil
}

// describe is the cluster's state, for a failure report.
func (c *cluster) describe() string {
	u := c.truth.Units[journalUnit]
	if u == nil {
		return c.r.name + ": no journal unit"
	}
	s := fmt.Sprintf("%s journal: leader %d epoch %d replicas %v in-sync %v eligible %v committed %d;", c.r.name,
		u.Leader, u.Epoch, u.Replicas, u.InSync, u.Eligible, len(c.committed))
	for _, n := range c.nodes {
		st := ""
		if x := c.truth.Nodes[n.id]; x != nil {
			st = x.Status.String()
		}
		s += fmt.Sprintf(" n%d/%x %s up %v side %d end %d hw %d leads %v engine %v;", n.id, n.inc, st, n.up, n.side,
			n.log.End(), n.hw, n.lead != nil, n.sh != nil)
		if n.lead != nil {
			s += fmt.Sprintf(" (epoch %d hw %d)", n.lead.Epoch(), n.lead.HighWatermark())
		}
	}
	return s
}
