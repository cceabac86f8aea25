package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// The names of a cutNet's namespaces and links: cutNetPrefix, the test
// process's pid and its run number (both base 36), then what it is
// ("b" the bridge, "h1" node 1's host side veth, "n1" node 1's namespace),
// at most 15 bytes for a link name. The pid tells a sweep whose
// leftovers are whose.
const (
	cutNetPrefix = "cwc"
	netnsDir     = "/var/run/netns" // where `ip netns` names namespaces
	nsLinkName   = "cut0"           // a node's side of its veth, in its namespace
)

// cutNetRuns numbers the cutNets of this test process.
var cutNetRuns atomic.Int64

// cutNet is a bridge in the root network namespace and one namespace per
// node joined to it by a veth pair: node i is subnet.(i+1)/24 in
// namespace ns(i), the bridge subnet.254, so the test process reaches
// every node and the nodes reach each other through the bridge. Taking
// node i's host side veth down cuts it off from both; the node and any
// client in its namespace keep running.
type cutNet struct {
	prefix string // unique per run
	subnet string // "10.77.s", s chosen unused on this machine
	nodes  int
}

func (c *cutNet) ns(i int) string       { return fmt.Sprintf("%sn%d", c.prefix, i+1) }
func (c *cutNet) hostLink(i int) string { return fmt.Sprintf("%sh%d", c.prefix, i+1) }
func (c *cutNet) bridge() string        { return c.prefix + "b" }
func (c *cutNet) addr(i int) string     { return fmt.Sprintf("%s.%d", c.subnet, i+1) }

// newCutNet builds a cutNet of nodes namespaces, removed when the test
// ends (after its processes, whose clean-ups were registered later). It
// skips the test when the process is not root or namespaces, bridges or
// veth pairs cannot be made here, and first removes what runs of dead
// test processes left behind.
func newCutNet(t *testing.T, nodes int) *cutNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	ip, err := ipPath()
	if err != nil {
		t.Skipf("no ip command: %v", err)
	}
	sweepCutNets(t, ip)
	c := &cutNet{nodes: nodes, prefix: cutNetPrefix + strconv.FormatInt(int64(os.Getpid()), 36) + "-" + strconv.FormatInt(cutNetRuns.Add(1), 36)}
	if c.subnet, err = freeSubnet(ip); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.remove(t, ip) })
	if err := ipRun(ip, "netns", "add", c.ns(0)); err != nil {
		t.Skipf("network namespaces unavailable: %v", err)
	}
	if err := ipRun(ip, "link", "add", c.bridge(), "type", "bridge"); err != nil {
		t.Skipf("bridges unavailable: %v", err)
	}
	steps := [][]string{{"addr", "add", c.subnet + ".254/24", "dev", c.bridge()}, {"link", "set", c.bridge(), "up"}}
	for i := range nodes {
		if i > 0 {
			steps = append(steps, []string{"netns", "add", c.ns(i)})
		}
		steps = append(steps,
			[]string{"link", "add", c.hostLink(i), "type", "veth", "peer", "name", nsLinkName, "netns", c.ns(i)},
			[]string{"link", "set", c.hostLink(i), "master", c.bridge(), "up"},
			[]string{"-n", c.ns(i), "addr", "add", c.addr(i) + "/24", "dev", nsLinkName},
			[]string{"-n", c.ns(i), "link", "set", nsLinkName, "up"},
			[]string{"-n", c.ns(i), "link", "set", "lo", "up"})
	}
	for _, step := range steps {
		if err := ipRun(ip, step...); err != nil {
			t.Fatalf("setting up the network: %v", err)
		}
	}
	return c
}

// setLink takes node i's host side veth up or down.
func (c *cutNet) setLink(t *testing.T, i int, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	ip, err := ipPath()
	if err == nil {
		err = ipRun(ip, "link", "set", c.hostLink(i), state)
	}
	if err != nil {
		t.Fatalf("node %d's link %s: %v", i+1, state, err)
	}
}

// remove deletes c's namespaces (their veth pairs go with them) and its
// bridge. Errors are logged: a leftover is swept by a later run.
func (c *cutNet) remove(t *testing.T, ip string) {
	for i := range c.nodes {
		if _, err := os.Stat(filepath.Join(netnsDir, c.ns(i))); err == nil {
			if err := ipRun(ip, "netns", "del", c.ns(i)); err != nil {
				t.Logf("clean-up: %v", err)
			}
		}
	}
	if _, err := net.InterfaceByName(c.bridge()); err == nil {
		if err := ipRun(ip, "link", "del", c.bridge()); err != nil {
			t.Logf("clean-up: %v", err)
		}
	}
}

// sweepCutNets removes the namespaces and links of cutNets whose test
// process is gone (an aborted run): it kills what still runs in such a
// namespace (the nodes that run started), deletes the namespace, then the
// links.
func sweepCutNets(t *testing.T, ip string) {
	t.Helper()
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		if !cutNetOrphan(e.Name()) {
			continue
		}
		out, _ := exec.Command(ip, "netns", "pids", e.Name()).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if err := ipRun(ip, "netns", "del", e.Name()); err != nil {
			t.Logf("sweeping a leftover: %v", err)
		} else {
			t.Logf("swept leftover namespace %s", e.Name())
		}
	}
	links, _ := net.Interfaces()
	for _, l := range links {
		if cutNetOrphan(l.Name) {
			if err := ipRun(ip, "link", "del", l.Name); err != nil {
				t.Logf("sweeping a leftover: %v", err)
			} else {
				t.Logf("swept leftover link %s", l.Name)
			}
		}
	}
}

// cutNetOrphan: name is a cutNet's namespace or link and the test process
// that made it is gone.
func cutNetOrphan(name string) bool {
	rest, ok := strings.CutPrefix(name, cutNetPrefix)
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.ParseInt(pidText, 36, 32)
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(int(pid), 0) == syscall.ESRCH
}

// freeSubnet picks 10.77.s (1 <= s <= 250) that no address or route of
// this machine uses.
func freeSubnet(ip string) (string, error) {
	var used bytes.Buffer
	for _, args := range [][]string{{"-4", "-o", "addr", "show"}, {"-4", "route", "show", "table", "all"}} {
		out, err := exec.Command(ip, args...).Output()
		if err != nil {
			return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
		}
		used.Write(out)
	}
	for range 100 {
		subnet := fmt.Sprintf("10.77.%d", 1+rand.IntN(250))
		if !bytes.Contains(used.Bytes(), []byte(subnet+".")) {
			return subnet, nil
		}
	}
	return "", fmt.Errorf("no free 10.77.x.0/24 subnet")
}

// ipPath finds the ip command.
func ipPath() (string, error) { return exec.LookPath("ip") }

// ipRun runs ip with args; its error carries its output.
func ipRun(ip string, args ...string) error {
	out, err := exec.Command(ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// nsDial dials addr from inside network namespace ns. A socket belongs to
// the namespace of the thread that creates it, so a goroutine locked to
// its thread enters ns and dials; it never unlocks, so the runtime ends
// the thread with the goroutine and no other code runs in ns.
func nsDial(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, ns))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		done <- result{conn, err}
	}()
	res := <-done
	if res.err != nil {
		return nil, fmt.Errorf("in network namespace %s: %w", ns, res.err)
	}
	return res.conn, nil
}

// nsWSDialer is a WebSocket dialer whose connections start in namespace ns.
func nsWSDialer(ns string) *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nsDial(ctx, ns, network, addr)
	}}
}

// nsHTTPClient is an admin HTTP client whose connections start in
// namespace ns.
func nsHTTPClient(ns, token string) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nsDial(ctx, ns, network, addr)
	}}
	return &http.Client{Timeout: 15 * time.Second, Transport: bearer{token: token, next: tr}}
}
