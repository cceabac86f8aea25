package regionapi

import (
	"maps"
	"slices"

	"github.com/causeway/causeway/region"
)

// View is the answer of GET /_api/region/state: the region's metadata as
// of a linearizable read on the node that answered.
type View struct {
	// Region names the region; Node is the node that answered.
	Region string        `json:"region"`
	Node   region.NodeID `json:"node"`
	// MetaLeader is the node leading the metadata group (it runs the
	// controller); 0 when no node said so in time (an election, or no
	// quorum).
	MetaLeader region.NodeID `json:"metaLeader"`
	// Applied is the index of the last metadata command applied.
	Applied uint64     `json:"applied"`
	Nodes   []NodeView `json:"nodes"`
	Units   []UnitView `json:"units"`
}

// NodeView is one node of the region.
type NodeView struct {
	ID          region.NodeID `json:"id"`
	Incarnation uint64        `json:"incarnation"`
	// Status is active, fenced (missed its heartbeats: it leads nothing)
	// or draining.
	Status string       `json:"status"`
	Addrs  region.Addrs `json:"addrs"`
	// RaftReplica is the node's replica id in the metadata group.
	RaftReplica uint64 `json:"raftReplica,omitempty"`
}

// UnitView is one replicated log of the region and who holds it.
type UnitView struct {
	ID       region.UnitID   `json:"id"`
	Factor   int             `json:"factor"`
	Replicas []region.NodeID `json:"replicas"`
	// Leader serves the unit (0: offline); Epoch grows with every change
	// of leader.
	Leader region.NodeID `json:"leader"`
	Epoch  uint64        `json:"epoch"`
	// InSync are the replicas holding every acknowledged record; Eligible
	// may lead when none of them can (region.Unit).
	InSync   []region.Member `json:"inSync"`
	Eligible []region.Member `json:"eligible,omitempty"`
}

// NewView describes st as seen by node self of regionName, with leader
// leading the metadata group. Nodes and units are sorted by id; the view
// shares nothing with st.
func NewView(regionName string, self, leader region.NodeID, st *region.State) View {
	v := View{Region: regionName, Node: self, MetaLeader: leader, Applied: st.Applied,
		Nodes: make([]NodeView, 0, len(st.Nodes)), Units: make([]UnitView, 0, len(st.Units))}
	for _, id := range st.NodeIDs() {
		n := st.Nodes[id]
		v.Nodes = append(v.Nodes, NodeView{ID: n.ID, Incarnation: n.Incarnation, Status: n.Status.String(),
			Addrs: n.Addrs, RaftReplica: n.RaftReplica})
	}
	for _, id := range sortedUnits(st) {
		u := st.Units[id]
		v.Units = append(v.Units, UnitView{ID: u.ID, Factor: u.Factor, Replicas: append([]region.NodeID{}, u.Replicas...),
			Leader: u.Leader, Epoch: u.Epoch, InSync: append([]region.Member{}, u.InSync...),
			Eligible: append([]region.Member(nil), u.Eligible...)})
	}
	return v
}

// NodeByID returns the node with id, if the view has it.
func (v View) NodeByID(id region.NodeID) (NodeView, bool) {
	for _, n := range v.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return NodeView{}, false
}

func sortedUnits(st *region.State) []region.UnitID {
	return slices.Sorted(maps.Keys(st.Units))
}
