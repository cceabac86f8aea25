package region

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// NodeStatus is where a node stands in the region.
type NodeStatus uint8

const (
	// NodeActive nodes lead and follow units and receive new ones.
	NodeActive NodeStatus = iota + 1
	// NodeFenced nodes missed their heartbeats: they lead nothing and are
	// out of every in-sync set (except as the last copy of a unit).
	NodeFenced
	// NodeDraining nodes keep serving what they have while the controller
	// moves it away; they receive nothing new.
	NodeDraining
)

func (s NodeStatus) String() string {
	switch s {
	case NodeActive:
		return "active"
	case NodeFenced:
		return "fenced"
	case NodeDraining:
		return "draining"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Node is a member of the region.
type Node struct {
	ID          NodeID     `json:"id"`
	Incarnation uint64     `json:"incarnation"`
	Addrs       Addrs      `json:"addrs"`
	Status      NodeStatus `json:"status"`
	// RaftReplica is the node's replica id in the metadata group.
	RaftReplica uint64 `json:"raftReplica,omitempty"`
}

// Unit is one replicated log and who holds it.
type Unit struct {
	ID UnitID `json:"id"`
	// Info is what the unit's owner layer said about it at its creation
	// (a stream's description); the region does not read it.
	Info string `json:"info,omitempty"`
	// Group is the co-location group the unit joined at its creation
	// (group.go); empty: none.
	Group string `json:"group,omitempty"`
	// Factor is the replication factor the unit is kept at.
	Factor int `json:"factor"`
	// Replicas are the nodes that hold the unit, in preference order for
	// leadership. During a move the set is larger than Factor for a while.
	Replicas []NodeID `json:"replicas"`
	// Leader serves the unit; 0 while no in-sync replica can (the unit is
	// offline until one comes back).
	Leader NodeID `json:"leader"`
	// Epoch grows with every change of leader (going offline included):
	// anything stamped with an older epoch is refused.
	Epoch uint64 `json:"epoch"`
	// InSync are the replicas that hold every acknowledged record, with
	// the incarnation in which they caught up; sorted by node.
	InSync []Member `json:"inSync"`
	// InSyncVersion grows with every change of InSync. A leader's
	// AlterInSync names the version it changes from and is refused once
	// another change came first, so a proposal that timed out and is
	// committed late (or twice) can never undo a newer decision.
	InSyncVersion uint64 `json:"inSyncVersion,omitempty"`
	// Eligible are replicas that left the in-sync set while it was below
	// MinInSync (Kafka's eligible leader replicas, KIP-966): no write was
	// acknowledged since, so they hold every acknowledged record and may
	// lead if no in-sync replica can. Cleared when the in-sync set is back
	// at MinInSync (writes are acknowledged again without them).
	Eligible []Member `json:"eligible,omitempty"`
}

// MinInSync is how many in-sync replicas a unit must have for its leader to
// acknowledge: a majority of its factor, so that with a factor of 3 a write
// is on two disks before it is acknowledged.
func (u *Unit) MinInSync() int { return u.Factor/2 + 1 }

// InSyncHas reports whether node (in any incarnation) is in sync.
func (u *Unit) InSyncHas(node NodeID) bool {
	return slices.ContainsFunc(u.InSync, func(m Member) bool { return m.Node == node })
}

// leaveInSync takes node out of the in-sync set; if that leaves the set
// below MinInSync, no write can be acknowledged from now on, so the node
// still holds every acknowledged record and stays eligible to lead.
func (u *Unit) leaveInSync(node NodeID) {
	i := slices.IndexFunc(u.InSync, func(m Member) bool { return m.Node == node })
	if i < 0 {
		return
	}
	m := u.InSync[i]
	u.InSync = slices.Delete(u.InSync, i, i+1)
	u.InSyncVersion++
	if len(u.InSync) < u.MinInSync() {
		u.Eligible = append(u.Eligible, m)
		slices.SortFunc(u.Eligible, byNode)
	}
}

// forget removes node from the in-sync and eligible sets: it lost its data.
func (u *Unit) forget(node NodeID) {
	other := func(m Member) bool { return m.Node == node }
	if slices.ContainsFunc(u.InSync, other) {
		u.InSyncVersion++
	}
	u.InSync = slices.DeleteFunc(u.InSync, other)
	u.Eligible = slices.DeleteFunc(u.Eligible, other)
}

// State is the region's metadata: the state machine of its Raft group.
type State struct {
	// Applied is the index of the last command applied.
	Applied uint64           `json:"applied"`
	Nodes   map[NodeID]*Node `json:"nodes"`
	Units   map[UnitID]*Unit `json:"units"`
	// KV is the region's key-value map (kv.go): small metadata that must
	// outlive any one node, such as subscription cursors. Absent from
	// snapshots written before it existed.
	KV map[string]string `json:"kv,omitempty"`
	// Removed holds, per node an operator removed, the life it was removed
	// in: that life may not register again (a removed node still running
	// would otherwise come back at its next heartbeat); a new life (an
	// empty disk) may.
	Removed map[NodeID]uint64 `json:"removed,omitempty"`

	// kvBytes is the sum of KVEntryBytes over KV while kvCounted; derived
	// from KV, so not part of a snapshot.
	kvBytes   int
	kvCounted bool
}

// UnmarshalJSON decodes a snapshot of the state; the size of its KV map is
// counted again at the next KV command.
func (s *State) UnmarshalJSON(b []byte) error {
	type plain State
	s.kvCounted = false
	return json.Unmarshal(b, (*plain)(s))
}

// NewState returns an empty region.
func NewState() *State {
	return &State{Nodes: map[NodeID]*Node{}, Units: map[UnitID]*Unit{}, KV: map[string]string{}}
}

// Errors of Apply: the command met a state it does not fit and changed
// nothing. They are expected (a stale or duplicated proposal) and carry no
// harm.
var (
	// ErrRefused: a proposed command was committed and the state refused
	// it (nothing changed); the metadata group wraps the reason with it.
	ErrRefused       = errors.New("region: refused")
	ErrUnknownNode   = errors.New("region: unknown node")
	ErrUnknownUnit   = errors.New("region: unknown unit")
	ErrStaleEpoch    = errors.New("region: stale epoch")
	ErrNotLeader     = errors.New("region: not the unit's leader")
	ErrStale         = errors.New("region: stale incarnation")
	ErrInvalid       = errors.New("region: invalid command")
	ErrWouldLoseData = errors.New("region: the change would leave no in-sync replica")
	ErrNodeBusy      = errors.New("region: node still holds replicas")
	ErrUnitExists    = errors.New("region: unit exists")
	ErrRemoved       = errors.New("region: this life of the node was removed from the region")
)

// Apply applies the command at index to the state. A command that does not
// fit the state (an error) changes nothing but the applied index; every
// replica of the log reaches the same state and the same errors.
func (s *State) Apply(index uint64, c Command) error {
	s.Applied = index
	if err := c.Validate(); err != nil {
		return err
	}
	switch c.Kind {
	case KindRegisterNode:
		return s.registerNode(c)
	case KindFenceNode:
		return s.fenceNode(c.Member)
	case KindUnfenceNode:
		return s.unfenceNode(c.Member)
	case KindDrainNode:
		return s.drainNode(c.Member.Node)
	case KindRemoveNode:
		return s.removeNode(c.Member.Node)
	case KindCreateUnit:
		return s.createUnit(c)
	case KindDeleteUnit:
		if _, ok := s.Units[c.Unit]; !ok {
			return ErrUnknownUnit
		}
		delete(s.Units, c.Unit)
		return nil
	case KindAlterInSync:
		return s.alterInSync(c)
	case KindReassign:
		return s.reassign(c)
	case KindHeartbeat:
		_, err := s.member(c.Member)
		return err
	case KindPutKV:
		return s.putKV(c.Key, c.Value)
	case KindDeleteKV:
		s.deleteKV(c.Key)
		return nil
	case KindDeletePrefix:
		s.deletePrefix(c.Key)
		return nil
	}
	return fmt.Errorf("%w: kind %d", ErrInvalid, c.Kind)
}

func (s *State) registerNode(c Command) error {
	if inc, removed := s.Removed[c.Member.Node]; removed {
		if inc == c.Member.Incarnation {
			return ErrRemoved
		}
		delete(s.Removed, c.Member.Node)
	}
	n, ok := s.Nodes[c.Member.Node]
	if !ok {
		s.Nodes[c.Member.Node] = &Node{ID: c.Member.Node, Incarnation: c.Member.Incarnation, Addrs: c.Addrs, Status: NodeActive, RaftReplica: c.RaftReplica}
		return nil
	}
	n.Addrs = c.Addrs
	if c.Member.Incarnation == n.Incarnation && c.RaftReplica != 0 {
		n.RaftReplica = c.RaftReplica
	}
	if n.Incarnation == c.Member.Incarnation {
		return nil // a restart with its disk: status unchanged (unfencing is the controller's)
	}
	// A new life: whatever the previous one held is gone. It leaves every
	// in-sync set (leadership moves) and starts as a follower everywhere.
	n.Incarnation = c.Member.Incarnation
	n.RaftReplica = c.RaftReplica
	if n.Status == NodeFenced {
		n.Status = NodeActive
	}
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if !slices.Contains(u.Replicas, n.ID) {
			continue
		}
		u.forget(n.ID)
		if len(u.InSync) == 0 && len(u.Replicas) == 1 {
			// A factor-1 unit has no other copy: it starts again empty on
			// the same node (R=1 promises nothing past the disk).
			u.InSync = []Member{{Node: n.ID, Incarnation: n.Incarnation}}
			u.InSyncVersion++
			u.Leader = n.ID
			u.Epoch++
			continue
		}
		if u.Leader == n.ID || u.Leader == 0 {
			s.elect(u)
		}
	}
	return nil
}

func (s *State) fenceNode(m Member) error {
	n, err := s.member(m)
	if err != nil {
		return err
	}
	if n.Status == NodeFenced {
		return nil
	}
	n.Status = NodeFenced
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if !u.InSyncHas(n.ID) {
			continue
		}
		u.leaveInSync(n.ID)
		if u.Leader == n.ID {
			s.elect(u)
		}
	}
	return nil
}

func (s *State) unfenceNode(m Member) error {
	n, err := s.member(m)
	if err != nil {
		return err
	}
	if n.Status != NodeFenced {
		return nil
	}
	n.Status = NodeActive
	for _, id := range s.unitIDs() {
		if u := s.Units[id]; u.Leader == 0 {
			s.elect(u)
		}
	}
	return nil
}

func (s *State) drainNode(id NodeID) error {
	n, ok := s.Nodes[id]
	if !ok {
		return ErrUnknownNode
	}
	if n.Status == NodeActive {
		n.Status = NodeDraining
	}
	return nil
}

func (s *State) removeNode(id NodeID) error {
	if _, ok := s.Nodes[id]; !ok {
		return ErrUnknownNode
	}
	for _, u := range s.Units {
		if slices.Contains(u.Replicas, id) {
			return fmt.Errorf("%w: %d holds %s", ErrNodeBusy, id, u.ID)
		}
	}
	if s.Removed == nil {
		s.Removed = map[NodeID]uint64{}
	}
	s.Removed[id] = s.Nodes[id].Incarnation
	delete(s.Nodes, id)
	return nil
}

func (s *State) createUnit(c Command) error {
	if _, ok := s.Units[c.Unit]; ok {
		return ErrUnitExists
	}
	if ids := s.GroupUnits(c.Group); len(ids) > 0 {
		return s.joinGroup(c, s.Units[ids[0]])
	}
	if len(c.Replicas) != c.Factor {
		return fmt.Errorf("%w: the first unit of group %q needs %d replicas, not %d", ErrInvalid, c.Group, c.Factor, len(c.Replicas))
	}
	u := &Unit{ID: c.Unit, Info: c.Info, Group: c.Group, Factor: c.Factor, Replicas: slices.Clone(c.Replicas), Epoch: 1}
	for _, id := range c.Replicas {
		n, ok := s.Nodes[id]
		if !ok || n.Status != NodeActive {
			return fmt.Errorf("%w: replica %d is not an active node", ErrInvalid, id)
		}
		u.InSync = append(u.InSync, Member{Node: id, Incarnation: n.Incarnation})
	}
	slices.SortFunc(u.InSync, byNode)
	u.Leader = c.Replicas[0]
	s.Units[u.ID] = u
	return nil
}

// alterInSync is the leader's change of its in-sync set, decided at the
// epoch it names: a deposed leader's decision is refused.
func (s *State) alterInSync(c Command) error {
	u, ok := s.Units[c.Unit]
	if !ok {
		return ErrUnknownUnit
	}
	if c.Epoch != u.Epoch {
		return ErrStaleEpoch
	}
	if c.Version != u.InSyncVersion {
		return fmt.Errorf("%w: in-sync version %d, the unit is at %d", ErrStaleEpoch, c.Version, u.InSyncVersion)
	}
	if c.Member.Node != u.Leader {
		return ErrNotLeader
	}
	if err := s.current(c.Member); err != nil {
		return err
	}
	set := slices.Clone(c.InSync)
	slices.SortFunc(set, byNode)
	if !slices.ContainsFunc(set, func(m Member) bool { return m.Node == u.Leader }) {
		return fmt.Errorf("%w: the in-sync set must hold the leader", ErrInvalid)
	}
	for _, m := range set {
		if !slices.Contains(u.Replicas, m.Node) {
			return fmt.Errorf("%w: %d is not a replica of %s", ErrInvalid, m.Node, u.ID)
		}
		if err := s.current(m); err != nil {
			return err
		}
		if !u.InSyncHas(m.Node) && s.Nodes[m.Node].Status == NodeFenced {
			return fmt.Errorf("%w: %d is fenced", ErrInvalid, m.Node)
		}
	}
	if len(set) >= u.MinInSync() {
		u.Eligible = nil
	} else {
		// Below the minimum nothing is acknowledged from now on: every
		// replica leaving now holds everything acknowledged.
		for _, m := range u.InSync {
			if !slices.Contains(set, m) && !slices.Contains(u.Eligible, m) {
				u.Eligible = append(u.Eligible, m)
			}
		}
		u.Eligible = slices.DeleteFunc(u.Eligible, func(m Member) bool { return slices.ContainsFunc(set, func(x Member) bool { return x.Node == m.Node }) })
		slices.SortFunc(u.Eligible, byNode)
	}
	u.InSync = set
	u.InSyncVersion++
	return nil
}

// reassign changes a unit's replica set: the controller grows it first
// (new replicas catch up and join the in-sync set), then shrinks it.
func (s *State) reassign(c Command) error {
	u, ok := s.Units[c.Unit]
	if !ok {
		return ErrUnknownUnit
	}
	if c.Epoch != u.Epoch {
		return ErrStaleEpoch
	}
	for _, id := range c.Replicas {
		if _, ok := s.Nodes[id]; !ok {
			return fmt.Errorf("%w: replica %d", ErrUnknownNode, id)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(u.InSync), func(m Member) bool { return !slices.Contains(c.Replicas, m.Node) })
	if len(kept) == 0 {
		return ErrWouldLoseData
	}
	u.Replicas = slices.Clone(c.Replicas)
	if !slices.Equal(kept, u.InSync) {
		u.InSyncVersion++
	}
	u.InSync = kept
	u.Eligible = slices.DeleteFunc(u.Eligible, func(m Member) bool { return !slices.Contains(c.Replicas, m.Node) })
	if c.Factor > 0 {
		u.Factor = c.Factor
	}
	if !slices.Contains(u.Replicas, u.Leader) || !s.preferred(u) {
		s.elect(u)
	}
	return nil
}

// preferred reports whether the unit's leader is its first in-sync active
// replica in preference order (the controller moves leadership to the
// first replica by reordering Replicas).
func (s *State) preferred(u *Unit) bool {
	return s.candidate(u) == u.Leader
}

// elect gives the unit a new epoch and, as leader, the first replica in
// preference order that is in sync and not fenced, or else the first such
// eligible replica (which becomes the in-sync set); no leader if there is
// none. An offline unit that stays offline keeps its epoch.
func (s *State) elect(u *Unit) {
	leader := s.candidate(u)
	if leader == 0 && u.Leader == 0 {
		return
	}
	u.Epoch++
	u.Leader = leader
	if leader != 0 && !u.InSyncHas(leader) {
		i := slices.IndexFunc(u.Eligible, func(m Member) bool { return m.Node == leader })
		u.InSync = append(u.InSync, u.Eligible[i])
		slices.SortFunc(u.InSync, byNode)
		u.InSyncVersion++
		u.Eligible = slices.Delete(u.Eligible, i, i+1)
	}
}

func (s *State) candidate(u *Unit) NodeID {
	for _, set := range [][]Member{u.InSync, u.Eligible} {
		for _, id := range u.Replicas {
			n := s.Nodes[id]
			if n != nil && n.Status != NodeFenced && slices.Contains(set, Member{Node: id, Incarnation: n.Incarnation}) {
				return id
			}
		}
	}
	return 0
}

// member returns the node in the incarnation named, or ErrStale.
func (s *State) member(m Member) (*Node, error) {
	n, ok := s.Nodes[m.Node]
	if !ok {
		return nil, ErrUnknownNode
	}
	if n.Incarnation != m.Incarnation {
		return nil, ErrStale
	}
	return n, nil
}

func (s *State) current(m Member) error {
	_, err := s.member(m)
	return err
}

// unitIDs returns the units' ids sorted, for deterministic iteration.
func (s *State) unitIDs() []UnitID {
	ids := make([]UnitID, 0, len(s.Units))
	for id := range s.Units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// NodeIDs returns the nodes' ids sorted.
func (s *State) NodeIDs() []NodeID {
	ids := make([]NodeID, 0, len(s.Nodes))
	for id := range s.Nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := s.CloneWithoutKV()
	if s.KV != nil {
		c.KV = maps.Clone(s.KV)
	}
	c.kvBytes, c.kvCounted = s.kvBytes, s.kvCounted
	return c
}

// CloneWithoutKV returns a deep copy of the nodes and units only (KV is
// nil): what readers of the region's membership and ownership need, at a
// cost that does not grow with the key-value map.
func (s *State) CloneWithoutKV() *State {
	c := &State{Applied: s.Applied, Nodes: make(map[NodeID]*Node, len(s.Nodes)), Units: make(map[UnitID]*Unit, len(s.Units)),
		Removed: maps.Clone(s.Removed)}
	for id, n := range s.Nodes {
		cp := *n
		c.Nodes[id] = &cp
	}
	for id, u := range s.Units {
		cp := *u
		cp.Replicas = slices.Clone(u.Replicas)
		cp.InSync = slices.Clone(u.InSync)
		cp.Eligible = slices.Clone(u.Eligible)
		c.Units[id] = &cp
	}
	return c
}

func byNode(a, b Member) int {
	switch {
	case a.Node < b.Node:
		return -1
	case a.Node > b.Node:
		return 1
	}
	return 0
}
