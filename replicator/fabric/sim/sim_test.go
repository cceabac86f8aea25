package sim

import (
	"errors"
	"flag"
	"testing"
)

var (
	seedsFlag = flag.Int("seeds", 0, "number of seeds TestSimulation runs (0: a CI-sized default)")
	seedFlag  = flag.Uint64("seed", 0, "replay only this seed, with a trace")
	firstFlag = flag.Uint64("first-seed", 1, "first seed of the run")
)

// defaultSeeds keeps the package well under a minute on two shared cores.
func defaultSeeds() int {
	if raceEnabled {
		return 60
	}
	if testing.Short() {
		return 100
	}
	return 600
}

func TestSimulation(t *testing.T) {
	if *seedFlag != 0 {
		res, err := Run(Options{Seed: *seedFlag, Trace: func(s string) { t.Log(s) }})
		if err != nil {
			t.Fatalf("%v\nreplay: go test ./replicator/fabric/sim -run 'TestSimulation$' -seed %d", err, *seedFlag)
		}
		t.Logf("%+v", res)
		return
	}
	n := *seedsFlag
	if n == 0 {
		n = defaultSeeds()
	}
	var total Result
	for seed := *firstFlag; seed < *firstFlag+uint64(n); seed++ {
		res, err := Run(Options{Seed: seed})
		if err != nil {
			t.Fatalf("%v\nreplay: go test ./replicator/fabric/sim -run 'TestSimulation$' -seed %d -v", err, seed)
		}
		total.Ops += res.Ops
		total.Applied += res.Applied
		total.Held += res.Held
		total.Dropped += res.Dropped
		total.DedupSkips += res.DedupSkips
		total.Adds += res.Adds
		total.Removes += res.Removes
		total.Backfills += res.Backfills
		total.Deletions += res.Deletions
		total.Refused += res.Refused
		total.Crashes += res.Crashes
		total.Partitions += res.Partitions
		total.Messages += res.Messages
		total.Domains += res.Domains
	}
	t.Logf("%d seeds: %d ops, %d applications, %d held across a change, %d dropped after a removal, %d skipped after a backfill; "+
		"%d regions added and %d removed, %d backfills, %d deletions completed, %d publishes refused at non-members; "+
		"%d crashes, %d partitions, %d messages, %d domains run",
		n, total.Ops, total.Applied, total.Held, total.Dropped, total.DedupSkips, total.Adds, total.Removes, total.Backfills,
		total.Deletions, total.Refused, total.Crashes, total.Partitions, total.Messages, total.Domains)
}

// regressionSeeds failed once; each names what it caught.
var regressionSeeds = []struct {
	seed uint64
	what string
}{
	{32, "a backfilled state was not a causal dependency of the ops published after it"},
	{60, "a home removed the only region holding the fabric's data while it waited for its own backfill"},
	{29, "a backfill waited for a domain its receiver is not in"},
	{6661, "a region that learnt it was added and removed in one go applied the backfill after deleting"},
}

func TestSimulationRegressions(t *testing.T) {
	for _, tc := range regressionSeeds {
		if _, err := Run(Options{Seed: tc.seed}); err != nil {
			t.Errorf("seed %d (%s): %v", tc.seed, tc.what, err)
		}
	}
}

func TestCalmRunsConverge(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		if _, err := Run(Options{Seed: seed, Calm: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckersCatchBugs: each mutation of the protocol must be caught by a
// checker within a few hundred seeds.
func TestCheckersCatchBugs(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"ops applied without the router's holds across a change", Options{bugNoHold: true}},
		{"a backfill applied before the engines caught up with its sender's", Options{bugNoCatchUp: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 400; seed++ {
				opts := tc.opts
				opts.Seed = seed
				_, err := Run(opts)
				if errors.Is(err, errCheck) {
					t.Logf("caught at seed %d: %v", seed, err)
					return
				}
				if err != nil {
					t.Fatalf("seed %d: harness error: %v", seed, err)
				}
			}
			t.Fatal("400 seeds ran the mutation and no checker noticed")
		})
	}
}
