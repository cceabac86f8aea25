package cursorstore

import (
	"errors"
	"net"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/subscription"
)

const waitFor = 30 * time.Second

// testNode is one node of an in-process region on loopback (the pattern of
// region/meta's tests): its HTTP listener serves the group's internal API.
type testNode struct {
	cfg   meta.Config
	group atomic.Pointer[meta.Group]
	log   *zap.Logger
}

func (n *testNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g := n.group.Load(); g != nil {
		g.Handler().ServeHTTP(w, r)
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}

func (n *testNode) g() *meta.Group { return n.group.Load() }

func (n *testNode) stop() {
	if g := n.group.Swap(nil); g != nil {
		g.Close()
	}
}

// startRegion starts count nodes that bootstrap one region and waits until
// every node is registered.
func startRegion(tb testing.TB, count int, log *zap.Logger) []*testNode {
	tb.Helper()
	raft := testnet.FreeAddrs(tb, count)
	boot := map[region.NodeID]string{}
	for i := range count {
		boot[region.NodeID(i+1)] = raft[i]
	}
	nodes := make([]*testNode, count)
	var urls []string
	for i := range count {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		n := &testNode{log: log}
		srv := &http.Server{Handler: n}
		go srv.Serve(ln)
		tb.Cleanup(func() { srv.Close() })
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
		n.cfg = meta.Config{Region: "us-east", Node: region.NodeID(i + 1), DataDir: tb.TempDir(), Secret: "s3cret",
			Addrs:     region.Addrs{Raft: raft[i], Data: "127.0.0.1:1", HTTP: urls[i]},
			Bootstrap: boot, Peers: peers, RTTMillisecond: 5, HeartbeatInterval: 200 * time.Millisecond,
			SessionTimeout: 1500 * time.Millisecond, ControllerInterval: 50 * time.Millisecond, ReplaceAfter: time.Hour,
			RequestTimeout: 2 * time.Second}
	}
	errs := make(chan error, count)
	for _, n := range nodes {
		go func() {
			g, err := meta.Start(n.cfg, n.log)
			if err == nil {
				n.group.Store(g)
			}
			errs <- err
		}()
	}
	for range count {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		for _, n := range nodes {
			n.stop()
		}
	})
	deadline := time.After(waitFor)
	for {
		ch := nodes[0].g().Changed()
		if len(nodes[0].g().Local().Nodes) == count {
			return nodes
		}
		select {
		case <-ch:
		case <-deadline:
			tb.Fatalf("the region did not register its %d nodes", count)
		}
	}
}

// eventually retries f (bounded): a read or save may meet the group
// electing a leader, which it reports as meta.ErrUnavailable.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		err := f()
		if err == nil {
			return
		}
		if !errors.Is(err, meta.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCursorSurvivesNodeLoss: a cursor saved through one node (the
// group's leader, the hardest case) loads on another after the first one
// stops; the survivors keep saving and loading.
func TestCursorSurvivesNodeLoss(t *testing.T) {
	nodes := startRegion(t, 3, zap.NewNop())
	var first *testNode
	deadline := time.Now().Add(waitFor)
	for first == nil {
		for _, n := range nodes {
			if n.g().Leading() {
				first = n
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no leader of the group")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var others []*testNode
	for _, n := range nodes {
		if n != first {
			others = append(others, n)
		}
	}
	key := "cursor/t/f/orders/billing"
	want := subscription.CursorState{MarkDelete: 1000, Acked: []subscription.Range{{From: 1002, To: 1010}, {From: 1500, To: 1501}}}
	s1 := New(first.g())
	if err := s1.Save(key, subscription.CursorState{MarkDelete: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Save(key, want); err != nil {
		t.Fatal(err)
	}
	first.stop()

	s2 := New(others[0].g())
	var got subscription.CursorState
	eventually(t, "load on node 2", func() error {
		st, ok, err := s2.Load(key)
		if err == nil && !ok {
			t.Fatal("the cursor is gone with its node")
		}
		got = st
		return err
	})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("node %d loads %+v, want %+v", others[0].cfg.Node, got, want)
	}
	next := subscription.CursorState{MarkDelete: 1600}
	eventually(t, "save on node 2", func() error { return s2.Save(key, next) })
	s3 := New(others[1].g())
	if got, ok, err := s3.Load(key); err != nil || !ok || !reflect.DeepEqual(got, next) {
		t.Fatalf("node %d loads %+v, %v, %v; want %+v", others[1].cfg.Node, got, ok, err, next)
	}
}

// TestSubscriptionMovesWithItsCursor: a subscription acknowledged on one
// node (its persister saves in the background; the subscription is never
// closed, as in a crash) opens on another node at the same position once
// the first node is gone.
func TestSubscriptionMovesWithItsCursor(t *testing.T) {
	nodes := startRegion(t, 3, zap.NewNop())
	src := &fixedSource{end: 100}
	key := "cursor/t/f/orders/kafka-group"
	sub, err := subscription.Open(subscription.Config{Name: "kafka-group", Initial: subscription.Earliest}, src, New(nodes[0].g()), key)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Commit(60); err != nil {
		t.Fatal(err)
	}
	// the persister saves in the background: wait until the region has it
	// (a read may find the metadata group without a quorum for a moment,
	// as on a loaded machine right after the region started: retried)
	s2 := New(nodes[1].g())
	deadline := time.Now().Add(waitFor)
	for {
		st, ok, err := s2.Load(key)
		if err == nil && ok && st.MarkDelete == 60 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the commit never reached the region: %+v %v %v", st, ok, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	nodes[0].stop()
	var moved *subscription.Subscription
	eventually(t, "open on node 2", func() error {
		var err error
		moved, err = subscription.Open(subscription.Config{Name: "kafka-group", Initial: subscription.Earliest}, src, s2, key)
		return err
	})
	defer moved.Close()
	if md := moved.MarkDelete(); md != 60 {
		t.Fatalf("the subscription opens at %d on node 2, want 60", md)
	}
}

// fixedSource is a stream partition of end records that never grows and
// is never read (the tests move cursors by commits).
type fixedSource struct{ end uint64 }

func (s *fixedSource) Read(uint64, int, int) ([]segment.Record, error) { return nil, nil }
func (s *fixedSource) StartOffset() uint64                             { return 0 }
func (s *fixedSource) EndOffset() uint64                               { return s.end }
func (s *fixedSource) Changed() <-chan struct{}                        { return nil }
func (s *fixedSource) OffsetAtTime(int64) uint64                       { return 0 }
