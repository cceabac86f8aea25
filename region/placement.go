package region

import (
	"cmp"
	"slices"
)

// load is how many replicas and leaderships each node holds.
type load struct{ replicas, leaders map[NodeID]int }

func loadOf(s *State) load {
	l := load{replicas: map[NodeID]int{}, leaders: map[NodeID]int{}}
	for _, u := range s.Units {
		for _, id := range u.Replicas {
			l.replicas[id]++
		}
		if u.Leader != 0 {
			l.leaders[u.Leader]++
		}
	}
	return l
}

// Place chooses the replicas of a new unit: the factor active nodes with the
// fewest replicas (ties by id), the one with the fewest leaderships first.
// It returns nil if the region has fewer active nodes than factor.
func Place(s *State, factor int) []NodeID {
	ld := loadOf(s)
	var active []NodeID
	for _, id := range s.NodeIDs() {
		if s.Nodes[id].Status == NodeActive {
			active = append(active, id)
		}
	}
	if len(active) < factor || factor < 1 {
		return nil
	}
	slices.SortStableFunc(active, func(a, b NodeID) int { return cmp.Compare(ld.replicas[a], ld.replicas[b]) })
	chosen := active[:factor]
	slices.SortStableFunc(chosen, func(a, b NodeID) int {
		if c := cmp.Compare(ld.leaders[a], ld.leaders[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return slices.Clone(chosen)
}

// DefaultFactor is the replication factor of a unit created without one in
// a region of n nodes: 3 from 3 nodes on, else n.
func DefaultFactor(n int) int { return max(1, min(3, n)) }
