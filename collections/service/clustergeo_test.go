package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/store"
	"github.com/causeway/causeway/replicator/shell"
)

// memCluster is the region's map in memory, shared by the services of a
// test standing for the region's nodes; down makes every call fail (the
// metadata group unreachable).
type memCluster struct {
	mu   sync.Mutex
	kv   map[string]string
	down atomic.Bool
}

var errMemDown = errors.New("memCluster: the region's map does not answer")

func (m *memCluster) KVRead(_ context.Context, key string) (string, bool, error) {
	if m.down.Load() {
		return "", false, errMemDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	return v, ok, nil
}

func (m *memCluster) KVScan(_ context.Context, prefix string) (map[string]string, error) {
	if m.down.Load() {
		return nil, errMemDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, v := range m.kv {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

func (m *memCluster) KVPut(_ context.Context, key, value string) error {
	if m.down.Load() {
		return errMemDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[key] = value
	return nil
}

func (m *memCluster) KVDelete(_ context.Context, key string) error {
	if m.down.Load() {
		return errMemDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.kv, key)
	return nil
}

func (m *memCluster) Changed() <-chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(50*time.Millisecond, func() { close(ch) })
	return ch
}

func (m *memCluster) Self() uint64                    { return 1 }
func (m *memCluster) NodeURL(uint64) (string, bool)   { return "", false }
func (m *memCluster) ReplicationNode() (uint64, bool) { return 1, true }

// CreateStreams records nothing: the services of these tests do not open
// collections (each node's broker would create its own streams).
func (m *memCluster) CreateStreams(context.Context, []naming.Stream, broker.StreamInfo) error {
	if m.down.Load() {
		return errMemDown
	}
	return nil
}

// openGeoClustered opens a service of region us-east with a peer region
// (geo-replicated) over the shared map m.
func openGeoClustered(t *testing.T, m *memCluster) *Service {
	t.Helper()
	cfg := broker.Config{Region: "us-east", DataDir: t.TempDir(), Peers: map[string]string{"eu-west": "127.0.0.1:1"},
		ReplAddr: "127.0.0.1:0", FabricSecret: "fake-fabric-secret-0123456789", Fsync: "never"}
	node, err := broker.Open(cfg, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(node, Options{Cluster: m, SweepInterval: time.Hour})
	if err != nil {
		_ = node.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = svc.Close()
		_ = node.Close()
	})
	if !svc.geoClustered() {
		t.Fatal("not a geo-replicated region of several nodes")
	}
	return svc
}

func metaItem(t *testing.T, origin string, seq uint64, m *MetaEvent) shell.KindItem {
	t.Helper()
	p, err := appendMetaPayload(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return shell.KindItem{Origin: origin, Seq: seq, Payload: p}
}

// TestGeoClusteredApplyLater: in a geo-replicated region of several
// nodes, a metadata event that cannot be applied now (the region's map
// does not answer) is answered shell.ErrApplyLater, so is every later item
// of the batch, and none is recorded as applied: the same batch applied
// again once the map answers applies them all.
func TestGeoClusteredApplyLater(t *testing.T) {
	m := &memCluster{kv: map[string]string{}}
	s := openGeoClustered(t, m)
	q := "SELECT * FROM orders"
	items := []shell.KindItem{
		metaItem(t, "eu-west", 1, &MetaEvent{Type: MetaCreateCollection, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric,
			Collection: "orders", Spec: &CollectionSpec{Name: "orders"}, CreatedAt: 1}),
		metaItem(t, "eu-west", 2, &MetaEvent{Type: MetaAck, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric,
			Collection: "orders", Known: map[string]uint64{"eu-west": 1}}),
		metaItem(t, "us-east", 1, &MetaEvent{Type: MetaSaveQuery, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric,
			Query: &store.SavedQuery{Name: "all", Value: q, CreatedAt: 1, UpdatedAt: 1}}),
	}
	m.down.Store(true)
	for i, err := range s.ApplyReplicatedBatch(items) {
		if !errors.Is(err, shell.ErrApplyLater) {
			t.Fatalf("item %d with the map down: %v, want ErrApplyLater", i, err)
		}
	}
	s.replMu.Lock()
	applied := s.replAppliedCopy()
	s.replMu.Unlock()
	if applied["eu-west"] != 0 || applied["us-east"] != 0 {
		t.Fatalf("replicated vector %v after a batch applied later, want nothing", applied)
	}
	m.down.Store(false)
	for i, err := range s.ApplyReplicatedBatch(items) {
		if err != nil {
			t.Fatalf("item %d applied again: %v", i, err)
		}
	}
	info, found, err := s.catalogEntry(Ref{Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Collection: "orders"})
	if err != nil || !found || info.ID == 0 {
		t.Fatalf("catalog after the re-apply: %+v %v %v", info, found, err)
	}
	if sq, err := s.clusterSavedQuery(naming.DefaultTenant, naming.SystemFabric, "all"); err != nil || sq.Value != q {
		t.Fatalf("saved query after the re-apply: %+v %v", sq, err)
	}
	s.replMu.Lock()
	applied = s.replAppliedCopy()
	s.replMu.Unlock()
	if applied["eu-west"] != 2 || applied["us-east"] != 1 {
		t.Fatalf("replicated vector %v, want eu-west 2, us-east 1", applied)
	}
}

// TestGeoClusteredMetaOnce: a node that takes the region's replication
// over re-applies the journal tail its predecessor may already have
// applied; metadata events the region applied are skipped, so a drop
// applied again does not delete the collection created after it.
func TestGeoClusteredMetaOnce(t *testing.T) {
	m := &memCluster{kv: map[string]string{}}
	a, b := openGeoClustered(t, m), openGeoClustered(t, m)
	ref := Ref{Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Collection: "orders"}
	create := func(seq uint64) shell.KindItem {
		return metaItem(t, "eu-west", seq, &MetaEvent{Type: MetaCreateCollection, Tenant: ref.Tenant, Fabric: ref.Fabric,
			Collection: ref.Collection, Spec: &CollectionSpec{Name: ref.Collection}, CreatedAt: int64(seq)})
	}
	drop := metaItem(t, "eu-west", 2, &MetaEvent{Type: MetaDropCollection, Tenant: ref.Tenant, Fabric: ref.Fabric, Collection: ref.Collection})
	tail := []shell.KindItem{create(1), drop, create(3)}
	for i, err := range a.ApplyReplicatedBatch(tail) {
		if err != nil {
			t.Fatalf("node a, item %d: %v", i, err)
		}
	}
	first, found, err := a.catalogEntry(ref)
	if err != nil || !found {
		t.Fatalf("catalog after node a: %v %v", found, err)
	}
	// Node b runs the replication next, from an older watermark.
	for i, err := range b.ApplyReplicatedBatch(tail[1:]) {
		if err != nil {
			t.Fatalf("node b, item %d: %v", i, err)
		}
	}
	now, found, err := b.catalogEntry(ref)
	if err != nil || !found || now.ID != first.ID {
		t.Fatalf("after node b re-applied the drop and the creation: %+v (found %v, %v), want the collection %d kept", now, found, err, first.ID)
	}
}
