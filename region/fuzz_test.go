package region

import (
	"bytes"
	"testing"
)

// FuzzDecodeCommand: proposals come from other nodes; any input decodes to a
// valid command or an error, a decoded command applies without panicking,
// and it round-trips.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []Command{
		{Kind: KindRegisterNode, Member: Member{Node: 1, Incarnation: 7}, Addrs: Addrs{Raft: "r:1", Data: "d:1", HTTP: "h:1"}},
		{Kind: KindFenceNode, Member: Member{Node: 2, Incarnation: 9}},
		{Kind: KindCreateUnit, Unit: "stream:t/f/s", Factor: 3, Replicas: []NodeID{1, 2, 3}},
		{Kind: KindCreateUnit, Unit: "journal:t/f/r1", Factor: 3, Replicas: []NodeID{1, 2, 3}, Group: "fabric:t/f"},
		{Kind: KindCreateUnit, Unit: "journal:t/f/r2", Factor: 2, Replicas: []NodeID{3, 1, 2}, Group: "fabric:t/f"},
		{Kind: KindAlterInSync, Unit: "stream:t/f/s", Epoch: 2, Member: Member{Node: 1, Incarnation: 7}, InSync: []Member{{Node: 1, Incarnation: 7}}},
		{Kind: KindReassign, Unit: "stream:t/f/s", Epoch: 2, Replicas: []NodeID{2, 3, 4}},
		{Kind: KindPutKV, Key: "subscription/cursor/t/f/s/sub", Value: "AQoA"},
		{Kind: KindPutKV, Key: "k", Value: "<\u2028\"é"},
		{Kind: KindDeleteKV, Key: "subscription/cursor/t/f/s/sub"},
		{Kind: KindDeletePrefix, Key: "subscription/cursor/t/f/s/"},
	} {
		b, err := c.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":6,"unit":"x","factor":2,"replicas":[1,1]}`))
	f.Add([]byte(`{"kind":3,"member":{"node":18446744073709551615}}`))
	f.Add([]byte(`{"kind":11,"key":"a\u0000b","value":"v"}`))
	f.Add([]byte(`{"kind":11,"key":"a","value":"\ud800"}`))
	f.Add([]byte(`{"kind":12,"key":"a","value":"v"}`))
	f.Add([]byte(`{"kind":13,"key":""}`))
	f.Add([]byte(`{"kind":6,"unit":"x","factor":1,"replicas":[1,2],"group":"g\u0007"}`))
	f.Add([]byte(`{"kind":9,"unit":"x","epoch":1,"replicas":[1],"group":"g"}`))
	f.Add([]byte(`{"kind":10,"member":{"node":1,"incarnation":7},"key":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		s := NewState()
		for i := uint64(1); i <= 4; i++ {
			_ = s.Apply(i, Command{Kind: KindRegisterNode, Member: Member{Node: NodeID(i), Incarnation: 7}, Addrs: Addrs{Raft: "r", Data: "d", HTTP: "h"}})
		}
		_ = s.Apply(5, Command{Kind: KindCreateUnit, Unit: "stream:t/f/s", Factor: 3, Replicas: []NodeID{1, 2, 3}, Group: "fabric:t/f"})
		_ = s.Apply(6, Command{Kind: KindPutKV, Key: "subscription/cursor/t/f/s/sub", Value: "AQoA"})
		_ = s.Apply(7, c)
		if n := s.kvSize(); n > MaxKVTotalBytes || len(s.KV) > MaxKVEntries {
			t.Fatalf("kv map past its bounds: %d keys, %d bytes", len(s.KV), n)
		}
		again, err := c.Encode()
		if err != nil {
			t.Fatalf("decoded command does not encode: %v", err)
		}
		c2, err := DecodeCommand(again)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, _ := c2.Encode()
		if !bytes.Equal(again, b2) {
			t.Fatalf("round trip differs:\n%s\n%s", again, b2)
		}
	})
}
