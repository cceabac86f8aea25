package broker

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

func TestReplicationConfig(t *testing.T) {
	base := Config{Region: "a", DataDir: "d", Peers: map[string]string{"c": "h:2", "b": "h:1"}, ReplAddr: "h:0",
		FabricSecret: strings.Repeat("s", MinFabricSecretBytes)}
	if err := base.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	if got := base.Regions(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("regions %v", got)
	}
	tests := map[string]func(c *Config){
		"peer is self":    func(c *Config) { c.Peers = map[string]string{"a": "h:1"} },
		"peer no address": func(c *Config) { c.Peers = map[string]string{"b": ""} },
		"bad peer name":   func(c *Config) { c.Peers = map[string]string{"b/x": "h:1"} },
		"no repl":         func(c *Config) { c.ReplAddr = "" },
		"short secret":    func(c *Config) { c.FabricSecret = "short" },
		"negative wan":    func(c *Config) { c.WAN.Latency = -time.Second },
		"loss above one":  func(c *Config) { c.WAN.Loss = 1.5 },
	}
	for name, mutate := range tests {
		c := base
		c.Peers = map[string]string{"b": "h:1"}
		mutate(&c)
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: validated", name)
		}
	}
	single := Config{Region: "solo", DataDir: "d"}
	if single.Replicated() || single.WithDefaults().Validate() != nil {
		t.Fatal("a node without peers must not need replication settings")
	}
}

func openTestNode(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Open(Config{Region: "a", DataDir: dir, Peers: map[string]string{"b": "h:1"}, ReplAddr: "h:0",
		FabricSecret: strings.Repeat("s", MinFabricSecretBytes), Fsync: "never"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func apply(t *testing.T, n *Node, name naming.Stream, recs ...segment.Record) []uint64 {
	t.Helper()
	type res struct {
		off []uint64
		err error
	}
	ch := make(chan res, 1)
	n.ApplyReplicated(name, recs, func(off []uint64, err error) { ch <- res{off, err} })
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.off
}

func rec(origin string, seq uint64, producer string, seqID int64) segment.Record {
	return segment.Record{Origin: origin, OriginSeq: seq, Producer: producer, SequenceID: seqID, Payload: []byte("x")}
}

func TestApplyReplicated(t *testing.T) {
	dir := t.TempDir()
	n := openTestNode(t, dir)
	name := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "g"}
	if !n.defaultGlobal() {
		t.Fatal("a multi-region node must create global streams by default")
	}
	off := apply(t, n, name, rec("b", 1, "p", 1), rec("b", 2, "p", 2))
	if !slices.Equal(off, []uint64{0, 1}) {
		t.Fatalf("offsets %v", off)
	}
	s, err := n.Stream(name)
	if err != nil || !s.Info().Global {
		t.Fatalf("stream created by a delivery: %v, %v", s, err)
	}
	// Already applied (by dot), a producer re-send from another region, and
	// a new one.
	off = apply(t, n, name, rec("b", 2, "p", 2), rec("c", 1, "p", 2), rec("c", 2, "q", 1))
	if !slices.Equal(off, []uint64{NotApplied, NotApplied, 2}) {
		t.Fatalf("offsets %v", off)
	}
	if got := s.AppliedOriginSeq("c"); got != 2 {
		t.Fatalf("applied c %d", got)
	}
	// A local stream of the same name receives nothing.
	local := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "l"}
	f := false
	if _, err := n.StreamForUse(local, &f); err != nil {
		t.Fatal(err)
	}
	if off := apply(t, n, local, rec("b", 3, "p", 9)); off[0] != NotApplied {
		t.Fatalf("local stream got %v", off)
	}
	// Non-persistent streams do not replicate.
	np := name
	np.Persistent = false
	n.ApplyReplicated(np, []segment.Record{rec("b", 4, "", 0)}, func(_ []uint64, err error) {
		if !errors.Is(err, ErrBadRequest) {
			t.Errorf("non-persistent: %v", err)
		}
	})
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	// After a restart the applied positions come back from the log's tail.
	n = openTestNode(t, dir)
	defer n.Close()
	s, err = n.Stream(name)
	if err != nil {
		t.Fatal(err)
	}
	if s.AppliedOriginSeq("b") != 2 || s.AppliedOriginSeq("c") != 2 {
		t.Fatalf("after restart: b %d c %d", s.AppliedOriginSeq("b"), s.AppliedOriginSeq("c"))
	}
	if off := apply(t, n, name, rec("b", 1, "p", 1), rec("b", 3, "p", 3)); !slices.Equal(off, []uint64{NotApplied, 3}) {
		t.Fatalf("after restart: offsets %v", off)
	}
}
