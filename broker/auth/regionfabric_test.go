package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGeo stands for a geo-replicated region of several nodes (one map,
// one replication running on one node at a time: runner) and one remote
// region of one node. A publish on the runner journals the event, applies
// it there and queues it for the remote region; the remote region's
// events are applied by the runner when delivered. reapply applies the
// whole journal again on the runner (a new runner's journal tails).
type fakeGeo struct {
	t      *testing.T
	m      *memRegionMap
	nodes  []*regionNode
	remote *regionNode

	mu      sync.Mutex
	runner  int // index of the node running the replication, -1 for none
	journal []fakeOp
	toEU    []fakeOp
	toUS    []fakeOp // the remote region's events
}

// euRepl is the remote region's replication.
type euRepl struct{ g *fakeGeo }

func (r euRepl) Region() string { return "eu-west" }

func (r euRepl) PublishKeyEvent(payload []byte, done func(error)) {
	g := r.g
	g.mu.Lock()
	op := fakeOp{origin: "eu-west", seq: uint64(len(g.toUS) + 1), payload: slices.Clone(payload)}
	g.toUS = append(g.toUS, op)
	g.mu.Unlock()
	done(g.remote.svc.ApplyReplicated(op.origin, op.seq, op.payload))
}

// geoNode is one node's replication: a RegionReplication.
type geoNode struct {
	g *fakeGeo
	i int
}

func (n geoNode) Region() string { return "us-east" }

func (n geoNode) Leading() bool {
	n.g.mu.Lock()
	defer n.g.mu.Unlock()
	return n.g.runner == n.i
}

func (n geoNode) PublishKeyEvent(payload []byte, done func(error)) {
	g := n.g
	g.mu.Lock()
	if g.runner != n.i {
		g.mu.Unlock()
		done(fmt.Errorf("%w: not leading", ErrUnavailable))
		return
	}
	op := fakeOp{origin: "us-east", seq: uint64(len(g.journal) + 1), payload: slices.Clone(payload)}
	g.journal = append(g.journal, op)
	g.toEU = append(g.toEU, op)
	g.mu.Unlock()
	done(g.nodes[n.i].svc.ApplyReplicated(op.origin, op.seq, op.payload))
}

func newFakeGeo(t *testing.T, admin string, nodes int, kvs ...*memKV) *fakeGeo {
	g := &fakeGeo{t: t, m: newMemRegionMap(), runner: 0}
	cfg := Config{Enabled: on(), AdminKey: admin}
	for i := range nodes {
		kv := newMemKV()
		if i < len(kvs) {
			kv = kvs[i]
		}
		hs := newHarnessOver(t, cfg, kv)
		hs.clock.Advance(time.Duration(i) * time.Millisecond) // nodes' clocks differ
		if err := hs.svc.UseRegion("us-east", testRegionSecret); err != nil {
			t.Fatal(err)
		}
		hs.svc.AttachReplication(geoNode{g: g, i: i})
		n := &regionNode{harness: hs}
		n.detach = hs.svc.AttachRegion(g.m)
		t.Cleanup(n.detach)
		g.nodes = append(g.nodes, n)
	}
	// The remote region, one node.
	g.remote = &regionNode{harness: newHarness(t, cfg)}
	g.remote.svc.AttachReplication(euRepl{g: g})
	return g
}

func (g *fakeGeo) setRunner(i int) {
	g.mu.Lock()
	g.runner = i
	g.mu.Unlock()
}

// fromEU applies the remote region's published events on the runner.
func (g *fakeGeo) fromEU() {
	g.t.Helper()
	g.mu.Lock()
	r, ops := g.runner, g.toUS
	g.toUS = nil
	g.mu.Unlock()
	for _, op := range ops {
		if err := g.nodes[r].svc.ApplyReplicated(op.origin, op.seq, op.payload); err != nil {
			g.t.Fatalf("the runner applies %s/%d: %v", op.origin, op.seq, err)
		}
	}
}

// toRemote applies this region's journaled events in the remote region.
func (g *fakeGeo) toRemote() {
	g.t.Helper()
	g.mu.Lock()
	ops := g.toEU
	g.toEU = nil
	g.mu.Unlock()
	for _, op := range ops {
		if err := g.remote.svc.ApplyReplicated(op.origin, op.seq, op.payload); err != nil {
			g.t.Fatalf("eu-west applies %s/%d: %v", op.origin, op.seq, err)
		}
	}
}

// TestGeoRegionKeys: in a geo-replicated region of three nodes a key
// created through a node that does not run the replication is journaled
// by the runner, accepted by every node and by the remote region; a key
// of the remote region is accepted by every node once the runner applies
// it; a grant change and a revocation made on any node reach every node
// and the remote region, and the revocation ends the key's connections on
// another node; a key created while no node runs the replication waits in
// the outbox and is journaled by the next runner; journal tails applied
// again change nothing.
func TestGeoRegionKeys(t *testing.T) {
	admin := sharedAdminKey(t)
	g := newFakeGeo(t, admin, 3)
	nodes := g.nodes
	awaitAccepts(t, "the admin key on every node", admin, true, nodes...)

	// Created through node 2, which does not run the replication.
	key, id := nodes[1].createKey(admin, "A", "read:*")
	if !nodes[1].accepts(key) {
		t.Fatal("the creating node refuses the key when it answers")
	}
	awaitAccepts(t, "the key on every node", key, true, nodes...)
	g.mu.Lock()
	journaled := len(g.journal)
	g.mu.Unlock()
	if journaled != 1 {
		t.Fatalf("%d events journaled, want 1", journaled)
	}
	if k, _ := nodes[2].svc.store.get(id); k.Origin != "us-east" {
		t.Fatalf("the key's origin: %q", k.Origin)
	}
	g.toRemote()
	if !g.remote.accepts(key) {
		t.Fatal("the remote region refuses the key")
	}

	// A key of the remote region: every node accepts it once the runner
	// applied it.
	euKey, euID := g.remote.createKey(admin, "A", "read:*")
	if nodes[2].accepts(euKey) {
		t.Fatal("a node accepts the remote key before it was replicated")
	}
	g.fromEU()
	awaitAccepts(t, "the remote key on every node", euKey, true, nodes...)

	// A grant change through node 3 of the remote key reaches the remote
	// region.
	if _, err := nodes[2].svc.SetGrants(context.Background(), "A", euID, []string{"write:*"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the grant change on node 1", func() bool {
		k, _ := nodes[0].svc.store.get(euID)
		return slices.Equal(k.Permissions, []string{"write:*"})
	})
	g.toRemote()
	if k, _ := g.remote.svc.store.get(euID); !slices.Equal(k.Permissions, []string{"write:*"}) {
		t.Fatalf("the remote region's key after the grant change: %+v", k)
	}

	// Revoked through node 3: node 1's connection of the key ends, every
	// node and the remote region refuse it.
	conn := make(ended, 1)
	defer nodes[0].svc.Track(nodes[0].principal(key), conn.end)()
	if err := nodes[2].svc.Revoke("A", id); err != nil {
		t.Fatal(err)
	}
	if nodes[2].accepts(key) {
		t.Fatal("the revoking node accepts the key when Revoke returns")
	}
	awaitAccepts(t, "the revoked key refused on every node", key, false, nodes...)
	if err := conn.wait(t, "node 1's connection of the revoked key"); !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("the connection ended with %v", err)
	}
	g.toRemote()
	if g.remote.accepts(key) {
		t.Fatal("the remote region accepts the revoked key")
	}
	// One entry per key is left: the decided state.
	for _, k := range []string{id, euID} {
		if es, _ := g.m.Scan(context.Background(), fabricPrefixOf(k)); len(es) != 1 {
			t.Fatalf("key %s: %d entries, want 1", k, len(es))
		}
	}

	// No node runs the replication: a creation waits in the outbox; node 3
	// takes over and journals it; the creation answers.
	g.setRunner(-1)
	type created struct {
		code int
		body []byte
	}
	out := make(chan created, 1)
	go func() {
		code, body := nodes[0].do("POST", "/_tenant/A"+KeysPath, admin, KeyRequest{Permissions: []string{"read:*"}})
		out <- created{code, body}
	}()
	waitFor(t, "the event in the outbox", func() bool {
		es, _ := g.m.Scan(context.Background(), regionOutboxPrefix)
		return len(es) == 1
	})
	g.setRunner(2)
	res := <-out
	if res.code != http.StatusCreated {
		t.Fatalf("creation across the failover: %d %s", res.code, res.body)
	}
	var view struct{ Result KeyView }
	if err := json.Unmarshal(res.body, &view); err != nil {
		t.Fatal(err)
	}
	awaitAccepts(t, "the key created across the failover on every node", view.Result.Key, true, nodes...)
	waitFor(t, "the outbox emptied", func() bool {
		es, _ := g.m.Scan(context.Background(), regionOutboxPrefix)
		return len(es) == 0
	})

	// The new runner applies the whole journal again: nothing changes.
	g.mu.Lock()
	ops := slices.Clone(g.journal)
	g.mu.Unlock()
	before := nodes[2].svc.Metrics().KeyEventsApplied.Load()
	for _, op := range ops {
		if err := nodes[2].svc.ApplyReplicated(op.origin, op.seq, op.payload); err != nil {
			t.Fatal(err)
		}
	}
	if after := nodes[2].svc.Metrics().KeyEventsApplied.Load(); after != before {
		t.Fatalf("re-applying the journal applied %d events", after-before)
	}
	awaitAccepts(t, "the revoked key still refused", key, false, nodes...)
	awaitAccepts(t, "the remote key still accepted", euKey, true, nodes...)
}

// TestGeoRegionKeysWithoutQuorum: a key event the region's map cannot
// take is ErrUnavailable (the replication applies it again later) and
// changes nothing; a creation while the map does not answer is 503; a
// bad event is refused.
func TestGeoRegionKeysWithoutQuorum(t *testing.T) {
	admin := sharedAdminKey(t)
	g := newFakeGeo(t, admin, 2)
	awaitAccepts(t, "the admin key on every node", admin, true, g.nodes...)
	euKey, _ := g.remote.createKey(admin, "A", "read:*")
	g.mu.Lock()
	ops := g.toUS
	g.mu.Unlock()
	if len(ops) != 1 {
		t.Fatalf("%d remote events", len(ops))
	}
	g.m.setDown(true)
	if err := g.nodes[0].svc.ApplyReplicated(ops[0].origin, ops[0].seq, ops[0].payload); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("applying without quorum: %v", err)
	}
	if code, body := g.nodes[1].do("POST", "/_tenant/A"+KeysPath, admin, KeyRequest{Permissions: []string{"read:*"}}); code != http.StatusServiceUnavailable {
		t.Fatalf("creating without quorum: %d %s", code, body)
	}
	g.m.setDown(false)
	if err := g.nodes[0].svc.ApplyReplicated(ops[0].origin, ops[0].seq, ops[0].payload); err != nil {
		t.Fatal(err)
	}
	awaitAccepts(t, "the remote key once applied", euKey, true, g.nodes...)

	bad := slices.Clone(ops[0].payload)
	bad = []byte(strings.Replace(string(bad), `"eu-west"`, `"ap-south"`, 1))
	if err := g.nodes[0].svc.ApplyReplicated("eu-west", 9, bad); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("an event of another region: %v", err)
	}
	if err := g.nodes[0].svc.ApplyReplicated("eu-west", 10, []byte("junk")); !errors.Is(err, ErrBadEvent) {
		t.Fatalf("junk: %v", err)
	}
}

// TestGeoRegionTakesANodesFabricKeys: a node that ran as a region of its
// own in a fabric holds fabric-wide keys and tombstones in its own store;
// once it is a node of a geo-replicated region of several nodes they are
// the region's map entries: every node accepts the key and refuses the
// revoked one.
func TestGeoRegionTakesANodesFabricKeys(t *testing.T) {
	admin := sharedAdminKey(t)
	kv := newMemKV()
	solo := &regionNode{harness: newHarnessOver(t, Config{Enabled: on(), AdminKey: admin}, kv)}
	var keys []string
	var ids []string
	for i := range 2 {
		id, plain, err := NewKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rec := KeyRecord{ID: id, Tenant: "acme", Hash: HashKey(plain), Permissions: []string{"read:*"}, CreatedAt: 1, Origin: "eu-west"}
		evs := []Event{{Type: EventCreate, Key: id, Tenant: "acme", Stamp: Stamp{Wall: int64(100 + i), Region: "eu-west"}, Record: &rec}}
		if i == 1 {
			evs = append(evs, Event{Type: EventRevoke, Key: id, Tenant: "acme", Stamp: Stamp{Wall: 200, Region: "eu-west"}, At: 2})
		}
		for j, ev := range evs {
			b, err := AppendEvent(nil, ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := solo.svc.ApplyReplicated("eu-west", uint64(10*i+j), b); err != nil {
				t.Fatal(err)
			}
		}
		keys, ids = append(keys, plain), append(ids, id)
	}
	if !solo.accepts(keys[0]) || solo.accepts(keys[1]) {
		t.Fatal("the node of its own: the keys' states")
	}

	g := newFakeGeo(t, admin, 3, kv)
	awaitAccepts(t, "the node's fabric-wide key on every node", keys[0], true, g.nodes...)
	awaitAccepts(t, "the node's revoked key refused on every node", keys[1], false, g.nodes...)
	for _, id := range ids {
		if es, _ := g.m.Scan(context.Background(), fabricPrefixOf(id)); len(es) != 1 {
			t.Fatalf("key %s: %d map entries, want 1", id, len(es))
		}
	}
	if g.nodes[0].svc.store.ownHas(ids[0]) {
		t.Fatal("the node still holds its own record of the key handed over")
	}
	if k, _ := g.nodes[2].svc.store.get(ids[0]); k.Stamp == nil || k.Stamp.Wall != 100 {
		t.Fatalf("the key's stamp on another node: %+v", k.Stamp)
	}
}

// TestEventsOfOwnState: the events a node hands over rebuild exactly
// what its store knew; a record that is not the fabric's has none.
func TestEventsOfOwnState(t *testing.T) {
	st, _ := Merge(KeyState{}, mG1)
	ev, ok := eventOfRecord(*st.Record)
	if !ok {
		t.Fatal("no event of a fabric-wide record")
	}
	if got, _ := Merge(KeyState{}, ev); !got.Equal(st) {
		t.Fatalf("the record's event makes %+v, want %+v", got, st)
	}
	tomb, _ := Merge(KeyState{}, mR2)
	ev, ok = eventOfTomb(mkID, *tomb.Tomb)
	if got, _ := Merge(KeyState{}, ev); !ok || !got.Equal(tomb) {
		t.Fatalf("the tombstone's event makes %+v, want %+v", got, tomb)
	}
	local := *st.Record
	local.Origin = ""
	if _, ok := eventOfRecord(local); ok {
		t.Fatal("an event of a record without an origin")
	}
	local = *st.Record
	local.Stamp = nil
	if _, ok := eventOfRecord(local); ok {
		t.Fatal("an event of a record without a stamp")
	}
}
