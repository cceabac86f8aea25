package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/server/regionapi"
)

// regionWait bounds every wait of the region tests.
const regionWait = 60 * time.Second

const regionSecret = "region-test-secret-0123456789"

// regionNode is one node of an in-process region, started by server.StartWith
// with authentication on and the region's shared superuser key.
type regionNode struct {
	cfg  broker.Config
	opts server.Options
	srv  *server.Server
	url  string
}

// regionCluster is the nodes of one region and their admin key.
type regionCluster struct {
	key   string
	nodes []*regionNode
	drawn []string // every address freeAddrs handed out
}

// freeAddrs returns n loopback addresses free now and not handed out to
// this cluster's nodes before (which may not listen yet).
func (c *regionCluster) freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := testnet.FreeAddrsExcept(t, n, c.drawn)
	c.drawn = append(c.drawn, addrs...)
	return addrs
}

// newRegionCluster configures n voters of region us-east on loopback
// addresses chosen up front (every node must know its peers' addresses),
// with the metadata group's fast test timings.
func newRegionCluster(t *testing.T, n int) *regionCluster {
	t.Helper()
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &regionCluster{key: key}
	addrs := c.freeAddrs(t, 3*n)
	voters := map[region.NodeID]string{}
	for i := range n {
		voters[region.NodeID(i+1)] = addrs[n+i]
	}
	for i := range n {
		c.nodes = append(c.nodes, c.node(t, i+1, addrs[i], addrs[n+i], addrs[2*n+i], voters))
	}
	for i, nd := range c.nodes {
		for j, other := range c.nodes {
			if j != i {
				nd.opts.Region.Meta.Peers = append(nd.opts.Region.Meta.Peers, other.url)
			}
		}
	}
	return c
}

// node configures node id listening on httpAddr (HTTP), raft and data.
func (c *regionCluster) node(t *testing.T, id int, httpAddr, raft, data string, voters map[region.NodeID]string) *regionNode {
	on := true
	return &regionNode{
		cfg: broker.Config{Region: "us-east", DataDir: t.TempDir(), HTTPAddr: httpAddr, Auth: auth.Config{Enabled: &on, AdminKey: c.key}},
		opts: server.Options{Region: &server.RegionOptions{Meta: meta.Config{
			Node: region.NodeID(id), Addrs: region.Addrs{Raft: raft, Data: data}, Bootstrap: voters, Secret: regionSecret,
			RTTMillisecond: 5, HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: 1500 * time.Millisecond,
			ControllerInterval: 50 * time.Millisecond, ReplaceAfter: time.Hour, RequestTimeout: 2 * time.Second,
		}}},
		url: "http://" + httpAddr,
	}
}

func (n *regionNode) start(t *testing.T) error {
	logger := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(fmt.Sprintf("node%d", n.opts.Region.Meta.Node))
	srv, err := server.StartWith(n.cfg, logger, n.opts)
	if err != nil {
		return err
	}
	n.srv = srv
	t.Cleanup(func() { n.stop() })
	return nil
}

func (n *regionNode) stop() {
	if n.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), regionWait)
	defer cancel()
	_ = n.srv.Shutdown(ctx)
	n.srv = nil
}

// startAll starts the nodes together, as a new region's voters do (each
// asks the others whether the region exists before bootstrapping).
func (c *regionCluster) startAll(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = n.start(t) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// get fetches path from base with cred as bearer token ("" for none).
func get(t *testing.T, base, path, cred string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// view asks a node for GET /_api/region/state.
func (c *regionCluster) view(t *testing.T, n *regionNode) (regionapi.View, error) {
	t.Helper()
	code, body := get(t, n.url, regionapi.StatePath, c.key)
	var out struct {
		Result regionapi.View `json:"result"`
	}
	if code != http.StatusOK {
		return out.Result, fmt.Errorf("%d %s", code, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out.Result, err
	}
	return out.Result, nil
}

// awaitViews waits until every node of nodes answers and cond holds for
// all their views together; it returns the views.
func (c *regionCluster) awaitViews(t *testing.T, what string, nodes []*regionNode, cond func([]regionapi.View) bool) []regionapi.View {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	var last []regionapi.View
	var lastErr error
	for time.Now().Before(deadline) {
		views := make([]regionapi.View, 0, len(nodes))
		lastErr = nil
		for _, n := range nodes {
			v, err := c.view(t, n)
			if err != nil {
				lastErr = err
				break
			}
			views = append(views, v)
		}
		if lastErr == nil {
			last = views
			if cond(views) {
				return views
			}
		}
		time.Sleep(100 * time.Millisecond) // polling a remote view with a deadline
	}
	t.Fatalf("timed out waiting for %s; last views %+v, last error %v", what, last, lastErr)
	return nil
}

// sameView: the views agree on the nodes (ids, lives, status, addresses),
// the units and the group's leader (they may differ in the applied index:
// heartbeats are commands).
func sameView(vs []regionapi.View) bool {
	for _, v := range vs[1:] {
		if v.MetaLeader != vs[0].MetaLeader || !reflect.DeepEqual(v.Nodes, vs[0].Nodes) || !reflect.DeepEqual(v.Units, vs[0].Units) {
			return false
		}
	}
	return true
}

func allActive(v regionapi.View, n int) bool {
	if len(v.Nodes) != n {
		return false
	}
	for _, nd := range v.Nodes {
		if nd.Status != "active" {
			return false
		}
	}
	return true
}

// TestRegionOfThreeNodes: three nodes form their region's metadata group;
// GET /_api/region/state lists them on every node, with the same view and
// leader, and only for a superuser; a unit proposed through the group
// shows its replicas, leader, epoch and in-sync set. Killing the node
// that leads the group moves the leadership, and the two others still
// answer with one view, the killed node fenced and the unit led by a live
// node.
func TestRegionOfThreeNodes(t *testing.T) {
	c := newRegionCluster(t, 3)
	c.startAll(t)
	views := c.awaitViews(t, "three active nodes with one leader", c.nodes, func(vs []regionapi.View) bool {
		return allActive(vs[0], 3) && vs[0].MetaLeader != 0 && sameView(vs)
	})
	for i, v := range views {
		if v.Region != "us-east" || v.Node != region.NodeID(i+1) {
			t.Fatalf("node %d answered as %s/%d", i+1, v.Region, v.Node)
		}
		n := v.Nodes[i]
		if n.Addrs.HTTP != c.nodes[i].url || n.Addrs.Raft != c.nodes[i].opts.Region.Meta.Addrs.Raft ||
			n.Addrs.Data != c.nodes[i].opts.Region.Meta.Addrs.Data || n.Incarnation == 0 {
			t.Fatalf("node %d: %+v", i+1, n)
		}
	}

	// Only superusers see it; the nodes' internal paths want the region
	// secret, not an API key.
	for _, cred := range []string{"", "cwk_not-a-key", c.key} {
		path := regionapi.StatePath
		if cred == c.key {
			path = meta.StatePath
		}
		if code, body := get(t, c.nodes[0].url, path, cred); code != http.StatusUnauthorized {
			t.Fatalf("GET %s with %q: %d %s, want 401", path, cred, code, body)
		}
	}
	for _, path := range []string{regionapi.LeaderPath, meta.JoinPath} {
		if code, _ := get(t, c.nodes[1].url, path, c.key); code == http.StatusOK {
			t.Fatalf("GET %s with an API key: 200", path)
		}
	}

	// A unit: who owns it is in the view.
	g := c.nodes[0].srv.RegionGroup()
	ctx, cancel := context.WithTimeout(context.Background(), regionWait)
	defer cancel()
	const unit = region.UnitID("stream:_mm/_system/orders")
	if err := g.Propose(ctx, region.Command{Kind: region.KindCreateUnit, Unit: unit, Factor: 3, Replicas: region.Place(g.Local(), 3)}); err != nil {
		t.Fatal(err)
	}
	views = c.awaitViews(t, "the unit on every node", c.nodes, func(vs []regionapi.View) bool {
		return len(vs[0].Units) == 1 && sameView(vs)
	})
	u := views[0].Units[0]
	if u.ID != unit || u.Factor != 3 || len(u.Replicas) != 3 || u.Leader == 0 || u.Epoch == 0 || len(u.InSync) != 3 {
		t.Fatalf("unit: %+v", u)
	}

	// Kill the node that leads the group.
	leader := views[0].MetaLeader
	killed := c.nodes[leader-1]
	if !killed.srv.RegionGroup().Leading() {
		t.Fatalf("node %d is said to lead, but does not", leader)
	}
	killedAt := time.Now()
	killed.stop()
	var rest []*regionNode
	for _, n := range c.nodes {
		if n != killed {
			rest = append(rest, n)
		}
	}
	views = c.awaitViews(t, "a new leader, the killed node fenced", rest, func(vs []regionapi.View) bool {
		v := vs[0]
		k, _ := v.NodeByID(leader)
		return v.MetaLeader != 0 && v.MetaLeader != leader && k.Status == "fenced" && len(v.Units) == 1 &&
			v.Units[0].Leader != leader && v.Units[0].Leader != 0 && sameView(vs)
	})
	t.Logf("group leadership moved from node %d to node %d; fenced after %v", leader, views[0].MetaLeader, time.Since(killedAt))
	if len(views[0].Nodes) != 3 {
		t.Fatalf("nodes after the kill: %+v", views[0].Nodes)
	}
}

// TestRegionNodeJoins: a node that is not one of the initial voters joins
// the region through a peer's join path (signed with the region secret, it
// bypasses the API's request gate); a node with another secret is refused
// and changes nothing.
func TestRegionNodeJoins(t *testing.T) {
	c := newRegionCluster(t, 3)
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes[:1], func(vs []regionapi.View) bool { return allActive(vs[0], 3) })
	addrs := c.freeAddrs(t, 3)
	voters := c.nodes[0].opts.Region.Meta.Bootstrap
	peers := []string{c.nodes[0].url, c.nodes[1].url, c.nodes[2].url}

	intruder := c.node(t, 5, addrs[0], addrs[1], addrs[2], voters)
	intruder.opts.Region.Meta.Bootstrap = nil
	intruder.opts.Region.Meta.Peers = peers
	intruder.opts.Region.Meta.Secret = "not-the-region-secret-0123"
	if err := intruder.start(t); err == nil || !strings.Contains(err.Error(), "not signed with the region secret") {
		t.Fatalf("a node with another secret started: %v", err)
	}

	joiner := c.node(t, 4, addrs[0], addrs[1], addrs[2], voters)
	joiner.opts.Region.Meta.Bootstrap = nil
	joiner.opts.Region.Meta.Peers = peers
	if err := joiner.start(t); err != nil {
		t.Fatal(err)
	}
	views := c.awaitViews(t, "four active nodes", append(c.nodes, joiner), func(vs []regionapi.View) bool {
		return allActive(vs[0], 4) && vs[0].MetaLeader != 0 && sameView(vs)
	})
	if _, ok := views[0].NodeByID(5); ok {
		t.Fatal("the refused node is in the region")
	}
}
