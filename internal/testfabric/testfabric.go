// Package testfabric runs a multi-region Causeway fabric inside one test
// process: one node per region, wired full mesh on loopback ports from
// internal/testnet, each started, stopped and restarted by region name.
// End-to-end test packages embed *Fabric and add their own helpers.
package testfabric

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server"
)

// Secret is the fabric secret of every node.
const Secret = "testfabric-fabric-secret-0123456789"

// shutdownTimeout bounds one node's graceful shutdown.
const shutdownTimeout = 60 * time.Second

// Fabric is the nodes of one fabric, by region.
type Fabric struct {
	T       testing.TB
	Regions []string
	// Configs and Options are what Start passes to server.StartWith;
	// tests may change them between a Stop and the next Start.
	Configs map[string]broker.Config
	Options map[string]server.Options

	mu  sync.Mutex
	srv map[string]*server.Server
}

// New prepares one node per region (persistent streams not fsynced, for
// speed; mutate adjusts each configuration) and stops every running node
// when the test ends. It starts nothing: see StartAll and Start.
func New(t testing.TB, regions []string, mutate func(*broker.Config)) *Fabric {
	t.Helper()
	addrs := testnet.FreeAddrs(t, len(regions))
	f := &Fabric{T: t, Regions: regions, Configs: map[string]broker.Config{},
		Options: map[string]server.Options{}, srv: map[string]*server.Server{}}
	for i, r := range regions {
		peers := map[string]string{}
		for j, p := range regions {
			if p != r {
				peers[p] = addrs[j]
			}
		}
		cfg := broker.Config{Region: r, DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ReplAddr: addrs[i],
			Peers: peers, FabricSecret: Secret, Fsync: "never"}
		if mutate != nil {
			mutate(&cfg)
		}
		f.Configs[r] = cfg
	}
	t.Cleanup(func() {
		for _, r := range regions {
			f.Stop(r)
		}
	})
	return f
}

// StartAll starts every region but those in skip.
func (f *Fabric) StartAll(skip ...string) {
	f.T.Helper()
	for _, r := range f.Regions {
		if !slices.Contains(skip, r) {
			f.Start(r)
		}
	}
}

// Start starts region's node and fails the test if it cannot.
func (f *Fabric) Start(region string) *server.Server {
	f.T.Helper()
	log := zaptest.NewLogger(f.T, zaptest.Level(zap.WarnLevel)).Named(region)
	srv, err := server.StartWith(f.Configs[region], log, f.Options[region])
	if err != nil {
		f.T.Fatalf("start %s: %v", region, err)
	}
	f.mu.Lock()
	f.srv[region] = srv
	f.mu.Unlock()
	return srv
}

// Stop shuts region's node down gracefully (nothing when it is not
// running).
func (f *Fabric) Stop(region string) {
	f.mu.Lock()
	srv := f.srv[region]
	delete(f.srv, region)
	f.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		f.T.Errorf("shutdown %s: %v", region, err)
	}
}

// Server returns region's running node; the test fails if it is not
// running.
func (f *Fabric) Server(region string) *server.Server {
	f.mu.Lock()
	srv := f.srv[region]
	f.mu.Unlock()
	if srv == nil {
		f.T.Fatalf("region %s is not running", region)
	}
	return srv
}

// Running returns the running nodes by region.
func (f *Fabric) Running() map[string]*server.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*server.Server, len(f.srv))
	for r, s := range f.srv {
		out[r] = s
	}
	return out
}

// Cut cuts (or heals) the replication link between a and b, both ways.
func (f *Fabric) Cut(a, b string, down bool) {
	f.T.Helper()
	for _, p := range [][2]string{{a, b}, {b, a}} {
		if err := f.Server(p[0]).Repl.SetLinkDown(p[1], down); err != nil {
			f.T.Fatal(err)
		}
	}
}

// Partition cuts (or heals) every link.
func (f *Fabric) Partition(down bool) {
	f.T.Helper()
	for i, a := range f.Regions {
		for _, b := range f.Regions[i+1:] {
			f.Cut(a, b, down)
		}
	}
}
