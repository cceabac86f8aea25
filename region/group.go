package region

import (
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Co-location groups: units that must stay together, such as a fabric's
// replication journals and its global streams, whose geo-replication shell
// runs only on the node leading every one of them. A unit joins a group at
// its creation (Command.Group) and never leaves it. Every unit of a group
// has the same replica list in the same order: the first unit to join is
// placed like any other, the next ones take the list of the group's lowest
// unit id (PlaceIn), and the controller moves the group as one and brings
// its leaders back to one node when elections split them.

// validGroup checks a group name: empty (no group), or 1 to MaxGroupBytes
// bytes of printable UTF-8.
func validGroup(g string) error {
	if len(g) > MaxGroupBytes || !utf8.ValidString(g) {
		return fmt.Errorf("group must be at most %d bytes of UTF-8", MaxGroupBytes)
	}
	for _, r := range g {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("group holds the unprintable character %U", r)
		}
	}
	return nil
}

// GroupUnits returns the ids of the units of group, sorted (none for the
// empty group).
func (s *State) GroupUnits(group string) []UnitID {
	if group == "" {
		return nil
	}
	var ids []UnitID
	for id, u := range s.Units {
		if u.Group == group {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// GroupLeader returns the node leading every unit of group and the sum of
// their epochs, which grows with every change of leader of any of them
// (and changes when a unit joins or leaves the group): the term of the
// group's leadership. ok is false while the group has no unit, or while
// its units have different leaders or one has none.
func (s *State) GroupLeader(group string) (leader NodeID, term uint64, ok bool) {
	ids := s.GroupUnits(group)
	if len(ids) == 0 {
		return 0, 0, false
	}
	for _, id := range ids {
		u := s.Units[id]
		if u.Leader == 0 || (leader != 0 && u.Leader != leader) {
			return 0, 0, false
		}
		leader = u.Leader
		term += u.Epoch
	}
	return leader, term, true
}

// joinGroup creates the unit of c in a group that has units already, first
// the lowest of them: it must have the group's factor and replica list.
// Replicas on fenced nodes start out of the in-sync set (they catch up
// when back) and, if that leaves it below MinInSync, eligible: nothing can
// be acknowledged before it is back at MinInSync, so they hold every
// acknowledged record (and the unit is not lost with the disk of the one
// in-sync replica). The first in-sync replica in the list's order leads.
func (s *State) joinGroup(c Command, first *Unit) error {
	if c.Factor != first.Factor {
		return fmt.Errorf("%w: group %q keeps factor %d, not %d", ErrInvalid, c.Group, first.Factor, c.Factor)
	}
	if !slices.Equal(c.Replicas, first.Replicas) {
		return fmt.Errorf("%w: group %q is on %v, not %v", ErrInvalid, c.Group, first.Replicas, c.Replicas)
	}
	u := &Unit{ID: c.Unit, Info: c.Info, Group: c.Group, Factor: c.Factor, Replicas: slices.Clone(c.Replicas), Epoch: 1}
	for _, id := range c.Replicas {
		n, ok := s.Nodes[id]
		if !ok {
			return fmt.Errorf("%w: replica %d", ErrUnknownNode, id)
		}
		if n.Status != NodeFenced {
			u.InSync = append(u.InSync, Member{Node: id, Incarnation: n.Incarnation})
		} else {
			u.Eligible = append(u.Eligible, Member{Node: id, Incarnation: n.Incarnation})
		}
	}
	slices.SortFunc(u.InSync, byNode)
	if len(u.InSync) >= u.MinInSync() {
		u.Eligible = nil
	}
	slices.SortFunc(u.Eligible, byNode)
	if u.Leader = s.candidate(u); u.Leader == 0 {
		return fmt.Errorf("%w: every replica of group %q is fenced", ErrInvalid, c.Group)
	}
	s.Units[u.ID] = u
	return nil
}
