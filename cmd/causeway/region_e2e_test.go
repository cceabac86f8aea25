package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/server/regionapi"
)

// clusterNode is one `causeway serve` node of a region of several nodes.
type clusterNode struct {
	id     int
	args   []string
	url    string
	cmd    *exec.Cmd
	exited chan error
	log    *syncBuffer
}

// start runs the node without waiting for it: a new region's voters start
// together (each asks the others whether the region exists first).
func (n *clusterNode) start(t *testing.T, bin string) {
	t.Helper()
	n.cmd = exec.Command(bin, n.args...)
	n.log = &syncBuffer{}
	n.cmd.Stderr = n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan error, 1)
	go func() { n.exited <- n.cmd.Wait() }()
	t.Cleanup(func() { n.kill() })
}

func (n *clusterNode) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
}

// awaitRegion waits until every node of nodes answers GET
// /_api/region/state and cond holds for their views together.
func awaitRegion(t *testing.T, key, what string, nodes []*clusterNode, cond func([]regionapi.View) bool) []regionapi.View {
	t.Helper()
	client := adminClient(key)
	deadline := time.Now().Add(geoTimeout)
	var last []regionapi.View
	var lastErr error
	for time.Now().Before(deadline) {
		var views []regionapi.View
		lastErr = nil
		for _, n := range nodes {
			select {
			case err := <-n.exited:
				t.Fatalf("node %d exited: %v\n%s", n.id, err, n.log.String())
			default:
			}
			v, many, err := fetchRegionView(client, n.url)
			if err == nil && !many {
				err = fmt.Errorf("node %d has no region group", n.id)
			}
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
		time.Sleep(100 * time.Millisecond) // polling processes with a deadline
	}
	t.Fatalf("timed out waiting for %s: last views %+v, last error %v", what, last, lastErr)
	return nil
}

// agree: the views show the same nodes (lives, status, addresses), units
// and group leader.
func agree(vs []regionapi.View) bool {
	for _, v := range vs[1:] {
		if v.MetaLeader != vs[0].MetaLeader || !reflect.DeepEqual(v.Nodes, vs[0].Nodes) || !reflect.DeepEqual(v.Units, vs[0].Units) {
			return false
		}
	}
	return true
}

// TestRegionOfThreeServeNodes runs three `causeway serve` processes
// configured as one region (--cluster-* flags, authentication on): they
// form the region's metadata group, GET /_api/region/state lists the three
// nodes on each with one leader (superusers only), and `causeway status`
// shows them. SIGKILL of the group leader's process moves the leadership:
// the two others answer with one view, the killed node fenced; restarted
// on its data directory, it is active again in the same life.
func TestRegionOfThreeServeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	addrs := testnet.FreeAddrs(t, 9)
	var voters []string
	for i := range 3 {
		voters = append(voters, strconv.Itoa(i+1)+"="+addrs[3+i])
	}
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		var peers []string
		for j := range 3 {
			if j != i {
				peers = append(peers, "http://"+addrs[j])
			}
		}
		nodes[i] = &clusterNode{id: i + 1, url: "http://" + addrs[i], args: []string{"serve", "--region", "us-east",
			"--data", t.TempDir(), "--http", addrs[i], "--admin-key", key, "--log-level", "warn",
			"--cluster-node", strconv.Itoa(i + 1), "--cluster-raft", addrs[3+i], "--cluster-data", addrs[6+i],
			"--cluster-voters", strings.Join(voters, ","), "--cluster-peers", strings.Join(peers, ","),
			"--cluster-secret", "e2e-region-secret-0123456789"}}
	}
	for _, n := range nodes {
		n.start(t, bin)
	}
	views := awaitRegion(t, key, "three active nodes and one leader", nodes, func(vs []regionapi.View) bool {
		if len(vs[0].Nodes) != 3 || vs[0].MetaLeader == 0 || !agree(vs) {
			return false
		}
		for _, n := range vs[0].Nodes {
			if n.Status != "active" {
				return false
			}
		}
		return true
	})
	for i, n := range views[0].Nodes {
		if n.Addrs.HTTP != nodes[i].url || n.Addrs.Raft != addrs[3+i] || n.Addrs.Data != addrs[6+i] {
			t.Fatalf("node %d: %+v", i+1, n)
		}
	}
	if _, many, err := fetchRegionView(adminClient("cwk_nobody"), nodes[0].url); err == nil || many {
		t.Fatalf("a wrong key read the region: %v", err)
	}
	if _, _, err := fetchRegionView(&http.Client{Timeout: 10 * time.Second}, nodes[1].url); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("no credential: %v, want 401", err)
	}
	var out, errOut bytes.Buffer
	args := []string{"status", "--url", nodes[0].url, "--url", nodes[1].url, "--url", nodes[2].url}
	t.Setenv(tokenEnv, key)
	if code := run(args, nil, &out, &errOut); code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut.String())
	}
	leader := views[0].MetaLeader
	if s := out.String(); !strings.Contains(s, "region us-east: 3 nodes; metadata group led by node "+strconv.Itoa(int(leader))) ||
		strings.Count(s, "region us-east:") != 1 || !strings.Contains(s, addrs[5]) {
		t.Fatalf("status:\n%s", s)
	}

	killed := nodes[leader-1]
	inc := views[0].Nodes[leader-1].Incarnation
	killed.kill()
	var rest []*clusterNode
	for _, n := range nodes {
		if n != killed {
			rest = append(rest, n)
		}
	}
	views = awaitRegion(t, key, "a new leader, the killed node fenced", rest, func(vs []regionapi.View) bool {
		k, _ := vs[0].NodeByID(region.NodeID(leader))
		return vs[0].MetaLeader != 0 && vs[0].MetaLeader != leader && k.Status == "fenced" && agree(vs)
	})
	t.Logf("leadership moved from node %d to node %d", leader, views[0].MetaLeader)

	killed.start(t, bin)
	awaitRegion(t, key, "the restarted node active in the same life", nodes, func(vs []regionapi.View) bool {
		k, _ := vs[0].NodeByID(region.NodeID(leader))
		return k.Status == "active" && k.Incarnation == inc && agree(vs)
	})
	for _, n := range nodes {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, n := range nodes {
		select {
		case err := <-n.exited:
			n.cmd = nil
			if err != nil {
				t.Errorf("node %d: exit after SIGTERM: %v\n%s", n.id, err, n.log.String())
			}
		case <-time.After(geoTimeout):
			t.Fatalf("node %d did not stop on SIGTERM", n.id)
		}
	}
}
