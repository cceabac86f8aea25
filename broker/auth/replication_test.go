package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// fakeFabric stands for the replication shell between a few services: a
// publish is applied at once in its region, then queued for every other
// region, which applies its queue when told (deliver). Queues are FIFO
// and publishes are applied as they are made, so every region applies
// events in an order that respects causality, as the shell does.
type fakeFabric struct {
	t       *testing.T
	mu      sync.Mutex
	regions map[string]*fakeRegion
	queues  map[string][]fakeOp
	// down makes publishes fail, as a closed shell does.
	down bool
}

type fakeOp struct {
	origin  string
	seq     uint64
	payload []byte
}

// fakeRegion is one region's service and its Replication.
type fakeRegion struct {
	*harness
	name string
	f    *fakeFabric
	seq  uint64
}

func newFakeFabric(t *testing.T, cfg Config, names ...string) *fakeFabric {
	f := &fakeFabric{t: t, regions: map[string]*fakeRegion{}, queues: map[string][]fakeOp{}}
	for _, n := range names {
		r := &fakeRegion{harness: newHarness(t, cfg), name: n, f: f}
		r.svc.AttachReplication(r)
		f.regions[n] = r
	}
	return f
}

func (r *fakeRegion) Region() string { return r.name }

func (r *fakeRegion) PublishKeyEvent(payload []byte, done func(error)) {
	f := r.f
	f.mu.Lock()
	if f.down {
		f.mu.Unlock()
		done(fmt.Errorf("%w: fake replication closed", ErrUnavailable))
		return
	}
	r.seq++
	op := fakeOp{origin: r.name, seq: r.seq, payload: slices.Clone(payload)}
	for n := range f.regions {
		if n != r.name {
			f.queues[n] = append(f.queues[n], op)
		}
	}
	f.mu.Unlock()
	done(r.svc.ApplyReplicated(op.origin, op.seq, op.payload))
}

// deliver applies every op queued for region to; it returns the ops.
func (f *fakeFabric) deliver(to string) []fakeOp {
	f.t.Helper()
	f.mu.Lock()
	ops := f.queues[to]
	delete(f.queues, to)
	f.mu.Unlock()
	for _, op := range ops {
		if err := f.regions[to].svc.ApplyReplicated(op.origin, op.seq, op.payload); err != nil {
			f.t.Fatalf("%s applies %s/%d: %v", to, op.origin, op.seq, err)
		}
	}
	return ops
}

// get sends GET path as cred and returns the status.
func (r *fakeRegion) get(path, cred string) int {
	code, _ := r.do("GET", path, cred, nil)
	return code
}

// setGrants changes a key's permissions through the endpoint.
func (r *fakeRegion) setGrants(cred, tenant, id string, perms ...string) (int, KeyView) {
	r.t.Helper()
	code, body := r.do("PUT", "/_tenant/"+tenant+KeysPath+"/"+id+"/permissions", cred, GrantsRequest{Permissions: perms})
	var env struct{ Result KeyView }
	_ = json.Unmarshal(body, &env)
	return code, env.Result
}

// TestFabricKeyLifecycle: a key created in one region authenticates in the
// others once its event is applied there, with its grants; a grant change
// made anywhere restricts it everywhere; a revocation made anywhere ends
// the key, its tokens and its connections everywhere.
func TestFabricKeyLifecycle(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	f := newFakeFabric(t, Config{Enabled: on(), JWTSecret: secret}, "us-east", "eu-west")
	east, west := f.regions["us-east"], f.regions["eu-west"]
	admin, _ := east.createKey(east.root, "acme", "admin:*")
	key, id := east.createKey(admin, "acme", "read:fabric/f")

	const streamsF, streamsG = "/_fabric/f/_api/streams", "/_fabric/g/_api/streams"
	if code := west.get(streamsF, key); code != http.StatusUnauthorized {
		t.Fatalf("west knows the key before its event arrived: %d", code)
	}
	f.deliver("eu-west")
	if code := west.get(streamsF, key); code != http.StatusOK {
		t.Fatalf("west refuses east's key: %d", code)
	}
	if code := west.get(streamsG, key); code != http.StatusForbidden {
		t.Fatalf("west lets the key read a fabric it has no grant on: %d", code)
	}
	if _, err := west.svc.SCRAMCredential(id); err != nil {
		t.Fatalf("west has no SCRAM credential of the key: %v", err)
	}
	code, body := west.do("GET", "/_tenant/acme"+KeysPath+"/"+id, admin, nil)
	var env struct{ Result KeyView }
	if err := json.Unmarshal(body, &env); code != http.StatusOK || err != nil || env.Result.Origin != "us-east" {
		t.Fatalf("west's view of the key: %d %s", code, body)
	}

	// A grant change in west, with east's admin key (replicated too).
	if code, v := west.setGrants(admin, "acme", id, "read:fabric/g"); code != http.StatusOK || !slices.Equal(v.Permissions, []string{"read:fabric/g"}) {
		t.Fatalf("grant change in west: %d %+v", code, v)
	}
	if west.get(streamsF, key) != http.StatusForbidden || west.get(streamsG, key) != http.StatusOK {
		t.Fatal("west does not apply its own grant change")
	}
	f.deliver("us-east")
	if east.get(streamsF, key) != http.StatusForbidden || east.get(streamsG, key) != http.StatusOK {
		t.Fatal("east does not apply west's grant change")
	}

	// Connections and a token of the key in east; the revocation in west.
	_, tok := east.token(key, TokenRequest{ExpiresIn: "1h"})
	byKey, byToken := make(ended, 1), make(ended, 1)
	defer east.svc.Track(east.principal(key), byKey.end)()
	defer east.svc.Track(east.principal(tok), byToken.end)()
	west.must(t, "DELETE", KeysPath+"/"+id, "/_tenant/acme", admin)
	if code := west.get(streamsG, key); code != http.StatusUnauthorized {
		t.Fatalf("west accepts the key it revoked: %d", code)
	}
	byKey.none(t, "before the revocation reached east")
	f.deliver("us-east")
	for what, e := range map[string]ended{"the key's connection": byKey, "the token's connection": byToken} {
		if err := e.wait(t, what); !errors.Is(err, ErrSessionRevoked) {
			t.Fatalf("%s ended with %v", what, err)
		}
	}
	for _, cred := range []string{key, tok} {
		if code := east.get(streamsG, cred); code != http.StatusUnauthorized {
			t.Fatalf("east accepts a revoked credential: %d", code)
		}
	}
	if code, _ := east.setGrants(admin, "acme", id, "read:*"); code != http.StatusNotFound {
		t.Fatalf("grant change of a revoked key: %d", code)
	}
	if east.svc.Sessions(id) != 0 {
		t.Fatal("connections of the revoked key are still tracked")
	}
}

// TestFabricRevocationIsPermanent: the key's creation and grant changes
// applied again after its revocation (a restart re-applying a journal
// tail, a slow peer) do not bring it back, in the region that revoked it
// or in another, and neither does a restart.
func TestFabricRevocationIsPermanent(t *testing.T) {
	f := newFakeFabric(t, Config{Enabled: on()}, "a", "b", "c")
	a, b, c := f.regions["a"], f.regions["b"], f.regions["c"]
	key, id := a.createKey(a.root, "acme", "read:*")
	history := f.deliver("b") // the creation
	f.deliver("c")
	if code, _ := b.setGrants(b.root, "acme", id, "write:*"); code != http.StatusOK {
		t.Fatalf("grant change in b: %d", code)
	}
	history = append(history, f.deliver("a")...) // the grant change
	f.deliver("c")
	c.must(t, "DELETE", KeysPath+"/"+id, "/_tenant/acme", c.root)
	f.deliver("a")
	f.deliver("b")
	for _, r := range []*fakeRegion{a, b, c} {
		for _, op := range history {
			if err := r.svc.ApplyReplicated(op.origin, op.seq, op.payload); err != nil {
				t.Fatalf("%s: a late event is refused (it should be ignored): %v", r.name, err)
			}
		}
		if code := r.get("/_fabric/f/_api/streams", key); code != http.StatusUnauthorized {
			t.Fatalf("%s: the revoked key is back: %d", r.name, code)
		}
		again, err := New(Config{Enabled: on()}, r.kv, Options{Now: r.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := again.Authenticate(key); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("%s: the revoked key is back after a restart: %v", r.name, err)
		}
		if !again.store.state(id).Revoked() {
			t.Fatalf("%s: the tombstone is gone after a restart", r.name)
		}
		// The clock restarts past every stamp stored.
		if st := again.stamp(r.name); st.Compare(again.store.maxStamp()) <= 0 {
			t.Fatalf("%s: a new stamp %s is not past the stored %s", r.name, st, again.store.maxStamp())
		}
	}
}

// TestFabricConcurrentGrants: two regions change a key's grants without
// seeing each other's change; both converge to the change of the higher
// (HLC, region) stamp.
func TestFabricConcurrentGrants(t *testing.T) {
	f := newFakeFabric(t, Config{Enabled: on()}, "us-east", "eu-west")
	east, west := f.regions["us-east"], f.regions["eu-west"]
	_, id := east.createKey(east.root, "acme", "read:*")
	f.deliver("eu-west")
	// Both clocks read the same time: the HLCs tie and the region decides.
	east.setGrants(east.root, "acme", id, "read:fabric/east")
	west.setGrants(west.root, "acme", id, "read:fabric/west")
	f.deliver("us-east")
	f.deliver("eu-west")
	for _, r := range []*fakeRegion{east, west} {
		k, _ := r.svc.store.get(id)
		if !slices.Equal(k.Permissions, []string{"read:fabric/east"}) {
			t.Fatalf("%s: permissions %v, want us-east's (the higher region at equal HLCs)", r.name, k.Permissions)
		}
	}
	// A change made after seeing the other wins, even from the lower
	// region.
	west.setGrants(west.root, "acme", id, "read:fabric/later")
	f.deliver("us-east")
	for _, r := range []*fakeRegion{east, west} {
		if k, _ := r.svc.store.get(id); !slices.Equal(k.Permissions, []string{"read:fabric/later"}) {
			t.Fatalf("%s: permissions %v, want the later change", r.name, k.Permissions)
		}
	}
}

// TestFabricRefusesBadEvents: bad events from a peer are refused with an
// error, counted, and change nothing in the store.
func TestFabricRefusesBadEvents(t *testing.T) {
	f := newFakeFabric(t, Config{Enabled: on()}, "us-east", "eu-west")
	east, west := f.regions["us-east"], f.regions["eu-west"]
	_, id := east.createKey(east.root, "acme", "read:*")
	ops := f.deliver("eu-west")
	good := ops[0].payload

	forged, err := DecodeEvent(good)
	if err != nil {
		t.Fatal(err)
	}
	rec := *forged.Record
	rec.Hash = HashKey("cwk_another")
	forged.Record, forged.Stamp.Wall = &rec, forged.Stamp.Wall+1
	conflict, err := AppendEvent(nil, forged)
	if err != nil {
		t.Fatal(err)
	}
	stealth := Event{Type: EventRevoke, Key: id, Tenant: "other", Stamp: Stamp{Wall: 1, Region: "us-east"}}
	otherTenant, err := AppendEvent(nil, stealth)
	if err != nil {
		t.Fatal(err)
	}
	before := maps.Clone(west.kv.m)
	for _, tc := range []struct {
		name    string
		origin  string
		payload []byte
		want    error
	}{
		{"undecodable", "us-east", []byte("\x01{not json"), ErrBadEvent},
		{"empty", "us-east", nil, ErrBadEvent},
		{"oversized", "us-east", make([]byte, maxEventBytes+1), ErrBadEvent},
		{"unknown tenant", "us-east", []byte(`` + "\x01" + `{"type":"revoke","key":"` + id + `","tenant":"../acme","stamp":{"wall":1,"region":"us-east"}}`), ErrBadEvent},
		{"revocation for another tenant's key", "us-east", otherTenant, ErrBadEvent},
		{"shipped by another region", "ap-south", good, ErrBadEvent},
		{"another key under the id", "us-east", conflict, ErrKeyConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := west.svc.Metrics().KeyEventsRefused.Load()
			if err := west.svc.ApplyReplicated(tc.origin, 99, tc.payload); !errors.Is(err, tc.want) {
				t.Fatalf("ApplyReplicated: %v, want %v", err, tc.want)
			}
			if west.svc.Metrics().KeyEventsRefused.Load() != refused+1 {
				t.Fatal("the refusal was not counted")
			}
			if !maps.EqualFunc(before, west.kv.m, func(x, y []byte) bool { return string(x) == string(y) }) {
				t.Fatal("a refused event changed the store")
			}
		})
	}
	if k, ok := west.svc.store.get(id); !ok || k.Hash == forged.Record.Hash {
		t.Fatalf("the key is gone or replaced: %+v", k)
	}
}

// TestFabricKeyErrors: the key endpoints of a multi-region node refuse
// what a single node refuses, and answer 503 when the replication is
// unavailable, with nothing stored.
func TestFabricKeyErrors(t *testing.T) {
	f := newFakeFabric(t, Config{Enabled: on(), MaxKeysPerTenant: 2}, "us-east", "eu-west")
	east := f.regions["us-east"]
	_, id := east.createKey(east.root, "acme", "read:*")
	east.createKey(east.root, "acme", "read:*")
	if code, body := east.do("POST", "/_tenant/acme"+KeysPath, east.root, KeyRequest{Permissions: []string{"read:*"}}); code != http.StatusTooManyRequests {
		t.Fatalf("a third key: %d %s", code, body)
	}
	if code, _ := east.do("DELETE", "/_tenant/other"+KeysPath+"/"+id, east.root, nil); code != http.StatusNotFound {
		t.Fatalf("revocation through another tenant: %d", code)
	}
	if code, _ := east.setGrants(east.root, "other", id, "read:*"); code != http.StatusNotFound {
		t.Fatalf("grant change through another tenant: %d", code)
	}
	if code, _ := east.setGrants(east.root, "acme", id); code != http.StatusBadRequest {
		t.Fatalf("grant change to no permission: %d", code)
	}
	// Only a superuser changes a superuser key's permissions.
	tenantAdmin, _ := east.createKey(east.root, "_mm", "admin:*")
	if code, _ := east.setGrants(tenantAdmin, "_mm", mustKeyID(t, east.root), "read:*"); code != http.StatusForbidden {
		t.Fatalf("a tenant admin changes a superuser key: %d", code)
	}
	reader, _ := east.createKey(east.root, "beta", "read:*")
	_, victim := east.createKey(east.root, "beta", "read:fabric/f")
	if code, _ := east.setGrants(reader, "beta", victim, "admin:*"); code != http.StatusForbidden {
		t.Fatalf("a reader changes grants: %d", code)
	}
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	keys := len(east.svc.store.list("gamma"))
	if code, _ := east.do("POST", "/_tenant/gamma"+KeysPath, east.root, KeyRequest{Permissions: []string{"read:*"}}); code != http.StatusServiceUnavailable {
		t.Fatalf("create without replication: %d", code)
	}
	if len(east.svc.store.list("gamma")) != keys {
		t.Fatal("a key was stored although it could not be replicated")
	}
	if code, _ := east.do("DELETE", "/_tenant/acme"+KeysPath+"/"+id, east.root, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("revoke without replication: %d", code)
	}
}

// TestSingleRegionGrantChange: without replication a grant change applies
// here, and keys stay this node's.
func TestSingleRegionGrantChange(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	key, id := hs.createKey(hs.root, "acme", "read:fabric/f")
	r := &fakeRegion{harness: hs}
	if code, v := r.setGrants(hs.root, "acme", id, "read:fabric/g"); code != http.StatusOK || v.Origin != "" {
		t.Fatalf("grant change: %d %+v", code, v)
	}
	if r.get("/_fabric/f/_api/streams", key) != http.StatusForbidden || r.get("/_fabric/g/_api/streams", key) != http.StatusOK {
		t.Fatal("the grant change is not applied")
	}
	if _, found, _ := hs.kv.Get(kvTombPrefix + id); found {
		t.Fatal("a single node wrote a tombstone")
	}
}

// TestRevokedAdminKeyNotRestored: a configured admin key revoked
// fabric-wide is not created again at the next start.
func TestRevokedAdminKeyNotRestored(t *testing.T) {
	_, admin, _ := NewKey(rand.Reader)
	f := newFakeFabric(t, Config{Enabled: on(), AdminKey: admin}, "us-east", "eu-west")
	east, west := f.regions["us-east"], f.regions["eu-west"]
	id, _ := KeyID(admin)
	east.must(t, "DELETE", KeysPath+"/"+id, "", admin)
	f.deliver("eu-west")
	for _, r := range []*fakeRegion{east, west} {
		if _, err := r.svc.Authenticate(admin); err == nil {
			t.Fatalf("%s: the revoked admin key works", r.name)
		}
		again, err := New(Config{Enabled: on(), AdminKey: admin}, r.kv, Options{Now: r.clock.Now})
		if err != nil {
			t.Fatalf("%s: restart: %v", r.name, err)
		}
		if _, err := again.Authenticate(admin); err == nil {
			t.Fatalf("%s: the revoked admin key is back after a restart", r.name)
		}
	}
}
