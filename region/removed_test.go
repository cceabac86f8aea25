package region

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestRemovedNodeStaysOut: a node removed by an operator cannot register
// again in the life it was removed in (a removed node still running would
// otherwise come back at its next heartbeat), survives a snapshot, and a
// new life of it (an empty disk) joins again.
func TestRemovedNodeStaysOut(t *testing.T) {
	s := NewState()
	for i := uint64(1); i <= 4; i++ {
		mustApply(t, s, Command{Kind: KindRegisterNode, Member: Member{Node: NodeID(i), Incarnation: 10 + i}, Addrs: addrs()})
	}
	mustApply(t, s, Command{Kind: KindCreateUnit, Unit: "u", Factor: 3, Replicas: []NodeID{1, 2, 3}})
	if err := s.Apply(s.Applied+1, Command{Kind: KindRemoveNode, Member: Member{Node: 1}}); !errors.Is(err, ErrNodeBusy) {
		t.Fatalf("removing a node holding a replica: %v", err)
	}
	mustApply(t, s, Command{Kind: KindRemoveNode, Member: Member{Node: 4}})
	if _, ok := s.Nodes[4]; ok {
		t.Fatal("node 4 still in the region")
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var restored State
	if err := json.Unmarshal(b, &restored); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*State{s, &restored, s.Clone(), s.CloneWithoutKV()} {
		c := st.Clone()
		if err := c.Apply(c.Applied+1, Command{Kind: KindRegisterNode, Member: Member{Node: 4, Incarnation: 14}, Addrs: addrs()}); !errors.Is(err, ErrRemoved) {
			t.Fatalf("the removed life registered again: %v", err)
		}
		if _, ok := c.Nodes[4]; ok {
			t.Fatal("a refused registration added the node")
		}
		mustApply(t, c, Command{Kind: KindRegisterNode, Member: Member{Node: 4, Incarnation: 99}, Addrs: addrs()})
		if n := c.Nodes[4]; n == nil || n.Status != NodeActive || n.Incarnation != 99 {
			t.Fatalf("a new life of the removed node: %+v", n)
		}
		if _, ok := c.Removed[4]; ok {
			t.Fatal("the removal mark outlived the new life's registration")
		}
	}
}
