package region

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func addrs() Addrs { return Addrs{Raft: "r", Data: "d", HTTP: "h"} }

// region3 is three active nodes (incarnations 11, 12, 13) and unit "u" on
// all of them, led by node 1 at epoch 1.
func region3(t *testing.T) *State {
	t.Helper()
	s := NewState()
	for i := uint64(1); i <= 3; i++ {
		mustApply(t, s, Command{Kind: KindRegisterNode, Member: Member{Node: NodeID(i), Incarnation: 10 + i}, Addrs: addrs()})
	}
	mustApply(t, s, Command{Kind: KindCreateUnit, Unit: "u", Factor: 3, Replicas: []NodeID{1, 2, 3}})
	return s
}

func mustApply(t *testing.T, s *State, c Command) {
	t.Helper()
	if err := s.Apply(s.Applied+1, c); err != nil {
		t.Fatalf("apply %+v: %v", c, err)
	}
}

func m(node NodeID) Member { return Member{Node: node, Incarnation: 10 + uint64(node)} }

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		cmds     []Command
		err      error // of the last command
		leader   NodeID
		epoch    uint64
		inSync   []Member
		eligible []Member
	}{
		{name: "created", leader: 1, epoch: 1, inSync: []Member{m(1), m(2), m(3)}},
		{name: "fencing the leader elects the next in-sync replica",
			cmds:   []Command{{Kind: KindFenceNode, Member: m(1)}},
			leader: 2, epoch: 2, inSync: []Member{m(2), m(3)}},
		{name: "fencing a stale incarnation changes nothing",
			cmds: []Command{{Kind: KindFenceNode, Member: Member{Node: 1, Incarnation: 99}}}, err: ErrStale,
			leader: 1, epoch: 1, inSync: []Member{m(1), m(2), m(3)}},
		{name: "a deposed leader's in-sync change is refused",
			cmds: []Command{{Kind: KindFenceNode, Member: m(1)},
				{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}}},
			err: ErrStaleEpoch, leader: 2, epoch: 2, inSync: []Member{m(2), m(3)}},
		{name: "shrinking below the minimum keeps the leavers eligible",
			cmds:   []Command{{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}}},
			leader: 1, epoch: 1, inSync: []Member{m(1)}, eligible: []Member{m(2), m(3)}},
		{name: "an eligible replica leads when no in-sync one can",
			cmds: []Command{{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}},
				{Kind: KindFenceNode, Member: m(1)}},
			leader: 2, epoch: 2, inSync: []Member{m(2)}, eligible: []Member{m(1), m(3)}},
		{name: "growing back to the minimum clears the eligible",
			cmds: []Command{{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}},
				{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1), m(3)}, Version: 1}},
			leader: 1, epoch: 1, inSync: []Member{m(1), m(3)}},
		{name: "an in-sync change from an older version is refused (a late copy of a decided proposal)",
			cmds: []Command{{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}},
				{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1), m(3)}, Version: 1},
				{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}}},
			err: ErrStaleEpoch, leader: 1, epoch: 1, inSync: []Member{m(1), m(3)}},
		{name: "a wiped leader leaves the in-sync set and leadership",
			cmds:   []Command{{Kind: KindRegisterNode, Member: Member{Node: 1, Incarnation: 77}, Addrs: addrs()}},
			leader: 2, epoch: 2, inSync: []Member{m(2), m(3)}},
		{name: "a wiped eligible replica is forgotten; the unit waits offline",
			cmds: []Command{{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1)}},
				{Kind: KindFenceNode, Member: m(2)}, {Kind: KindFenceNode, Member: m(3)}, {Kind: KindFenceNode, Member: m(1)},
				{Kind: KindRegisterNode, Member: Member{Node: 2, Incarnation: 77}, Addrs: addrs()}},
			leader: 0, epoch: 2, eligible: []Member{m(1), m(3)}},
		{name: "unfencing brings an offline unit back with its eligible replica",
			cmds: []Command{{Kind: KindFenceNode, Member: m(2)}, {Kind: KindFenceNode, Member: m(3)}, {Kind: KindFenceNode, Member: m(1)},
				{Kind: KindUnfenceNode, Member: m(3)}},
			leader: 3, epoch: 3, inSync: []Member{m(3)}, eligible: []Member{m(1)}},
		{name: "adding a fenced node to the in-sync set is refused",
			cmds: []Command{{Kind: KindFenceNode, Member: m(3)},
				{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1), m(2), m(3)}, Version: 1}},
			err: ErrInvalid, leader: 1, epoch: 1, inSync: []Member{m(1), m(2)}},
		{name: "a reassignment that keeps no in-sync replica is refused",
			cmds: []Command{{Kind: KindRegisterNode, Member: Member{Node: 4, Incarnation: 14}, Addrs: addrs()},
				{Kind: KindReassign, Unit: "u", Epoch: 1, Replicas: []NodeID{4}}},
			err: ErrWouldLoseData, leader: 1, epoch: 1, inSync: []Member{m(1), m(2), m(3)}},
		{name: "reassigning away from the leader elects a kept replica",
			cmds: []Command{{Kind: KindRegisterNode, Member: Member{Node: 4, Incarnation: 14}, Addrs: addrs()},
				{Kind: KindReassign, Unit: "u", Epoch: 1, Replicas: []NodeID{2, 3, 4}}},
			leader: 2, epoch: 2, inSync: []Member{m(2), m(3)}},
		{name: "removing a node that holds a replica is refused",
			cmds: []Command{{Kind: KindRemoveNode, Member: Member{Node: 3}}}, err: ErrNodeBusy,
			leader: 1, epoch: 1, inSync: []Member{m(1), m(2), m(3)}},
		{name: "creating an existing unit changes nothing",
			cmds: []Command{{Kind: KindCreateUnit, Unit: "u", Factor: 1, Replicas: []NodeID{3}}}, err: ErrUnitExists,
			leader: 1, epoch: 1, inSync: []Member{m(1), m(2), m(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := region3(t)
			var err error
			for i, c := range tt.cmds {
				err = s.Apply(s.Applied+1, c)
				if err != nil && i < len(tt.cmds)-1 {
					t.Fatalf("command %d: %v", i, err)
				}
			}
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			u := s.Units["u"]
			if u.Leader != tt.leader || u.Epoch != tt.epoch || !slices.Equal(u.InSync, tt.inSync) || !slices.Equal(u.Eligible, tt.eligible) {
				t.Fatalf("unit %+v, want leader %d epoch %d in-sync %v eligible %v", *u, tt.leader, tt.epoch, tt.inSync, tt.eligible)
			}
		})
	}
}

// TestApplyRefusedChangesNothing: a refused command changes nothing but the
// applied index.
func TestApplyRefusedChangesNothing(t *testing.T) {
	s := region3(t)
	before := s.Clone()
	if err := s.Apply(s.Applied+1, Command{Kind: KindAlterInSync, Unit: "u", Epoch: 9, Member: m(1), InSync: []Member{m(1)}}); err == nil {
		t.Fatal("stale epoch accepted")
	}
	before.Applied = s.Applied
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(s)
	if string(a) != string(b) {
		t.Fatalf("state changed:\n%s\n%s", a, b)
	}
}

func TestEpochs(t *testing.T) {
	e := Epochs{}.Assign(1, 0).Assign(3, 10).Assign(3, 12).Assign(5, 20)
	if want := (Epochs{{1, 0}, {3, 10}, {5, 20}}); !slices.Equal(e, want) {
		t.Fatalf("assign: %v, want %v", e, want)
	}
	tests := []struct {
		epoch, end       uint64
		found, endOffset uint64
	}{
		{epoch: 1, end: 30, found: 1, endOffset: 10},
		{epoch: 2, end: 30, found: 1, endOffset: 10},
		{epoch: 3, end: 30, found: 3, endOffset: 20},
		{epoch: 5, end: 30, found: 5, endOffset: 30},
		{epoch: 9, end: 30, found: 5, endOffset: 30},
		{epoch: 0, end: 30, found: 0, endOffset: 0},
	}
	for _, tt := range tests {
		found, end := e.EndFor(tt.epoch, tt.end)
		if found != tt.found || end != tt.endOffset {
			t.Errorf("EndFor(%d, %d) = %d, %d, want %d, %d", tt.epoch, tt.end, found, end, tt.found, tt.endOffset)
		}
	}
	if got := e.TruncateTo(15); !slices.Equal(got, Epochs{{1, 0}, {3, 10}}) {
		t.Fatalf("TruncateTo(15) = %v", got)
	}
	if got := e.TruncateTo(10); !slices.Equal(got, Epochs{{1, 0}}) {
		t.Fatalf("TruncateTo(10) = %v", got)
	}
}
