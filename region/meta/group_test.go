package meta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
)

const waitFor = 30 * time.Second

// testNode is one node of an in-process region: its HTTP listener serves
// the group's internal API once the group runs.
type testNode struct {
	cfg   Config
	group atomic.Pointer[Group]
	srv   *http.Server
}

func (n *testNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g := n.group.Load(); g != nil {
		g.Handler().ServeHTTP(w, r)
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}

func (n *testNode) start(t *testing.T) {
	t.Helper()
	g, err := Start(n.cfg, zaptest.NewLogger(t).WithOptions())
	if err != nil {
		t.Fatalf("start node %d: %v", n.cfg.Node, err)
	}
	n.group.Store(g)
}

func (n *testNode) stop() {
	if g := n.group.Swap(nil); g != nil {
		g.Close()
	}
}

// startRegion starts n nodes that bootstrap one region.
func startRegion(t *testing.T, count int) []*testNode {
	t.Helper()
	raft := testnet.FreeAddrs(t, count)
	boot := map[region.NodeID]string{}
	for i := range count {
		boot[region.NodeID(i+1)] = raft[i]
	}
	nodes := make([]*testNode, count)
	var urls []string
	for i := range count {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n := &testNode{}
		n.srv = &http.Server{Handler: n}
		go n.srv.Serve(ln)
		t.Cleanup(func() { n.srv.Close() })
		urls = append(urls, "http://"+ln.Addr().String())
		nodes[i] = n
	}
	for i, n := range nodes {
		var peers []string
		for j, u := range urls {
			if j != i {
				peers = append(peers, u)
			}
		}
		n.cfg = Config{Region: "us-east", Node: region.NodeID(i + 1), DataDir: t.TempDir(), Secret: "s3cret",
			Addrs:     region.Addrs{Raft: raft[i], Data: "127.0.0.1:1", HTTP: urls[i]},
			Bootstrap: boot, Peers: peers, RTTMillisecond: 5, HeartbeatInterval: 200 * time.Millisecond,
			SessionTimeout: 1500 * time.Millisecond, ControllerInterval: 50 * time.Millisecond, ReplaceAfter: time.Hour,
			RequestTimeout: 2 * time.Second}
	}
	// The voters start together (each waits for a quorum to register).
	done := make(chan struct{}, count)
	for _, n := range nodes {
		go func() { n.start(t); done <- struct{}{} }()
	}
	for range count {
		<-done
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop()
		}
	})
	return nodes
}

// await waits (bounded) until cond holds on g's local state.
func await(t *testing.T, g *Group, what string, cond func(*region.State) bool) *region.State {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		ch := g.Changed()
		if st := g.Local(); cond(st) {
			return st
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; state %+v", what, g.Local())
		}
	}
}

func (n *testNode) g() *Group { return n.group.Load() }

func TestRegionFailover(t *testing.T) {
	nodes := startRegion(t, 3)
	g := nodes[0].g()
	await(t, g, "three active nodes", func(s *region.State) bool {
		if len(s.Nodes) != 3 {
			return false
		}
		for _, n := range s.Nodes {
			if n.Status != region.NodeActive {
				return false
			}
		}
		return true
	})
	ctx := context.Background()
	st := await(t, g, "three active nodes to place on", func(s *region.State) bool { return region.Place(s, 3) != nil })
	replicas := region.Place(st, 3)
	if err := g.Propose(ctx, region.Command{Kind: region.KindCreateUnit, Unit: "stream:t/f/orders", Factor: 3, Replicas: replicas}); err != nil {
		t.Fatal(err)
	}
	if err := g.Propose(ctx, region.Command{Kind: region.KindCreateUnit, Unit: "stream:t/f/orders", Factor: 3, Replicas: replicas}); !errors.Is(err, ErrRefused) {
		t.Fatalf("a second creation: %v, want refused", err)
	}
	u := g.Local().Units["stream:t/f/orders"]
	oldLeader, oldEpoch := u.Leader, u.Epoch

	// kill the unit's leader: it is fenced and the unit moves, within the
	// session timeout plus an election.
	killed := nodes[oldLeader-1]
	killedAt := time.Now()
	killed.stop()
	var survivor *testNode
	for _, n := range nodes {
		if n != killed {
			survivor = n
			break
		}
	}
	st = await(t, survivor.g(), "a new leader", func(s *region.State) bool {
		u := s.Units["stream:t/f/orders"]
		return u.Leader != 0 && u.Leader != oldLeader && u.Epoch > oldEpoch && s.Nodes[oldLeader].Status == region.NodeFenced
	})
	t.Logf("failover to node %d in %v", st.Units["stream:t/f/orders"].Leader, time.Since(killedAt))

	// it restarts with its disk: unfenced, same incarnation.
	inc := st.Nodes[oldLeader].Incarnation
	killed.start(t)
	await(t, survivor.g(), "the restarted node unfenced", func(s *region.State) bool {
		return s.Nodes[oldLeader].Status == region.NodeActive && s.Nodes[oldLeader].Incarnation == inc
	})

	// wipe another node: it joins under a new incarnation and a new Raft
	// replica; its old replica leaves the group, the new one votes.
	var wiped *testNode
	for _, n := range nodes {
		if n != killed {
			wiped = n
			break
		}
	}
	oldReplica := wiped.g().id.ReplicaID
	wiped.stop()
	if err := os.RemoveAll(wiped.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	wiped.start(t)
	newInc := wiped.g().Self().Incarnation
	if newInc == inc || wiped.g().id.ReplicaID == oldReplica {
		t.Fatal("a wiped node kept its identity")
	}
	st = await(t, killed.g(), "the wiped node registered anew", func(s *region.State) bool {
		n := s.Nodes[wiped.cfg.Node]
		return n.Incarnation == newInc && n.Status == region.NodeActive
	})
	if st.Units["stream:t/f/orders"].InSyncHas(wiped.cfg.Node) {
		t.Fatal("a wiped node is still in sync")
	}
	deadline := time.Now().Add(waitFor)
	for {
		mctx, cancel := context.WithTimeout(ctx, time.Second)
		m, err := killed.g().nh.SyncGetShardMembership(mctx, ShardID)
		cancel()
		if err == nil {
			_, oldThere := m.Nodes[oldReplica]
			_, newVotes := m.Nodes[wiped.g().id.ReplicaID]
			if !oldThere && newVotes {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("raft membership not tidied: %+v", m)
		}
		select {
		case <-killed.g().Changed():
		case <-time.After(100 * time.Millisecond): // membership changes are not state entries
		}
	}
}

// TestMinorityRefuses: a node that cannot reach a majority of the group
// can neither propose nor read.
func TestMinorityRefuses(t *testing.T) {
	nodes := startRegion(t, 3)
	await(t, nodes[0].g(), "three nodes", func(s *region.State) bool { return len(s.Nodes) == 3 })
	nodes[1].stop()
	nodes[2].stop()
	ctx := context.Background()
	err := nodes[0].g().Propose(ctx, region.Command{Kind: region.KindDrainNode, Member: region.Member{Node: 2}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("minority propose: %v, want ErrUnavailable", err)
	}
	if _, err := nodes[0].g().State(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("minority read: %v, want ErrUnavailable", err)
	}
}

// TestJoinRequiresTheSecret: unsigned or wrongly signed membership requests
// are refused and change nothing.
func TestJoinRequiresTheSecret(t *testing.T) {
	nodes := startRegion(t, 3)
	g := nodes[0].g()
	await(t, g, "three nodes", func(s *region.State) bool { return len(s.Nodes) == 3 })
	body := `{"node":9,"replicaID":99,"raft":"127.0.0.1:9"}`
	for _, sig := range []string{"", "00", sign("wrong", http.MethodPost, JoinPath, []byte(body))} {
		req, _ := http.NewRequest(http.MethodPost, nodes[0].cfg.Addrs.HTTP+JoinPath, strings.NewReader(body))
		if sig != "" {
			req.Header.Set(authHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("signature %q: status %d, want 401", sig, resp.StatusCode)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	m, err := g.nh.SyncGetShardMembership(ctx, ShardID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.NonVotings[99]; ok {
		t.Fatal("an unauthenticated join added a replica")
	}
	if len(m.Nodes) != 3 || len(m.NonVotings) != 0 {
		t.Fatal(fmt.Sprintf("membership changed: %+v", m))
	}
}
