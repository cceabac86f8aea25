package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/causeway/causeway/region"
)

// simGroup is a co-location group of the run (a fabric's journals and
// global streams): its units created at the start, and one created while
// faults run, placed on the group's list then (which may be moving, or
// hold a fenced node).
type simGroup struct {
	name  string
	units []region.UnitID
	late  region.UnitID
	// lateAt is when the late unit is first tried; lateDone once created.
	lateAt   time.Duration
	lateDone bool
}

// createGroups creates cfg.Groups groups of cfg.GroupUnits units each,
// placed with region.PlaceIn, and returns the units in an order that
// spreads producers over the groups (each group's first unit, then each
// group's second...).
func (w *world) createGroups(factor int) []region.UnitID {
	for g := range w.cfg.Groups {
		sg := &simGroup{name: fmt.Sprintf("fabric:t/f%d", g), late: region.UnitID(fmt.Sprintf("journal:t/f%d/late", g))}
		for i := range w.cfg.GroupUnits {
			id := region.UnitID(fmt.Sprintf("journal:t/f%d/r%d", g, i))
			w.createIn(sg.name, id, factor)
			sg.units = append(sg.units, id)
		}
		if w.cfg.FaultTime > 0 {
			sg.lateAt = time.Duration(w.rng.Int64N(int64(w.cfg.FaultTime)))
		}
		w.acked[sg.late] = map[uint64][2]uint32{}
		w.groups = append(w.groups, sg)
	}
	var out []region.UnitID
	for i := range w.cfg.GroupUnits {
		for _, sg := range w.groups {
			out = append(out, sg.units[i])
		}
	}
	return out
}

// createIn places unit id in group as an operator would (on the majority
// side's view) and proposes its creation; it reports whether the unit was
// created.
func (w *world) createIn(group string, id region.UnitID, factor int) bool {
	replicas, err := region.PlaceIn(w.truth, group, factor)
	if err != nil {
		w.trace("place %s in %s: %v", id, group, err)
		return false
	}
	w.acked[id] = map[uint64][2]uint32{}
	return w.propose(0, region.Command{Kind: region.KindCreateUnit, Unit: id, Factor: factor, Replicas: replicas, Group: group})
}

// createLate tries each group's late unit from its time on, every 50 ms,
// until it is created (after the faults too).
func (w *world) createLate() {
	if w.now%(50*time.Millisecond) != 0 {
		return
	}
	for _, sg := range w.groups {
		if sg.lateDone || w.now < sg.lateAt {
			continue
		}
		first := w.truth.Units[sg.units[0]]
		if w.createIn(sg.name, sg.late, first.Factor) {
			sg.lateDone = true
			if w.now < w.cfg.FaultTime {
				w.res.LateInFaults++
			}
			sg.units = append(sg.units, sg.late)
		}
	}
}

// groupsApart describes the first group whose units are not together (not
// created yet, other replica lists, or other leaders); "" if none.
func (w *world) groupsApart() string {
	for _, sg := range w.groups {
		if !sg.lateDone {
			return fmt.Sprintf("group %s: %s not created", sg.name, sg.late)
		}
		ids := w.truth.GroupUnits(sg.name)
		if !slices.Equal(ids, sortedIDs(sg.units)) {
			return fmt.Sprintf("group %s: units %v, created %v", sg.name, ids, sg.units)
		}
		first := w.truth.Units[ids[0]]
		for _, id := range ids[1:] {
			if u := w.truth.Units[id]; !slices.Equal(u.Replicas, first.Replicas) {
				return fmt.Sprintf("group %s apart: %s on %v, %s on %v", sg.name, first.ID, first.Replicas, id, u.Replicas)
			}
		}
		if _, _, ok := w.truth.GroupLeader(sg.name); !ok {
			leaders := make([]region.NodeID, len(ids))
			for i, id := range ids {
				leaders[i] = w.truth.Units[id].Leader
			}
			return fmt.Sprintf("group %s split: units %v led by %v", sg.name, ids, leaders)
		}
	}
	return ""
}

// countSplits counts the groups that a commit split (before is the state
// before it).
func (w *world) countSplits(before *region.State) {
	for _, sg := range w.groups {
		_, _, was := before.GroupLeader(sg.name)
		if _, _, is := w.truth.GroupLeader(sg.name); was && !is {
			w.res.GroupSplits++
		}
	}
}

// sampleSplits adds a controller tick to SplitTime for every group that
// has units and no one leader now.
func (w *world) sampleSplits() {
	for _, sg := range w.groups {
		if _, _, ok := w.truth.GroupLeader(sg.name); !ok {
			w.res.SplitTime += ctrlTick
		}
	}
}

func sortedIDs(ids []region.UnitID) []region.UnitID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
