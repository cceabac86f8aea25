package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// memRegionMap is an in-memory RegionMap shared by the services of a test
// region; down makes its reads and writes fail as a map without quorum
// does (Get, a local read, still answers).
type memRegionMap struct {
	mu      sync.Mutex
	m       map[string]string
	changed chan struct{}
	down    bool
	scans   int
}

func newMemRegionMap() *memRegionMap {
	return &memRegionMap{m: map[string]string{}, changed: make(chan struct{})}
}

func (f *memRegionMap) Get(key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[key]
	return v, ok
}

func (f *memRegionMap) Scan(ctx context.Context, prefix string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fmt.Errorf("%w: no quorum", ErrUnavailable)
	}
	f.scans++
	out := map[string]string{}
	for k, v := range f.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

func (f *memRegionMap) write(key string, value *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return fmt.Errorf("%w: no quorum", ErrUnavailable)
	}
	if value == nil {
		delete(f.m, key)
	} else {
		f.m[key] = *value
	}
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

func (f *memRegionMap) Put(_ context.Context, key, value string) error { return f.write(key, &value) }
func (f *memRegionMap) Delete(_ context.Context, key string) error     { return f.write(key, nil) }

func (f *memRegionMap) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *memRegionMap) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
	if !down {
		_ = f.write("heartbeat", new(string)) // an applied entry wakes the watchers
	}
}

func (f *memRegionMap) scanCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scans
}

const testRegionSecret = "region-secret-for-tests-0123456789"

// regionNode is a harness whose service is one node of a test region.
type regionNode struct {
	*harness
	detach func()
}

// joinRegion opens a node over kv (a new one if nil) with cfg, makes its
// token secret the region's and attaches it to m.
func joinRegion(t *testing.T, cfg Config, kv *memKV, m *memRegionMap) *regionNode {
	t.Helper()
	if kv == nil {
		kv = newMemKV()
	}
	hs := newHarnessOver(t, cfg, kv)
	if err := hs.svc.UseRegion("us-east", testRegionSecret); err != nil {
		t.Fatal(err)
	}
	n := &regionNode{harness: hs}
	if m != nil {
		n.detach = hs.svc.AttachRegion(m)
		t.Cleanup(n.detach)
	}
	return n
}

// accepts reports whether the node authenticates cred.
func (n *regionNode) accepts(cred string) bool {
	_, err := n.svc.Authenticate(cred)
	return err == nil
}

// awaitAccepts waits until every node accepts cred (want) or refuses it.
func awaitAccepts(t *testing.T, what, cred string, want bool, nodes ...*regionNode) {
	t.Helper()
	waitFor(t, what, func() bool {
		for _, n := range nodes {
			if n.accepts(cred) != want {
				return false
			}
		}
		return true
	})
}

func sharedAdminKey(t *testing.T) string {
	t.Helper()
	_, key, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestRegionKeysAreTheRegions: three nodes over one region map. A key
// created through one node authenticates on the others; a token issued by
// one verifies on another; a grant change through one is seen by the
// others; a revocation through one is refused everywhere and ends the
// key's connections on every node; every node lists the same keys.
func TestRegionKeysAreTheRegions(t *testing.T) {
	m := newMemRegionMap()
	admin := sharedAdminKey(t)
	cfg := Config{Enabled: on(), AdminKey: admin}
	nodes := []*regionNode{joinRegion(t, cfg, nil, m), joinRegion(t, cfg, nil, m), joinRegion(t, cfg, nil, m)}
	adminID, _ := KeyID(admin)
	waitFor(t, "the admin key handed to the region", func() bool {
		_, held := m.Get(regionKeyPrefix + adminID)
		return held && !nodes[0].svc.store.ownHas(adminID) && !nodes[1].svc.store.ownHas(adminID) && !nodes[2].svc.store.ownHas(adminID)
	})
	awaitAccepts(t, "the admin key on every node", admin, true, nodes...)

	key, id := nodes[0].createKey(admin, "A", "read:*")
	if _, held := m.Get(regionKeyPrefix + id); !held {
		t.Fatal("the key is not in the region's map")
	}
	if !nodes[0].accepts(key) {
		t.Fatal("the node that created the key refuses it")
	}
	awaitAccepts(t, "the key on nodes 2 and 3", key, true, nodes[1:]...)
	for i, n := range nodes {
		if ks := n.svc.store.list("A"); len(ks) != 1 || ks[0].ID != id {
			t.Fatalf("node %d lists %+v", i+1, ks)
		}
	}

	// A token issued by node 2 verifies on node 1 and 3.
	code, tok := nodes[1].token(key, TokenRequest{ExpiresIn: "1h"})
	if code != http.StatusOK {
		t.Fatalf("token: %d", code)
	}
	for i, n := range nodes {
		if p, err := n.svc.Authenticate(tok); err != nil || p.KeyID != id {
			t.Fatalf("node %d: token of node 2: %v %+v", i+1, err, p)
		}
	}

	// A grant change through node 3 is node 1's too.
	if _, err := nodes[2].svc.SetGrants(context.Background(), "A", id, []string{"write:*"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the grant change on node 1", func() bool {
		k, ok := nodes[0].svc.store.get(id)
		return ok && len(k.Permissions) == 1 && k.Permissions[0] == "write:*"
	})

	// Connections of the key on node 1 (the key and its token), revoked
	// through node 3.
	byKey, byToken := make(ended, 1), make(ended, 1)
	defer nodes[0].svc.Track(nodes[0].principal(key), byKey.end)()
	defer nodes[0].svc.Track(nodes[0].principal(tok), byToken.end)()
	if err := nodes[2].svc.Revoke("B", id); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("revoke from another tenant: %v", err)
	}
	if err := nodes[2].svc.Revoke("A", id); err != nil {
		t.Fatal(err)
	}
	if nodes[2].accepts(key) || nodes[2].accepts(tok) {
		t.Fatal("the revoking node accepts the key when Revoke returns")
	}
	start := time.Now()
	awaitAccepts(t, "the key refused on every node", key, false, nodes...)
	awaitAccepts(t, "the token refused on every node", tok, false, nodes...)
	for what, e := range map[string]ended{"key": byKey, "token": byToken} {
		if err := e.wait(t, "the "+what+"'s connection on node 1"); !errors.Is(err, ErrSessionRevoked) {
			t.Fatalf("the %s's connection ended with %v", what, err)
		}
	}
	t.Logf("revocation through node 3 seen on every node after %v", time.Since(start))
	for i, n := range nodes {
		if ks := n.svc.store.list("A"); len(ks) != 0 {
			t.Fatalf("node %d lists a revoked key: %+v", i+1, ks)
		}
	}
	if code, body := nodes[0].do("DELETE", "/_tenant/A"+KeysPath+"/"+id, admin, nil); code != http.StatusNotFound {
		t.Fatalf("revoke again: %d %s", code, body)
	}
}

// TestRegionKeysBeforeTheGroupRuns: a node whose region's map does not
// answer yet accepts its own configured admin key, not the region's keys
// (it has not read them); once the map answers it accepts them and hands
// its own keys over. A key created while the map does not answer is 503.
func TestRegionKeysBeforeTheGroupRuns(t *testing.T) {
	m := newMemRegionMap()
	admin := sharedAdminKey(t)
	cfg := Config{Enabled: on(), AdminKey: admin}
	first := joinRegion(t, cfg, nil, m)
	awaitAccepts(t, "the admin key", admin, true, first)
	key, _ := first.createKey(admin, "A", "read:*")

	m.setDown(true)
	late := joinRegion(t, cfg, nil, m)
	if !late.accepts(admin) {
		t.Fatal("a node whose region's map does not answer refuses its configured admin key")
	}
	if late.accepts(key) {
		t.Fatal("a node that never read the region's keys accepts one")
	}
	if code, body := first.do("POST", "/_tenant/A"+KeysPath, admin, KeyRequest{Permissions: []string{"read:*"}}); code != http.StatusServiceUnavailable {
		t.Fatalf("create a key without quorum: %d %s", code, body)
	}
	m.setDown(false)
	awaitAccepts(t, "the region's key once the map answers", key, true, late)
	adminID, _ := KeyID(admin)
	waitFor(t, "the late node's admin key handed over", func() bool { return !late.svc.store.ownHas(adminID) })
	if !late.accepts(admin) {
		t.Fatal("the admin key is refused once handed over")
	}
}

// TestRegionBootstrapKeyHandedOver: a node without a configured admin key
// generates a superuser key at its first start, hands it to the region
// (the other nodes accept it) and, restarted, generates none: its key is
// the region's.
func TestRegionBootstrapKeyHandedOver(t *testing.T) {
	m := newMemRegionMap()
	kv := newMemKV()
	first := joinRegion(t, Config{Enabled: on()}, kv, m)
	root := first.svc.BootstrapKey()
	if root == "" {
		t.Fatal("no bootstrap key at the first start")
	}
	other := joinRegion(t, Config{Enabled: on(), AdminKey: sharedAdminKey(t)}, nil, m)
	awaitAccepts(t, "the bootstrap key on the other node", root, true, other)
	id, _ := KeyID(root)
	waitFor(t, "the bootstrap key dropped locally", func() bool { return !first.svc.store.ownHas(id) })
	first.detach()

	again := joinRegion(t, Config{Enabled: on()}, kv, nil)
	if k := again.svc.BootstrapKey(); k != "" {
		t.Fatal("a region member generated another superuser key at its restart")
	}
	if again.accepts(root) {
		t.Fatal("the key was kept locally after it was handed over")
	}
	again.detach = again.svc.AttachRegion(m)
	t.Cleanup(again.detach)
	awaitAccepts(t, "the region's key after the restart", root, true, again)
}

// TestRegionRevokedAdminKey: a configured admin key revoked in the region
// is dropped by a node once it reads the region's keys (it accepts it
// before: its own configured key), and not handed over again.
func TestRegionRevokedAdminKey(t *testing.T) {
	m := newMemRegionMap()
	admin := sharedAdminKey(t)
	cfg := Config{Enabled: on(), AdminKey: admin}
	a := joinRegion(t, cfg, nil, m)
	other := sharedAdminKey(t)
	b := joinRegion(t, Config{Enabled: on(), AdminKey: other}, nil, m)
	awaitAccepts(t, "both admin keys", admin, true, a, b)
	adminID, _ := KeyID(admin)
	if err := b.svc.Revoke("_mm", adminID); err != nil {
		t.Fatal(err)
	}
	awaitAccepts(t, "the revoked admin key refused", admin, false, a, b)

	m.setDown(true)
	c := joinRegion(t, cfg, nil, m)
	if !c.accepts(admin) {
		t.Fatal("before it reads the region's keys a node refuses its configured admin key")
	}
	m.setDown(false)
	awaitAccepts(t, "the revoked admin key refused on the new node", admin, false, c)
	if _, held := m.Get(regionKeyPrefix + adminID); held {
		t.Fatal("the revoked admin key was handed to the region again")
	}
	if !c.accepts(other) {
		t.Fatal("the new node refuses the region's other admin key")
	}
}

// TestRegionForgetsOldRevocations: a revocation older than the longest
// token's life is deleted from the region's map, with a record written
// again concurrently; a younger one stays.
func TestRegionForgetsOldRevocations(t *testing.T) {
	m := newMemRegionMap()
	admin := sharedAdminKey(t)
	n := joinRegion(t, Config{Enabled: on(), AdminKey: admin}, nil, m)
	awaitAccepts(t, "the admin key", admin, true, n)
	_, old := n.createKey(admin, "A", "read:*")
	if err := n.svc.Revoke("A", old); err != nil {
		t.Fatal(err)
	}
	n.clock.Advance(DefaultMaxTokenTTL + time.Minute)
	_, young := n.createKey(admin, "A", "read:*")
	if err := n.svc.Revoke("A", young); err != nil {
		t.Fatal(err)
	}
	stray, err := json.Marshal(KeyRecord{ID: old, Tenant: "A", Hash: HashKey("x"), Permissions: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Put(context.Background(), regionKeyPrefix+old, string(stray)); err != nil { // a grant change after the revocation
		t.Fatal(err)
	}
	if err := n.svc.regionKeys().forgetStale(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{regionRevokedPrefix + old, regionKeyPrefix + old} {
		if _, held := m.Get(k); held {
			t.Fatalf("%s is still in the map", k)
		}
	}
	if _, held := m.Get(regionRevokedPrefix + young); !held {
		t.Fatal("a revocation younger than the longest token's life was forgotten")
	}
}

// TestRegionKeysReadOnlyOnChange: a node reads the region's keys again
// when their version changes, not at every applied entry.
func TestRegionKeysReadOnlyOnChange(t *testing.T) {
	m := newMemRegionMap()
	admin := sharedAdminKey(t)
	n := joinRegion(t, Config{Enabled: on(), AdminKey: admin}, nil, m)
	awaitAccepts(t, "the admin key", admin, true, n)
	waitFor(t, "the admin key handed over", func() bool { id, _ := KeyID(admin); return !n.svc.store.ownHas(id) })
	before := m.scanCount()
	for i := range 50 {
		if err := m.Put(context.Background(), fmt.Sprintf("broker/other/%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	// Then a change of the version: one read, for it alone.
	if err := m.Put(context.Background(), regionVersionKey, "changed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a read after the version changed", func() bool { return m.scanCount() > before })
	if got := m.scanCount(); got != before+1 {
		t.Fatalf("%d reads of the region's keys for 50 entries of other prefixes and a version change, want 1", got-before)
	}
}

// TestUseRegionSecret: the token secret derived from the region secret is
// the same for two nodes of a region, differs between regions and between
// secrets, and a configured jwtSecret wins.
func TestUseRegionSecret(t *testing.T) {
	secret := func(cfg Config, region, rs string) string {
		hs := newHarness(t, cfg)
		if err := hs.svc.UseRegion(region, rs); err != nil {
			t.Fatal(err)
		}
		return string(hs.svc.secret)
	}
	a := secret(Config{}, "us-east", testRegionSecret)
	if len(a) != MinSecretBytes || a != secret(Config{}, "us-east", testRegionSecret) {
		t.Fatal("two nodes of a region derive different secrets")
	}
	if a == secret(Config{}, "eu-west", testRegionSecret) || a == secret(Config{}, "us-east", testRegionSecret+"x") {
		t.Fatal("the secret does not depend on the region and its secret")
	}
	conf := strings.Repeat("c", MinSecretBytes)
	if got := secret(Config{JWTSecret: conf}, "us-east", testRegionSecret); got != conf {
		t.Fatal("a configured jwtSecret is not used")
	}
	hs := newHarness(t, Config{})
	if err := hs.svc.UseRegion("us-east", ""); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("no region secret: %v", err)
	}
}
