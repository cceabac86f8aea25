package region

import (
	"fmt"
	"slices"
)

// NodeID names a node of the region; 0 is no node.
type NodeID uint64

// UnitID names a replicated log of the region: a stream partition
// ("stream:{tenant}/{fabric}/{stream}"), a collection's op log, or a
// fabric's replication journal ("journal:{tenant}/{fabric}").
type UnitID string

// Member is a node in one life: a node that lost its disk comes back with a
// new Incarnation, and nothing it held before counts.
type Member struct {
	Node        NodeID `json:"node"`
	Incarnation uint64 `json:"incarnation"`
}

func (m Member) String() string { return fmt.Sprintf("%d/%x", m.Node, m.Incarnation) }

// Addrs are where a node serves: Raft (the metadata group), Data (log
// shipping between nodes), HTTP (clients, WebSocket, proxying) and Kafka.
type Addrs struct {
	Raft  string `json:"raft"`
	Data  string `json:"data"`
	HTTP  string `json:"http"`
	Kafka string `json:"kafka,omitempty"`
}

// sortedNodes returns ids sorted and without duplicates, as a new slice.
func sortedNodes(ids []NodeID) []NodeID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
