package region

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrNoRoom: the region has fewer active nodes than a unit's factor.
var ErrNoRoom = errors.New("region: not enough active nodes")

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

// PlaceIn chooses the replicas of a new unit of group: the replica list of
// the group's lowest unit, in its order, if the group has units (the
// factor must be the group's); else, or with no group, as Place does.
func PlaceIn(s *State, group string, factor int) ([]NodeID, error) {
	if factor < 1 || factor > MaxFactor {
		return nil, fmt.Errorf("%w: factor %d (1-%d)", ErrInvalid, factor, MaxFactor)
	}
	if ids := s.GroupUnits(group); len(ids) > 0 {
		first := s.Units[ids[0]]
		if first.Factor != factor {
			return nil, fmt.Errorf("%w: group %q keeps factor %d, not %d", ErrInvalid, group, first.Factor, factor)
		}
		return slices.Clone(first.Replicas), nil
	}
	replicas := Place(s, factor)
	if replicas == nil {
		active := 0
		for _, n := range s.Nodes {
			if n.Status == NodeActive {
				active++
			}
		}
		return nil, fmt.Errorf("%w: %d replicas wanted, %d active nodes", ErrNoRoom, factor, active)
	}
	return replicas, nil
}

// DefaultFactor is the replication factor of a unit created without one in
// a region of n nodes: 3 from 3 nodes on, else n.
func DefaultFactor(n int) int { return max(1, min(3, n)) }
