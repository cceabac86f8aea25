package broker

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/naming"
)

func TestCheckNamespaceRule(t *testing.T) {
	tenants := map[string]bool{"_mm": true, "acme": true}
	fabrics := map[fabricKey]FabricInfo{{"_mm", "_system"}: {}, {"acme", "_system"}: {}, {"acme", "eu"}: {}}
	for _, tc := range []struct {
		tenant, fabric string
		want           error
		names          string
	}{
		{"_mm", "_system", nil, ""},
		{"acme", "eu", nil, ""},
		{"mm", "_system", ErrTenantNotFound, `"mm"`},
		{"_mm", "_sytsem", ErrFabricNotFound, `"_sytsem" in tenant "_mm" (fabrics are not created by use: create it with POST /_fabric/_sytsem/_api/fabric)`},
		{"acme", "eux", ErrFabricNotFound, `POST /_tenant/acme/_fabric/eux/_api/fabric`},
		{"_mm", "eu", ErrFabricNotFound, `"eu" in tenant "_mm"`}, // another tenant's fabric
		{"globex", "eu", ErrTenantNotFound, `"globex"`},
	} {
		err := checkNamespace(tenants, fabrics, "here", tc.tenant, tc.fabric)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s/%s: %v, want %v", tc.tenant, tc.fabric, err, tc.want)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tc.names) || HTTPStatus(err) != http.StatusNotFound) {
			t.Errorf("%s/%s: %q (status %d) should name %s and be 404", tc.tenant, tc.fabric, err, HTTPStatus(err), tc.names)
		}
	}
}

// registrySnapshot is what a refused request must leave unchanged.
type registrySnapshot struct {
	tenants, fabrics, streams []string
	dirs                      []string
}

func snapshot(t *testing.T, n *Node) registrySnapshot {
	t.Helper()
	var s registrySnapshot
	s.tenants = n.Tenants()
	for _, tn := range s.tenants {
		for _, f := range n.Fabrics(tn) {
			s.fabrics = append(s.fabrics, tn+"/"+f.Name)
		}
	}
	for _, st := range n.Streams("", "") {
		s.streams = append(s.streams, st.Name().String())
	}
	_ = filepath.WalkDir(filepath.Join(n.cfg.DataDir, "streams"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			s.dirs = append(s.dirs, p)
		}
		return nil
	})
	return s
}

func (s registrySnapshot) equal(o registrySnapshot) bool {
	return slices.Equal(s.tenants, o.tenants) && slices.Equal(s.fabrics, o.fabrics) &&
		slices.Equal(s.streams, o.streams) && slices.Equal(s.dirs, o.dirs)
}

// TestTyposCreateNothing: a producer's or consumer's stream in an unknown
// tenant or fabric is refused, naming it, and creates nothing; tenants and
// fabrics created explicitly take streams by use.
func TestTyposCreateNothing(t *testing.T) {
	n, err := Open(Config{Region: "a", DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.StreamForUse(naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "ok"}, nil); err != nil {
		t.Fatalf("stream of the default fabric: %v", err)
	}
	before := snapshot(t, n)
	for _, tc := range []struct {
		name naming.Stream
		want error
	}{
		{naming.Stream{Persistent: true, Tenant: "mm", Fabric: "_system", Name: "orders"}, ErrTenantNotFound},
		{naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_sytsem", Name: "orders"}, ErrFabricNotFound},
		{naming.Stream{Persistent: false, Tenant: "_mm", Fabric: "_sytsem", Name: "orders"}, ErrFabricNotFound},
	} {
		if _, err := n.StreamForUse(tc.name, nil); !errors.Is(err, tc.want) {
			t.Errorf("StreamForUse(%s): %v, want %v", tc.name, err, tc.want)
		}
		if _, err := n.CreateStream(tc.name, StreamInfo{}); !errors.Is(err, tc.want) {
			t.Errorf("CreateStream(%s): %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := n.EnsureFabric("mm", "orders"); !errors.Is(err, ErrTenantNotFound) {
		t.Errorf("a fabric of an unknown tenant: %v, want ErrTenantNotFound", err)
	}
	if after := snapshot(t, n); !after.equal(before) {
		t.Fatalf("refused requests changed the node:\nbefore %+v\nafter  %+v", before, after)
	}

	// Created explicitly, they take streams by use.
	if err := n.EnsureTenant("mm"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.EnsureFabric("mm", "orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.StreamForUse(naming.Stream{Persistent: true, Tenant: "mm", Fabric: "orders", Name: "s"}, nil); err != nil {
		t.Fatalf("stream of a created fabric: %v", err)
	}
	if _, err := n.StreamForUse(naming.Stream{Persistent: true, Tenant: "mm", Fabric: "_system", Name: "s"}, nil); !errors.Is(err, ErrFabricNotFound) {
		t.Fatalf("EnsureTenant alone makes no fabric (POST /_api/tenant adds _system): %v", err)
	}
}

// TestArrivingStreamsRecordTheirFabric: what exists in another region of
// the fabric (a replicated stream, a Kafka topic) or is created by the
// node's services (a collection's op log) brings its fabric.
func TestArrivingStreamsRecordTheirFabric(t *testing.T) {
	n, err := Open(Config{Region: "a", DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.streamForReplica(naming.Stream{Persistent: true, Tenant: "acme", Fabric: "geo", Name: "s"}); err != nil {
		t.Fatalf("replicated stream: %v", err)
	}
	if _, err := n.CreateArrivedStream(naming.Stream{Persistent: true, Tenant: "acme", Fabric: "kafka", Name: "t"}, StreamInfo{}); err != nil {
		t.Fatalf("arrived stream: %v", err)
	}
	if _, err := n.CreateStream(naming.Stream{Persistent: true, Tenant: "acme", Fabric: "docs", Name: naming.OpLogPrefix + "users"}, StreamInfo{}); err != nil {
		t.Fatalf("op log of a collection: %v", err)
	}
	for _, f := range []string{"geo", "kafka", "docs"} {
		if err := n.CheckNamespace("acme", f); err != nil {
			t.Errorf("fabric %s: %v", f, err)
		}
	}
}

// TestRegionNodesShareTenantsAndFabrics: in a region of several nodes a
// tenant or fabric created through one node is the region's: another node
// finds it (and records it); a stream of the region brings its fabric.
func TestRegionNodesShareTenantsAndFabrics(t *testing.T) {
	c := newFakeCluster(t)
	a, err := Open(Config{Region: "r", DataDir: t.TempDir(), Cluster: c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(Config{Region: "r", DataDir: t.TempDir(), Cluster: c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.EnsureTenant("acme"); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckNamespace("acme", "eu"); !errors.Is(err, ErrFabricNotFound) {
		t.Fatalf("a tenant created on a, unknown fabric, asked on b: %v, want ErrFabricNotFound", err)
	}
	if _, err := a.EnsureFabric("acme", "eu"); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckNamespace("acme", "eu"); err != nil {
		t.Fatalf("fabric created on a, asked on b: %v", err)
	}
	if _, ok := b.Fabric("acme", "eu"); !ok || !slices.Contains(b.Tenants(), "acme") {
		t.Fatalf("b did not record the region's fabric: tenants %v", b.Tenants())
	}
	if err := b.CheckNamespace("acme", "_sytsem"); !errors.Is(err, ErrFabricNotFound) {
		t.Fatalf("typo on b: %v", err)
	}
	if err := b.CheckNamespace("globex", "eu"); !errors.Is(err, ErrTenantNotFound) {
		t.Fatalf("unknown tenant on b: %v", err)
	}
	// A region's stream in a fabric this node never heard of (created
	// before fabrics were the region's) brings it.
	if err := c.CreateStream(t.Context(), naming.Stream{Persistent: true, Tenant: "old", Fabric: "f", Name: "s"}, StreamInfo{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fabric of a stream of the region recorded", func() bool { _, ok := b.Fabric("old", "f"); return ok })
}
