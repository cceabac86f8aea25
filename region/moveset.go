package region

import "slices"

// moveSet is what the controller moves as one: the units of a co-location
// group, or a unit of no group alone. Its first unit (the lowest id) is the
// group's reference: the others follow its replica list, in its order.
type moveSet struct {
	units []*Unit // sorted by id, at least one
}

// moveSets returns the region's move sets, ordered by their first unit.
func moveSets(s *State) []moveSet {
	var sets []moveSet
	at := map[string]int{}
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if u.Group == "" {
			sets = append(sets, moveSet{units: []*Unit{u}})
			continue
		}
		if i, ok := at[u.Group]; ok {
			sets[i].units = append(sets[i].units, u)
			continue
		}
		at[u.Group] = len(sets)
		sets = append(sets, moveSet{units: []*Unit{u}})
	}
	return sets
}

func (m moveSet) first() *Unit { return m.units[0] }

// union is every node holding a unit of the set: the first unit's replicas
// in its order, then the others' in theirs.
func (m moveSet) union() []NodeID {
	all := slices.Clone(m.first().Replicas)
	for _, u := range m.units[1:] {
		for _, r := range u.Replicas {
			if !slices.Contains(all, r) {
				all = append(all, r)
			}
		}
	}
	return all
}

// aligned reports whether every unit has the first unit's replica list, in
// the same order.
func (m moveSet) aligned() bool {
	for _, u := range m.units[1:] {
		if !slices.Equal(u.Replicas, m.first().Replicas) {
			return false
		}
	}
	return true
}

// inSync reports whether node is a replica of every unit, in sync on all.
func (m moveSet) inSync(node NodeID) bool {
	for _, u := range m.units {
		if !u.InSyncHas(node) {
			return false
		}
	}
	return true
}

// leader returns the leader of the first unit and whether every unit has
// that leader.
func (m moveSet) leader() (NodeID, bool) {
	l := m.first().Leader
	for _, u := range m.units[1:] {
		if u.Leader != l {
			return l, false
		}
	}
	return l, true
}

// reassign proposes replicas for every unit of the set that has another
// list (or another leader than want, if want is not 0).
func (m moveSet) reassign(replicas []NodeID, want NodeID) []Command {
	if len(replicas) > MaxReplicas {
		return nil
	}
	var out []Command
	for _, u := range m.units {
		if !slices.Equal(u.Replicas, replicas) || (want != 0 && u.Leader != want) {
			out = append(out, Command{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: slices.Clone(replicas)})
		}
	}
	return out
}

// catchUp grows every unit that lacks some of nodes by those it lacks
// (appended: adding replicas never loses data), so that all of them can
// then be shrunk to one list.
func (m moveSet) catchUp(nodes []NodeID) []Command {
	var out []Command
	for _, u := range m.units {
		grown := slices.Clone(u.Replicas)
		for _, r := range nodes {
			if !slices.Contains(grown, r) {
				grown = append(grown, r)
			}
		}
		if len(grown) > len(u.Replicas) && len(grown) <= MaxReplicas {
			out = append(out, Command{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: grown})
		}
	}
	return out
}
