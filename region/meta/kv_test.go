package meta

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/region"
)

// readEventually reads key linearizably through g until it answers (the
// group may be electing a leader), bounded by waitFor.
func readEventually(t *testing.T, g *Group, key string) (string, bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		v, ok, err := g.Read(context.Background(), key)
		if err == nil {
			return v, ok
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("read %q: %v", key, err)
		}
	}
}

// TestKV: a value put through the group's leader is read on the other
// nodes (locally once applied, and linearizably), survives the proposing
// node's stop, and is there when that node restarts with its disk.
func TestKV(t *testing.T) {
	nodes := startRegion(t, 3)
	await(t, nodes[0].g(), "three nodes", func(s *region.State) bool { return len(s.Nodes) == 3 })
	var leader *testNode
	deadline := time.Now().Add(waitFor)
	for leader == nil {
		for _, n := range nodes {
			if n.g().Leading() {
				leader = n
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no leader of the group")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := context.Background()
	if err := leader.g().Put(ctx, "subscription/cursor/t/f/s/a", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := leader.g().Put(ctx, "subscription/cursor/t/f/s/b", "v2"); err != nil {
		t.Fatal(err)
	}
	if err := leader.g().Put(ctx, "other", "v3"); err != nil {
		t.Fatal(err)
	}
	if err := leader.g().Put(ctx, "big", strings.Repeat("v", region.MaxKVEntryBytes)); !errors.Is(err, region.ErrInvalid) {
		t.Fatalf("an oversize put: %v, want region.ErrInvalid", err)
	}
	var others []*testNode
	for _, n := range nodes {
		if n != leader {
			others = append(others, n)
		}
	}
	for _, n := range others {
		if v, ok := readEventually(t, n.g(), "subscription/cursor/t/f/s/a"); !ok || v != "v1" {
			t.Fatalf("node %d reads %q, %v; want v1", n.cfg.Node, v, ok)
		}
		awaitKV(t, n.g(), "other", "v3", true)
		if _, ok := n.g().Get("big"); ok {
			t.Fatal("a refused put is stored")
		}
		if n.g().Local().KV != nil {
			t.Fatal("Local carries the key-value map")
		}
	}

	leader.stop()
	g := others[0].g()
	if v, ok := readEventually(t, g, "subscription/cursor/t/f/s/b"); !ok || v != "v2" {
		t.Fatalf("after the proposing node's stop: %q, %v; want v2", v, ok)
	}
	if err := g.DeletePrefix(ctx, "subscription/cursor/t/f/s/"); err != nil {
		t.Fatal(err)
	}
	if err := g.Delete(ctx, "missing"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if err := g.Put(ctx, "after", "v4"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := others[1].g().Read(ctx, "subscription/cursor/t/f/s/a"); err != nil || ok {
		t.Fatalf("a key under a deleted prefix: found %v, %v", ok, err)
	}
	if v, ok := readEventually(t, others[1].g(), "other"); !ok || v != "v3" {
		t.Fatalf("a key outside the deleted prefix: %q, %v", v, ok)
	}

	leader.start(t)
	awaitKV(t, leader.g(), "after", "v4", true)
	awaitKV(t, leader.g(), "subscription/cursor/t/f/s/b", "", false)
	if v, ok := leader.g().Get("other"); !ok || v != "v3" {
		t.Fatalf("restarted node: other = %q, %v", v, ok)
	}
}

// awaitKV waits (bounded) until g's local state holds key = value (or
// lacks key, if !present).
func awaitKV(t *testing.T, g *Group, key, value string, present bool) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		ch := g.Changed()
		if v, ok := g.Get(key); ok == present && v == value {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			v, ok := g.Get(key)
			t.Fatalf("timed out waiting for %q = %q (present %v); have %q (present %v)", key, value, present, v, ok)
		}
	}
}
