package sim

import (
	"container/heap"
	"fmt"
	"slices"
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
