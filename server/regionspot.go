package server

import (
	"fmt"
	"maps"
	"slices"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/spot"
)

// maxRegionSpotReplicas bounds the replicas of a region's SPOT group spread
// over its nodes, as the metadata group bounds its voters.
const maxRegionSpotReplicas = 5

// spotConfig fits a node's SPOT configuration to its region of several
// nodes. In such a region (a node serving it through the data path) the
// region's SPOT group has at most one replica per node: spot.Config.Members
// maps node ids (--cluster-node) to the Raft address of each member's
// SPOT NodeHost, the same list on every node, and this node runs replica
// {its node id} when it is listed (Replicas may be left out; given, it
// must be exactly that). Members must be among the region's initial
// voters when the node knows them. Any node then answers SPOT requests:
// a member proposes and reads through its own replica (dragonboat
// forwards to the group's leader); a node that is not a member forwards
// them to the nodes that are (the returned function lists their HTTP
// URLs from the region's metadata: spot.Options.RegionNodes).
//
// The same holds in a geo-replicated region of several nodes
// (regiongeo.go), where the change feeds are global streams led by the node
// running the region's replication: that node publishes the events its
// replica applies, and the other members keep theirs for when they run it
// (spot.BrokerFeed). A region of one node, a metadata-only node and a
// configuration without members are left as they are (nil function).
func (rt *regionRuntime) spotConfig(c spot.Config) (spot.Config, func() []string, error) {
	if rt == nil || rt.streams == nil || (len(c.Members) == 0 && len(c.Replicas) == 0) {
		return c, nil, nil
	}
	self := uint64(rt.cfg.Node)
	members := c.Members
	if len(members) == 0 { // spot.Config's default: the replicas given
		members = map[uint64]string{}
		for _, r := range c.Replicas {
			members[r.ID] = r.RaftAddress
		}
	}
	if len(members) > maxRegionSpotReplicas {
		return c, nil, fmt.Errorf("server: SPOT in a region of several nodes: %d members, at most %d (one replica on each of up to %d nodes)",
			len(members), maxRegionSpotReplicas, maxRegionSpotReplicas)
	}
	for _, id := range slices.Sorted(maps.Keys(members)) {
		addr := members[id]
		if len(rt.cfg.Bootstrap) > 0 {
			raft, voter := rt.cfg.Bootstrap[region.NodeID(id)]
			if !voter {
				return c, nil, fmt.Errorf("server: SPOT member %d is not one of the region's voters (--cluster-voters): in a region of several nodes SPOT member ids are node ids", id)
			}
			if addr == raft {
				return c, nil, fmt.Errorf("server: SPOT member %d at %s: that is node %d's Raft address for the region's metadata group; SPOT's NodeHost needs its own", id, addr, id)
			}
		}
		if id == self && (addr == rt.cfg.Addrs.Raft || addr == rt.cfg.Addrs.Data) {
			return c, nil, fmt.Errorf("server: SPOT member %d at %s: this node's metadata group or data path listens there; SPOT's NodeHost needs its own address", id, addr)
		}
	}
	var want []spot.ReplicaConfig
	if addr, ok := members[self]; ok {
		want = []spot.ReplicaConfig{{ID: self, RaftAddress: addr}}
	}
	if len(c.Replicas) > 0 && !slices.Equal(c.Replicas, want) {
		return c, nil, fmt.Errorf("server: SPOT replicas %v: in a region of several nodes node %d runs only its own replica, id %d, at its address in the members (give the members only)",
			c.Replicas, self, self)
	}
	c.Members, c.Replicas = members, want
	return c, rt.spotNodes(members), nil
}

// spotNodes returns the HTTP URLs of the SPOT group's other members as the
// region's metadata names them, active nodes first (none before the node
// is in its region's group).
func (rt *regionRuntime) spotNodes(members map[uint64]string) func() []string {
	self := uint64(rt.cfg.Node)
	var ids []region.NodeID
	for _, id := range slices.Sorted(maps.Keys(members)) {
		if id != self {
			ids = append(ids, region.NodeID(id))
		}
	}
	return func() []string {
		g := rt.group()
		if g == nil {
			return nil
		}
		st := g.Local()
		var active, others []string
		for _, id := range ids {
			n := st.Nodes[id]
			switch {
			case n == nil || n.Addrs.HTTP == "":
			case n.Status == region.NodeActive:
				active = append(active, n.Addrs.HTTP)
			default:
				others = append(others, n.Addrs.HTTP)
			}
		}
		return append(active, others...)
	}
}
