package sim

import (
	"errors"
	"fmt"
	"testing"
)

// addNodes adds the counters of a run with nodes.
func (r *Result) addNodes(o Result) {
	r.AckedPublishes += o.AckedPublishes
	r.LeaderStarts += o.LeaderStarts
	r.NodeCrashes += o.NodeCrashes
	r.NodeWipes += o.NodeWipes
	r.RegionPartitions += o.RegionPartitions
	r.TruncatedOps += o.TruncatedOps
	r.DedupedRetries += o.DedupedRetries
	r.HeldDropped += o.HeldDropped
	r.InSyncShrinks += o.InSyncShrinks
}

func (r *Result) nodesSummary() string {
	return fmt.Sprintf("%d publishes acknowledged, %d engines started on a journal leader, %d node crashes, %d wiped node disks, "+
		"%d in-region partitions, %d uncommitted ops cut from followers, %d retries answered from the new leader's journal, %d in-sync sets shrunk, %d held outputs dropped",
		r.AckedPublishes, r.LeaderStarts, r.NodeCrashes, r.NodeWipes, r.RegionPartitions, r.TruncatedOps, r.DedupedRetries,
		r.InSyncShrinks, r.HeldDropped)
}

// nodeSeeds is how many seeds TestSimulationNodes runs with 3 nodes per
// region (a quarter as many with 5).
func nodeSeeds() int {
	if raceEnabled {
		return 30
	}
	if testing.Short() {
		return 100
	}
	return 400
}

// TestSimulationNodes runs regions of 3 and of 5 nodes: journal leaders
// crash (the engine restarts on another node from that node's copy),
// followers crash, a node loses its disk, in-region partitions cut the
// leader from its majority, mixed with every WAN fault. Far past CI:
// go test ./replicator/sim -run 'TestSimulation$' -nodes 3 -seeds 20000.
func TestSimulationNodes(t *testing.T) {
	for _, tc := range []struct{ nodes, seeds int }{{3, nodeSeeds()}, {5, nodeSeeds() / 4}} {
		var total Result
		for seed := *firstFlag; seed < *firstFlag+uint64(tc.seeds); seed++ {
			res, err := Run(Options{Seed: seed, Nodes: tc.nodes})
			if err != nil {
				t.Fatalf("%v\nreplay: go test ./replicator/sim -run 'TestSimulation$' -seed %d -nodes %d -v", err, seed, tc.nodes)
			}
			total.Ops += res.Ops
			total.addNodes(res)
		}
		t.Logf("%d seeds, %d nodes per region: %d ops, %s", tc.seeds, tc.nodes, total.Ops, total.nodesSummary())
	}
}

// regressionNodeSeeds failed once with nodes; each names what it caught.
var regressionNodeSeeds = []struct {
	seed  uint64
	nodes int
	what  string
}{
	{4, 3, "shell: Engine.Stable counts the region's own delivered vector, which holds ops its journal has not committed yet; a shell must clamp it to what the journal committed"},
	{870, 3, "shell: as 4"},
	{563, 3, "harness: what the region committed lagged a high watermark its leader's own append had moved (an Output with nothing to send released nothing)"},
	{86, 3, "oracle: after a region lost every disk, an op another region held only in an uncommitted tail (cut later) was expected everywhere"},
	{184, 3, "oracle: as 86"},
	{838, 3, "oracle: as 86"},
}

func TestSimulationNodesRegressions(t *testing.T) {
	for _, tc := range regressionNodeSeeds {
		if _, err := Run(Options{Seed: tc.seed, Nodes: tc.nodes}); err != nil {
			t.Errorf("seed %d (%s): %v\nreplay: go test ./replicator/sim -run 'TestSimulation$' -seed %d -nodes %d -v", tc.seed, tc.what, err, tc.seed, tc.nodes)
		}
	}
}

// A seed with nodes replays exactly.
func TestSimulationNodesDeterministic(t *testing.T) {
	a, err := Run(Options{Seed: 42, Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(Options{Seed: 42, Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("seed 42 with nodes ran twice differently:\n%+v\n%+v", a, b)
	}
	if a.LeaderStarts <= a.Regions {
		t.Fatalf("seed 42: %d leader starts in %d regions: no failover", a.LeaderStarts, a.Regions)
	}
}

// Without faults no journal changes leader, no op is cut and no batch
// misses its base. Retransmissions and relays are logged, not refused:
// under steady load region.Leader counts a follower as caught up only
// when a fetch finds it at the leader's very end, so followers that keep
// up one fetch behind leave the in-sync set after MaxLag, the high
// watermark stops while the set is below MinInSync, and held batches and
// acks wait past the retransmission timeout and the relay delay (Kafka
// counts a follower caught up when it reaches the leader's end as of its
// previous fetch).
func TestSimulationNodesCalm(t *testing.T) {
	seeds := uint64(20)
	if raceEnabled {
		seeds = 8
	}
	var total Result
	for seed := uint64(1); seed <= seeds; seed++ {
		res, err := Run(Options{Seed: seed, Nodes: 3, Calm: true})
		if err != nil {
			t.Fatalf("%v\nreplay: go test ./replicator/sim -run 'TestSimulation$' -seed %d -nodes 3 -v", err, seed)
		}
		if res.MissingBase != 0 || res.LeaderStarts != res.Regions || res.TruncatedOps != 0 {
			t.Fatalf("seed %d: calm run: %d batches without base, %d leader starts in %d regions, %d ops cut",
				seed, res.MissingBase, res.LeaderStarts, res.Regions, res.TruncatedOps)
		}
		total.Retransmits += res.Retransmits
		total.Relayed += res.Relayed
		total.InSyncShrinks += res.InSyncShrinks
	}
	t.Logf("%d calm seeds: %d retransmissions, %d relayed ranges, %d in-sync sets shrunk",
		seeds, total.Retransmits, total.Relayed, total.InSyncShrinks)
}

// The simulator catches a leader that lets batches or acks leave the
// region before its journal committed what they carry: at once by the
// check of every message leaving a region, and without that check by what
// follows (a region delivers an op its origin never committed; a region
// reports stable an op another region has not committed).
func TestSimulationNodesCatchesLeaksAboveHighWatermark(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"batches", Options{bugSendAboveHW: true}},
		{"batches, consequences only", Options{bugSendAboveHW: true, bugUnchecked: true}},
		{"acks", Options{bugAckAboveHW: true}},
		{"acks, consequences only", Options{bugAckAboveHW: true, bugUnchecked: true}},
	} {
		caught, seeds := 0, 40
		if raceEnabled {
			seeds = 16
		}
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			opts := tc.opts
			opts.Seed, opts.Nodes = seed, 3
			_, err := Run(opts)
			if err != nil && !errors.Is(err, errCheck) {
				t.Fatalf("%s: seed %d: not a checker failure: %v", tc.name, seed, err)
			}
			if err != nil {
				caught++
			}
		}
		if caught < seeds/4 {
			t.Errorf("%s: the simulator caught the leak in %d of %d seeds", tc.name, caught, seeds)
		}
		t.Logf("%s: caught in %d of %d seeds", tc.name, caught, seeds)
	}
}
