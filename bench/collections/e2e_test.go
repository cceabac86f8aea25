package collections_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/bench/collections"
	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

const testTimeout = 60 * time.Second

func TestCollectionsScenario(t *testing.T) {
	srv, err := server.Start(broker.Config{Region: "local", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Fsync: "never"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := collections.Run(ctx, collections.Config{
		Regions: []geo.Region{{Name: "local", HTTP: srv.URL()}},
		Count:   600, Writers: 3, DocBytes: 64,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	ops := c["inserts"] + c["patches"] + c["reads"] + c["queries"]
	if ops != 600 || c["errors"] != 0 || c["unconverged"] != 0 || c["inserts"] == 0 || c["patches"] == 0 {
		t.Fatalf("counts %v, errors %v, notes %v: want 600 operations, none failed, converged", c, rep.Errors, rep.Notes)
	}
	if c["documents"] != c["inserts"] || c["increments"] != c["patches"] {
		t.Errorf("tally %d documents / %d increments, want %d / %d", c["documents"], c["increments"], c["inserts"], c["patches"])
	}
	for _, name := range []string{"insert", "patch", "read", "query"} {
		if l, ok := rep.Latency(name); !ok || l.Summary.Count == 0 {
			t.Errorf("no %s latencies", name)
		}
	}
	if _, ok := rep.Figures["convergenceSeconds"]; !ok {
		t.Error("no convergence time")
	}
}

// Two regions: writers in both, per-region latencies, and the regions
// converge (collections replicate between regions).
func TestCollectionsScenarioTwoRegions(t *testing.T) {
	fab := startFabric(t, []string{"us-east", "eu-west"})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := collections.Run(ctx, collections.Config{
		Regions: fab.Regions, Rate: 300, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Writers: 2, DocBytes: 32,
		ConvergenceTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c["errors"] != 0 || c["inserts"] == 0 {
		t.Fatalf("counts %v, errors %v: want no failure", c, rep.Errors)
	}
	for _, r := range []string{"us-east", "eu-west"} {
		if l, ok := rep.Latency("insert " + r); !ok || l.Summary.Count == 0 {
			t.Errorf("no insert latencies in %s: %v", r, rep.Latencies)
		}
	}
	if c["unconverged"] != 0 {
		t.Fatalf("regions did not converge: %v", rep.Notes)
	}
	if _, ok := rep.Figures["convergenceSeconds"]; !ok {
		t.Error("no convergence time")
	}
}
