package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server/regionapi"
)

// The geo kill test's shape.
const (
	geoKillRounds = 6 // kill -9 of the node running us-east's replication, restarted on its disk
	geoKillSecret = "e2e-geo-fabric-secret-0123456789"
)

// geoKillFabric is us-east, three `causeway serve` nodes forming one
// region, and eu-west, one node, replicating one fabric.
type geoKillFabric struct {
	us   *killRegion
	eu   *clusterNode
	euR  *killRegion // eu-west as a region of one node, for newKillProducer
	repl []string    // us-east nodes' replication addresses
}

func startGeoKillFabric(t *testing.T) *geoKillFabric {
	t.Helper()
	addrs := testnet.FreeAddrs(t, 5)
	repl, euRepl, euHTTP := addrs[:3], addrs[3], addrs[4]
	r := newKillRegion(t, func(i int) []string {
		return []string{"--repl", repl[i], "--peer", "eu-west=" + euRepl, "--fabric-secret", geoKillSecret}
	})
	f := &geoKillFabric{us: r, repl: repl,
		eu: &clusterNode{id: 4, url: "http://" + euHTTP, args: []string{"serve", "--region", "eu-west",
			"--data", t.TempDir(), "--http", euHTTP, "--admin-key", r.key, "--log-level", "warn",
			"--repl", euRepl, "--peer", "us-east=" + strings.Join(repl, ","), "--fabric-secret", geoKillSecret}}}
	f.euR = &killRegion{key: r.key, urls: []string{f.eu.url}}
	for _, n := range r.nodes {
		n.start(t, r.bin)
	}
	f.eu.start(t, r.bin)
	r.dumpLogsOnFailure(t, []*clusterNode{f.eu})
	r.awaitActive(t)
	return f
}

// runner is the us-east node running the region's replication (its
// GET /_api/replication answers 200; the others 503), nil while none.
func (f *geoKillFabric) runner() *clusterNode {
	client := adminClient(f.us.key)
	for _, n := range f.us.nodes {
		if n.cmd == nil {
			continue
		}
		resp, err := client.Get(n.url + "/_api/replication")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return n
		}
	}
	return nil
}

func (f *geoKillFabric) awaitRunner(t *testing.T, what string) *clusterNode {
	t.Helper()
	deadline := time.Now().Add(geoTimeout)
	for {
		if n := f.runner(); n != nil {
			return n
		}
		if time.Now().After(deadline) {
			f.dumpRegion(t)
			t.Fatalf("no us-east node runs the region's replication (%s)", what)
		}
		time.Sleep(50 * time.Millisecond) // polling real processes with a deadline
	}
}

// dumpRegion logs the region's view (the geo group's units, their leaders
// and in-sync sets) and every live node's replicas (high watermarks and,
// on leaders, their followers' progress): why the region is stuck.
func (f *geoKillFabric) dumpRegion(t *testing.T) {
	t.Helper()
	client := adminClient(f.us.key)
	viewed := false
	for _, n := range f.us.nodes {
		if n.cmd == nil {
			continue
		}
		paths := []string{"/_api/region/replicas"}
		if !viewed {
			paths = append(paths, "/_api/region/state")
		}
		for _, path := range paths {
			resp, err := client.Get(n.url + path)
			if err != nil {
				t.Logf("node %d: %s: %v", n.id, path, err)
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			viewed = viewed || path == "/_api/region/state"
			t.Logf("node %d: %s: %s", n.id, path, b)
		}
	}
}

// readKillStream reads stream killStream from the earliest message through url
// until every acknowledged message was found and then nothing came for
// killIdleReadAfter: what each producer has stored, in stream order.
func readKillStream(t *testing.T, ctx context.Context, key, url string, ps []*killProducer, acked int) map[string][]int64 {
	t.Helper()
	c, err := clients.New(url, clients.WithToken(key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd, err := c.CreateReader(ctx, clients.ReaderOptions{Stream: killStream, StartMessageID: clients.StartEarliest})
	if err != nil {
		t.Fatalf("reader through %s: %v", url, err)
	}
	defer rd.Close()
	stored := map[string][]int64{}
	found := 0
	readDeadline := time.Now().Add(3 * geoTimeout)
	for {
		idle := killIdleReadAfter
		if found < acked {
			idle = geoTimeout
		}
		rctx, rcancel := context.WithTimeout(ctx, idle)
		m, err := rd.Next(rctx)
		rcancel()
		if err != nil {
			break
		}
		who, seqText, ok := strings.Cut(string(m.Payload), ":")
		seq, perr := strconv.ParseInt(seqText, 10, 64)
		if !ok || perr != nil {
			t.Fatalf("a message the test did not publish: %q", m.Payload)
		}
		stored[who] = append(stored[who], seq)
		for _, kp := range ps {
			if kp.name == who && kp.acked[seq] {
				found++
			}
		}
		if time.Now().After(readDeadline) {
			t.Fatalf("reading through %s took longer than %v", url, 3*geoTimeout)
		}
	}
	return stored
}

// TestGeoRegionSurvivesKills: us-east is three real nodes, eu-west one;
// producers on every us-east node and in eu-west publish to one global
// stream. The us-east node running the region's replication is killed
// with SIGKILL six times in a row (whichever runs it then), each time
// restarted on its disk. Every acknowledged message is then stored exactly
// once, in its producer's order, in both regions.
func TestGeoRegionSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four real nodes in two regions and kills six times")
	}
	// It once stalled (no runner for 90 s after a kill, 4 of 9 runs
	// beside other tests): a journal's follower whose epoch history ended
	// in an epoch it had led without writing never got in sync again
	// (region/ship truncate; simulator regression seed 2). Fixed; with
	// GET /_api/region/replicas dumped on failure should it stall again.
	start := time.Now()
	f := startGeoKillFabric(t)
	f.awaitRunner(t, "at start")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ps []*killProducer
	for i := range 3 {
		kp, err := newKillProducer(ctx, f.us, fmt.Sprintf("us-p%d", i), i, false)
		if err != nil {
			t.Fatal(err)
		}
		defer kp.c.Close()
		ps = append(ps, kp)
	}
	kp, err := newKillProducer(ctx, f.euR, "eu-p", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer kp.c.Close()
	ps = append(ps, kp)
	pubCtx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	var wg sync.WaitGroup
	for _, kp := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); kp.publish(pubCtx) }()
	}
	ackedBy := func(kp *killProducer) int {
		kp.mu.Lock()
		defer kp.mu.Unlock()
		return len(kp.acked)
	}
	awaitProgress := func(what string) {
		t.Helper()
		base := map[*killProducer]int{}
		for _, kp := range ps {
			base[kp] = ackedBy(kp)
		}
		deadline := time.Now().Add(geoTimeout)
		for {
			moved := true
			for _, kp := range ps {
				moved = moved && ackedBy(kp) >= base[kp]+20
			}
			if moved {
				return
			}
			if time.Now().After(deadline) {
				f.dumpRegion(t)
				t.Fatalf("producers stalled %s", what)
			}
			time.Sleep(20 * time.Millisecond) // polling the producers' callbacks with a deadline
		}
	}
	awaitProgress("at start")
	t.Logf("fabric up, publishing in both regions (%v)", time.Since(start).Round(time.Millisecond))
	var takeovers, resumes []time.Duration
	for k := range geoKillRounds {
		victim := f.awaitRunner(t, fmt.Sprintf("before kill %d", k+1))
		killedAt := time.Now()
		victim.kill()
		next := f.awaitRunner(t, fmt.Sprintf("after kill %d", k+1))
		takeovers = append(takeovers, time.Since(killedAt))
		awaitProgress(fmt.Sprintf("after kill %d", k+1))
		resumes = append(resumes, time.Since(killedAt))
		t.Logf("kill %d: node %d ran replication; node %d runs it %v later, every producer published again %v after the kill",
			k+1, victim.id, next.id, takeovers[k].Round(time.Millisecond), resumes[k].Round(time.Millisecond))
		victim.start(t, f.us.bin)
		// Back in every in-sync set too: a kill while the restarted node
		// still catches up leaves a unit one replica short of its minimum
		// until it has (as Kafka with min.insync.replicas), which would
		// measure the catch-up, not the failover.
		awaitRegion(t, f.us.key, "the killed node back and in sync", f.us.nodes, func(vs []regionapi.View) bool {
			return agree(vs) && allNodesActive(vs[0]) && allInSync(vs[0])
		})
	}
	awaitProgress("after the last restart")
	stopPublishing()
	wg.Wait()
	// The last sends settle: every one acknowledged or failed.
	settleBy := time.Now().Add(geoTimeout)
	for _, kp := range ps {
		for {
			kp.mu.Lock()
			done := int64(len(kp.acked)+len(kp.failed)) == kp.sent
			kp.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(settleBy) {
				t.Fatalf("%s: sends still unanswered after %v", kp.name, geoTimeout)
			}
			time.Sleep(20 * time.Millisecond) // polling the producer's callbacks with a deadline
		}
	}

	acked, failed := 0, 0
	for _, kp := range ps {
		kp.mu.Lock()
		acked += len(kp.acked)
		failed += len(kp.failed)
		kp.mu.Unlock()
	}
	for _, where := range []struct{ name, url string }{{"eu-west", f.eu.url}, {"us-east", strings.Join(f.us.urls, ",")}} {
		stored := readKillStream(t, ctx, f.us.key, where.url, ps, acked)
		missing, dupes := 0, 0
		for _, kp := range ps {
			seqs := stored[kp.name]
			count := map[int64]int{}
			for i, s := range seqs {
				count[s]++
				if i > 0 && s <= seqs[i-1] {
					t.Errorf("%s: %s: sequence id %d stored after %d", where.name, kp.name, s, seqs[i-1])
				}
			}
			for s := range kp.acked {
				if count[s] == 0 {
					missing++
				}
			}
			for _, n := range count {
				dupes += max(0, n-1)
			}
		}
		if missing > 0 || dupes > 0 {
			t.Fatalf("%s: %d acknowledged messages missing, %d stored twice (of %d acknowledged)", where.name, missing, dupes, acked)
		}
		t.Logf("%s: all %d acknowledged messages stored once, in each producer's order", where.name, acked)
	}
	t.Logf("%d kills: replication taken over in %v (each), producers resumed in %v; %d sends failed (never acknowledged)",
		geoKillRounds, takeovers, resumes, failed)
}

// allInSync: every unit of the region has its whole replica set in sync.
func allInSync(v regionapi.View) bool {
	for _, u := range v.Units {
		if len(u.InSync) != len(u.Replicas) {
			return false
		}
	}
	return true
}
