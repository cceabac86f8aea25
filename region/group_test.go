package region

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// regionN is n active nodes (incarnations 11, 12, ...) and no unit.
func regionN(t *testing.T, n int) *State {
	t.Helper()
	s := NewState()
	for i := 1; i <= n; i++ {
		mustApply(t, s, Command{Kind: KindRegisterNode, Member: m(NodeID(i)), Addrs: addrs()})
	}
	return s
}

// createIn places a unit of group with PlaceIn and creates it.
func createIn(t *testing.T, s *State, id UnitID, group string, factor int) {
	t.Helper()
	replicas, err := PlaceIn(s, group, factor)
	if err != nil {
		t.Fatalf("place %s: %v", id, err)
	}
	mustApply(t, s, Command{Kind: KindCreateUnit, Unit: id, Factor: factor, Replicas: replicas, Group: group})
}

func TestGroupCommandValidate(t *testing.T) {
	create := Command{Kind: KindCreateUnit, Unit: "u", Factor: 2, Replicas: []NodeID{1, 2}}
	with := func(f func(*Command)) Command {
		c := create
		c.Replicas = slices.Clone(c.Replicas)
		f(&c)
		return c
	}
	tests := []struct {
		name string
		c    Command
		ok   bool
	}{
		{name: "no group", c: create, ok: true},
		{name: "a group", c: with(func(c *Command) { c.Group = "fabric:t/f é" }), ok: true},
		{name: "a group's longer list (a move in progress)", c: with(func(c *Command) { c.Group = "g"; c.Replicas = []NodeID{1, 2, 3} }), ok: true},
		{name: "a longer list without a group", c: with(func(c *Command) { c.Replicas = []NodeID{1, 2, 3} })},
		{name: "a shorter list in a group", c: with(func(c *Command) { c.Group = "g"; c.Replicas = []NodeID{1} })},
		{name: "a group of the longest name", c: with(func(c *Command) { c.Group = strings.Repeat("g", MaxGroupBytes) }), ok: true},
		{name: "a group name too long", c: with(func(c *Command) { c.Group = strings.Repeat("g", MaxGroupBytes+1) })},
		{name: "a group name with a newline", c: with(func(c *Command) { c.Group = "a\nb" })},
		{name: "a group name with NUL", c: with(func(c *Command) { c.Group = "a\x00b" })},
		{name: "a group name that is not UTF-8", c: with(func(c *Command) { c.Group = "a\xffb" })},
		{name: "a group on a reassignment", c: Command{Kind: KindReassign, Unit: "u", Epoch: 1, Replicas: []NodeID{1}, Group: "g"}},
		{name: "a group on a key-value command", c: Command{Kind: KindPutKV, Key: "k", Value: "v", Group: "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.c.Encode()
			if (err == nil) != tt.ok {
				t.Fatalf("encode: %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				return
			}
			c, err := DecodeCommand(b)
			if err != nil || c.Group != tt.c.Group {
				t.Fatalf("decode: %+v, %v", c, err)
			}
		})
	}
	// An entry written before groups existed decodes, in no group.
	c, err := DecodeCommand([]byte(`{"kind":6,"unit":"stream:t/f/s","factor":2,"replicas":[1,2],"info":"x"}`))
	if err != nil || c.Group != "" {
		t.Fatalf("old create: %+v, %v", c, err)
	}
}

func TestPlaceIn(t *testing.T) {
	s := regionN(t, 5)
	createIn(t, s, "a", "", 3) // 1, 2, 3
	createIn(t, s, "g1", "g", 3)
	first := slices.Clone(s.Units["g1"].Replicas)
	if want := []NodeID{4, 5, 1}; !slices.Equal(first, want) {
		t.Fatalf("the first unit of a group is placed as Place does: %v, want %v", first, want)
	}
	// Place would now pick the least loaded nodes (2, 3, ...); the group's
	// next units take its list, in its order.
	if p := Place(s, 3); slices.Equal(p, first) {
		t.Fatalf("test needs Place to differ from the group's list: %v", p)
	}
	createIn(t, s, "g0", "g", 3) // lower id than the first unit
	createIn(t, s, "g2", "g", 3)
	for _, id := range []UnitID{"g0", "g2"} {
		if u := s.Units[id]; !slices.Equal(u.Replicas, first) || u.Leader != first[0] || u.Group != "g" {
			t.Fatalf("%s: %+v, want replicas %v led by %d", id, *u, first, first[0])
		}
	}
	if got := s.GroupUnits("g"); !slices.Equal(got, []UnitID{"g0", "g1", "g2"}) {
		t.Fatalf("GroupUnits = %v", got)
	}
	if got := s.GroupUnits(""); got != nil {
		t.Fatalf("GroupUnits of no group = %v", got)
	}
	if _, err := PlaceIn(s, "g", 2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another factor in the group: %v", err)
	}
	if _, err := PlaceIn(s, "other", 6); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("factor 6 on 5 nodes: %v", err)
	}
	if _, err := PlaceIn(s, "", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("factor 0: %v", err)
	}
}

func TestCreateInGroup(t *testing.T) {
	tests := []struct {
		name     string
		cmds     []Command // after g1 created on 1, 2, 3 in group g
		create   Command
		err      error
		leader   NodeID
		inSync   []Member
		eligible []Member
		replicas []NodeID
	}{
		{name: "the group's list", create: Command{Replicas: []NodeID{1, 2, 3}},
			leader: 1, inSync: []Member{m(1), m(2), m(3)}, replicas: []NodeID{1, 2, 3}},
		{name: "another order is refused", create: Command{Replicas: []NodeID{2, 1, 3}}, err: ErrInvalid},
		{name: "other nodes are refused", create: Command{Replicas: []NodeID{1, 2, 4}}, err: ErrInvalid},
		{name: "another factor is refused", create: Command{Factor: 2, Replicas: []NodeID{1, 2}}, err: ErrInvalid},
		{name: "a fenced replica starts out of sync and does not lead",
			cmds:   []Command{{Kind: KindFenceNode, Member: m(1)}},
			create: Command{Replicas: []NodeID{1, 2, 3}}, leader: 2, inSync: []Member{m(2), m(3)}, replicas: []NodeID{1, 2, 3}},
		{name: "fenced replicas below the minimum start eligible",
			cmds:   []Command{{Kind: KindFenceNode, Member: m(1)}, {Kind: KindFenceNode, Member: m(3)}},
			create: Command{Replicas: []NodeID{1, 2, 3}}, leader: 2, inSync: []Member{m(2)}, eligible: []Member{m(1), m(3)}, replicas: []NodeID{1, 2, 3}},
		{name: "every replica fenced is refused",
			cmds:   []Command{{Kind: KindFenceNode, Member: m(1)}, {Kind: KindFenceNode, Member: m(2)}, {Kind: KindFenceNode, Member: m(3)}},
			create: Command{Replicas: []NodeID{1, 2, 3}}, err: ErrInvalid},
		{name: "a group being moved gives its longer list",
			cmds:   []Command{{Kind: KindReassign, Unit: "g1", Epoch: 1, Replicas: []NodeID{1, 2, 3, 4}}},
			create: Command{Replicas: []NodeID{1, 2, 3, 4}}, leader: 1, inSync: []Member{m(1), m(2), m(3), m(4)}, replicas: []NodeID{1, 2, 3, 4}},
		{name: "a draining replica is in sync (it serves until moved)",
			cmds:   []Command{{Kind: KindDrainNode, Member: Member{Node: 1}}},
			create: Command{Replicas: []NodeID{1, 2, 3}}, leader: 1, inSync: []Member{m(1), m(2), m(3)}, replicas: []NodeID{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := regionN(t, 4)
			mustApply(t, s, Command{Kind: KindCreateUnit, Unit: "g1", Factor: 3, Replicas: []NodeID{1, 2, 3}, Group: "g"})
			for _, c := range tt.cmds {
				mustApply(t, s, c)
			}
			c := tt.create
			c.Kind, c.Unit, c.Group = KindCreateUnit, "g2", "g"
			if c.Factor == 0 {
				c.Factor = 3
			}
			if tt.replicas != nil {
				if p, err := PlaceIn(s, "g", 3); err != nil || !slices.Equal(p, tt.replicas) {
					t.Fatalf("PlaceIn = %v, %v, want %v", p, err, tt.replicas)
				}
			}
			before := s.Clone()
			err := s.Apply(s.Applied+1, c)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				if s.Units["g2"] != nil || len(s.Units) != len(before.Units) {
					t.Fatal("a refused creation created a unit")
				}
				return
			}
			u := s.Units["g2"]
			if u.Leader != tt.leader || u.Epoch != 1 || !slices.Equal(u.InSync, tt.inSync) || !slices.Equal(u.Eligible, tt.eligible) || !slices.Equal(u.Replicas, tt.replicas) {
				t.Fatalf("unit %+v, want leader %d in-sync %v eligible %v replicas %v", *u, tt.leader, tt.inSync, tt.eligible, tt.replicas)
			}
		})
	}
	// The first unit of a group is placed as any unit: its factor of
	// replicas, all active.
	s := regionN(t, 4)
	if err := s.Apply(s.Applied+1, Command{Kind: KindCreateUnit, Unit: "g1", Factor: 2, Replicas: []NodeID{1, 2, 3}, Group: "g"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("first unit with a longer list: %v", err)
	}
}

func TestGroupLeader(t *testing.T) {
	s := regionN(t, 3)
	if _, _, ok := s.GroupLeader("g"); ok {
		t.Fatal("an empty group has a leader")
	}
	if _, _, ok := s.GroupLeader(""); ok {
		t.Fatal("no group has a leader")
	}
	for _, id := range []UnitID{"a", "b", "c"} {
		createIn(t, s, id, "g", 3)
	}
	createIn(t, s, "lone", "", 3)
	leader, term, ok := s.GroupLeader("g")
	if !ok || leader != 1 || term != 3 {
		t.Fatalf("GroupLeader = %d, %d, %v; want 1, 3, true", leader, term, ok)
	}
	// One unit elects another leader: split.
	s.Units["b"].InSync = []Member{m(1), m(3)}
	mustApply(t, s, Command{Kind: KindFenceNode, Member: m(1)})
	if l := []NodeID{s.Units["a"].Leader, s.Units["b"].Leader, s.Units["c"].Leader}; !slices.Equal(l, []NodeID{2, 3, 2}) {
		t.Fatalf("leaders %v", l)
	}
	if _, _, ok := s.GroupLeader("g"); ok {
		t.Fatal("a split group has a leader")
	}
	// One leader again, at new epochs: another term.
	mustApply(t, s, Command{Kind: KindReassign, Unit: "a", Epoch: 2, Replicas: []NodeID{3, 1, 2}})
	mustApply(t, s, Command{Kind: KindReassign, Unit: "c", Epoch: 2, Replicas: []NodeID{3, 1, 2}})
	leader, term2, ok := s.GroupLeader("g")
	if !ok || leader != 3 || term2 <= term {
		t.Fatalf("GroupLeader = %d, %d, %v; want 3, above %d, true", leader, term2, ok, term)
	}
	// A unit without a leader: none.
	mustApply(t, s, Command{Kind: KindFenceNode, Member: m(2)})
	mustApply(t, s, Command{Kind: KindFenceNode, Member: m(3)})
	if _, _, ok := s.GroupLeader("g"); ok {
		t.Fatal("a leaderless group has a leader")
	}
}

// groupRegion is nodes 1-n active, group g of units g1..gk on 1, 2, 3 and a
// lone unit "z" on 1, 2, 3.
func groupRegion(t *testing.T, n, k int) *State {
	t.Helper()
	s := regionN(t, n)
	for i := 1; i <= k; i++ {
		mustApply(t, s, Command{Kind: KindCreateUnit, Unit: UnitID("g" + string(rune('0'+i))), Factor: 3, Replicas: []NodeID{1, 2, 3}, Group: "g"})
	}
	mustApply(t, s, Command{Kind: KindCreateUnit, Unit: "z", Factor: 3, Replicas: []NodeID{1, 2, 3}})
	return s
}

// decide runs a controller that has heard every node at now.
func decide(s *State, c *Controller, now time.Duration) []Command {
	for _, id := range s.NodeIDs() {
		if s.Nodes[id].Status != NodeFenced {
			c.Heartbeat(Member{Node: id, Incarnation: s.Nodes[id].Incarnation}, now)
		}
	}
	return c.Decide(s, now)
}

// reassigns returns the replica lists proposed per unit.
func reassigns(cmds []Command) map[UnitID][]NodeID {
	out := map[UnitID][]NodeID{}
	for _, c := range cmds {
		if c.Kind == KindReassign {
			out[c.Unit] = c.Replicas
		}
	}
	return out
}

func applyAll(t *testing.T, s *State, cmds []Command) {
	t.Helper()
	for _, c := range cmds {
		mustApply(t, s, c)
	}
}

func TestControllerMovesGroups(t *testing.T) {
	cfg := ControllerConfig{SessionTimeout: time.Second, ReplaceAfter: 2 * time.Second, MaxMoves: 4}
	tests := []struct {
		name  string
		n, k  int
		setup func(t *testing.T, s *State)
		want  map[UnitID][]NodeID // proposals of the first decision with moves
	}{
		{name: "draining a node grows every unit of the group on one node",
			n: 4, k: 3, setup: func(t *testing.T, s *State) { mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 2}}) },
			// and the lone unit: 4 units, MaxMoves.
			want: map[UnitID][]NodeID{"g1": {1, 2, 3, 4}, "g2": {1, 2, 3, 4}, "g3": {1, 2, 3, 4}, "z": {1, 2, 3, 4}}},
		{name: "MaxMoves counts a group's units",
			n: 4, k: 4, setup: func(t *testing.T, s *State) { mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 2}}) },
			want: map[UnitID][]NodeID{"g1": {1, 2, 3, 4}, "g2": {1, 2, 3, 4}, "g3": {1, 2, 3, 4}, "g4": {1, 2, 3, 4}}},
		{name: "a grown group shrinks only when every unit caught up",
			n: 4, k: 2, setup: func(t *testing.T, s *State) {
				mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 2}})
				for _, id := range []UnitID{"g1", "g2", "z"} {
					mustApply(t, s, Command{Kind: KindReassign, Unit: id, Epoch: 1, Replicas: []NodeID{1, 2, 3, 4}})
				}
				// 4 caught up on g1 and z, not on g2.
				for _, id := range []UnitID{"g1", "z"} {
					u := s.Units[id]
					mustApply(t, s, Command{Kind: KindAlterInSync, Unit: id, Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(1), InSync: []Member{m(1), m(2), m(3), m(4)}})
				}
			},
			want: map[UnitID][]NodeID{"z": {1, 3, 4}}},
		{name: "a group whose units have different lists takes its first unit's",
			n: 3, k: 3, setup: func(t *testing.T, s *State) {
				mustApply(t, s, Command{Kind: KindReassign, Unit: "g2", Epoch: 1, Replicas: []NodeID{3, 2, 1}})
			},
			want: map[UnitID][]NodeID{"g2": {1, 2, 3}}},
		{name: "a unit that missed the group's grow catches up first",
			n: 4, k: 3, setup: func(t *testing.T, s *State) {
				mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 2}})
				for _, id := range []UnitID{"g1", "g3"} {
					u := s.Units[id]
					mustApply(t, s, Command{Kind: KindReassign, Unit: id, Epoch: 1, Replicas: []NodeID{1, 2, 3, 4}})
					mustApply(t, s, Command{Kind: KindAlterInSync, Unit: id, Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(1), InSync: []Member{m(1), m(2), m(3), m(4)}})
				}
				mustApply(t, s, Command{Kind: KindReassign, Unit: "z", Epoch: 1, Replicas: []NodeID{1, 2, 3, 4}})
			},
			want: map[UnitID][]NodeID{"g2": {1, 2, 3, 4}}},
		{name: "rebalancing moves a lone unit but not a group as large as the gap",
			n: 5, k: 4, setup: func(t *testing.T, s *State) {
				mustApply(t, s, Command{Kind: KindReassign, Unit: "z", Epoch: 1, Replicas: []NodeID{1, 2, 4}})
				mustApply(t, s, Command{Kind: KindCreateUnit, Unit: "w", Factor: 3, Replicas: []NodeID{3, 4, 5}})
			},
			// loads 5, 5, 5, 2, 1: a gap of 4, the group's size.
			want: map[UnitID][]NodeID{"z": {1, 2, 4, 5}}},
		{name: "rebalancing moves a group when the gap is larger than it",
			n: 4, k: 2, setup: func(t *testing.T, s *State) {},
			// loads 3, 3, 3, 0: the group (2 units, the lowest ids) moves.
			want: map[UnitID][]NodeID{"g1": {1, 2, 3, 4}, "g2": {1, 2, 3, 4}}},
		{name: "a group larger than MaxMoves moves alone",
			n: 4, k: 6, setup: func(t *testing.T, s *State) { mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 3}}) },
			want: map[UnitID][]NodeID{"g1": {1, 2, 3, 4}, "g2": {1, 2, 3, 4}, "g3": {1, 2, 3, 4}, "g4": {1, 2, 3, 4}, "g5": {1, 2, 3, 4}, "g6": {1, 2, 3, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := groupRegion(t, tt.n, tt.k)
			tt.setup(t, s)
			got := reassigns(decide(s, NewController(cfg, 0), 0))
			if len(got) != len(tt.want) {
				t.Fatalf("proposals %v, want %v", got, tt.want)
			}
			for id, r := range tt.want {
				if !slices.Equal(got[id], r) {
					t.Fatalf("proposals %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestControllerDrainsGroup runs a drain to its end: the group is grown,
// caught up, shrunk, every unit on the same list at every step.
func TestControllerDrainsGroup(t *testing.T) {
	s := groupRegion(t, 4, 3)
	mustApply(t, s, Command{Kind: KindDrainNode, Member: Member{Node: 1}})
	c := NewController(ControllerConfig{SessionTimeout: time.Second, MaxMoves: 4}, 0)
	for step := 0; step < 10; step++ {
		cmds := decide(s, c, time.Duration(step)*time.Millisecond)
		applyAll(t, s, cmds)
		// Every new replica catches up (the leader's in-sync change).
		for _, id := range s.unitIDs() {
			u := s.Units[id]
			var all []Member
			for _, r := range u.Replicas {
				all = append(all, m(r))
			}
			slices.SortFunc(all, byNode)
			if !slices.Equal(all, u.InSync) {
				mustApply(t, s, Command{Kind: KindAlterInSync, Unit: id, Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(u.Leader), InSync: all})
			}
		}
		for _, id := range s.GroupUnits("g")[1:] {
			if !slices.Equal(s.Units[id].Replicas, s.Units["g1"].Replicas) {
				t.Fatalf("step %d: %s on %v, g1 on %v", step, id, s.Units[id].Replicas, s.Units["g1"].Replicas)
			}
		}
		if _, _, ok := s.GroupLeader("g"); !ok {
			t.Fatalf("step %d: group split: %v", step, s.Units)
		}
	}
	leader, _, _ := s.GroupLeader("g")
	if r := s.Units["g1"].Replicas; slices.Contains(r, 1) || len(r) != 3 || leader != r[0] {
		t.Fatalf("after the drain: g1 on %v led by %d", r, leader)
	}
}

func TestControllerAlignsGroupLeaders(t *testing.T) {
	cfg := ControllerConfig{SessionTimeout: time.Second, MaxMoves: 4}
	// fenced: node 1 fenced; lagging[u] are nodes out of sync on u (taken
	// out by the leader before the fence).
	tests := []struct {
		name    string
		lagging map[UnitID][]NodeID
		unfence bool
		want    map[UnitID][]NodeID
		leader  NodeID // of every unit after applying, 0: split (no proposal)
	}{
		{name: "one election for all: nothing to align", leader: 2},
		{name: "split: the first unit's leader leads all, first in every list",
			lagging: map[UnitID][]NodeID{"g1": {2}},
			want:    map[UnitID][]NodeID{"g1": {3, 1, 2}, "g2": {3, 1, 2}, "g3": {3, 1, 2}}, leader: 3},
		{name: "split, the first unit's leader behind elsewhere: the first replica in sync on all",
			lagging: map[UnitID][]NodeID{"g2": {2}, "g3": {2}},
			want:    map[UnitID][]NodeID{"g1": {3, 1, 2}, "g2": {3, 1, 2}, "g3": {3, 1, 2}}, leader: 3},
		{name: "split, no replica in sync on all: wait",
			lagging: map[UnitID][]NodeID{"g2": {2}, "g3": {3}}},
		{name: "preferred back for all once it is in sync on all",
			unfence: true, lagging: map[UnitID][]NodeID{},
			want: map[UnitID][]NodeID{"g1": {1, 2, 3}, "g2": {1, 2, 3}, "g3": {1, 2, 3}}, leader: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := groupRegion(t, 3, 3)
			for id, nodes := range tt.lagging {
				u := s.Units[id]
				set := slices.DeleteFunc(slices.Clone(u.InSync), func(x Member) bool { return slices.Contains(nodes, x.Node) })
				mustApply(t, s, Command{Kind: KindAlterInSync, Unit: id, Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(1), InSync: set})
			}
			mustApply(t, s, Command{Kind: KindFenceNode, Member: m(1)})
			if tt.unfence {
				mustApply(t, s, Command{Kind: KindUnfenceNode, Member: m(1)})
				for _, id := range s.GroupUnits("g") {
					u := s.Units[id]
					mustApply(t, s, Command{Kind: KindAlterInSync, Unit: id, Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(u.Leader), InSync: []Member{m(1), m(2), m(3)}})
				}
				// The lone unit is led by 2 too and goes back to 1 on its own.
			}
			cmds := decide(s, NewController(cfg, 0), 0)
			got := reassigns(cmds)
			delete(got, "z")
			if len(got) != len(tt.want) {
				t.Fatalf("proposals %v, want %v", got, tt.want)
			}
			for id, r := range tt.want {
				if !slices.Equal(got[id], r) {
					t.Fatalf("proposals %v, want %v", got, tt.want)
				}
			}
			applyAll(t, s, cmds)
			leader, _, ok := s.GroupLeader("g")
			if tt.leader == 0 {
				if ok {
					t.Fatalf("group has leader %d, want split", leader)
				}
				return
			}
			if !ok || leader != tt.leader {
				t.Fatalf("group leader %d (%v), want %d", leader, ok, tt.leader)
			}
			if again := reassigns(decide(s, NewController(cfg, 0), 0)); len(again) > 0 && !tt.unfence {
				t.Fatalf("second decision proposes %v", again)
			}
		})
	}
}

// TestPreferredLeaderKeepsGroup: the preferred replica back in sync on one
// unit of a group only is not made leader of that unit alone.
func TestPreferredLeaderKeepsGroup(t *testing.T) {
	s := groupRegion(t, 3, 2)
	mustApply(t, s, Command{Kind: KindFenceNode, Member: m(1)})
	mustApply(t, s, Command{Kind: KindUnfenceNode, Member: m(1)})
	u := s.Units["g1"]
	mustApply(t, s, Command{Kind: KindAlterInSync, Unit: "g1", Epoch: u.Epoch, Version: u.InSyncVersion, Member: m(2), InSync: []Member{m(1), m(2), m(3)}})
	got := reassigns(decide(s, NewController(ControllerConfig{SessionTimeout: time.Second}, 0), 0))
	if len(got) != 0 {
		t.Fatalf("proposals %v, want none until 1 is in sync on g2", got)
	}
}
