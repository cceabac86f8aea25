package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/vfs"
)

// pushed reads one pushed message and returns its id and payload.
func pushed(t *testing.T, c *websocket.Conn) (id, payload string) {
	t.Helper()
	var m map[string]any
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	b, _ := base64.StdEncoding.DecodeString(fmt.Sprint(m["payload"]))
	return fmt.Sprint(m["messageId"]), string(b)
}

func ack(t *testing.T, c *websocket.Conn, id string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
	if err := c.WriteJSON(map[string]any{"messageId": id}); err != nil {
		t.Fatal(err)
	}
}

// health returns /health's status code and its failed checks' names.
func (n *node) health() (int, []string, string) {
	n.t.Helper()
	r := n.do("GET", "/health", "", nil)
	var body struct {
		Result struct {
			Failed []struct {
				Name    string `json:"name"`
				NoSpace bool   `json:"noSpace"`
			} `json:"failed"`
		} `json:"result"`
	}
	_ = json.Unmarshal(r.body, &body)
	var names []string
	for _, f := range body.Result.Failed {
		names = append(names, f.Name)
	}
	return r.code, names, string(r.body)
}

// TestFullDiskEveryStore fills a node's disk (every file it writes goes
// through a fault injector; no free-space reserve, so Pebble itself meets
// ENOSPC): an ack, an API key creation and a collection write fail as
// errors, the node stays up and serves reads, /health is 503 naming the
// stores; when space returns, /health is 200 again and writes succeed
// (collection x, whose op log append failed, refuses writes until a
// restart: a new collection takes them).
func TestFullDiskEveryStore(t *testing.T) {
	inj := &vfs.Injector{}
	n := startSecure(t, func(c *broker.Config) { c.DiskFaults = inj; c.StoreReserveBytes = -1 })
	const sys = "/_fabric/_system/_api/"
	n.must("POST", sys+"collection", n.root, map[string]any{"name": "x"}, http.StatusOK)
	n.must("POST", sys+"document/x", n.root, map[string]any{"_key": "a", "v": 1}, http.StatusCreated)
	p := n.mustDial("/ws/v2/producer/persistent/_mm/_system/s1", n.root, false)
	c := n.mustDial("/ws/v2/consumer/persistent/_mm/_system/s1/sub?subscriptionType=Shared", n.root, false)
	for i := range 3 {
		publish(t, p, fmt.Sprint("m", i))
	}
	var ids []string
	for range 3 {
		id, _ := pushed(t, c)
		ids = append(ids, id)
	}
	if code, failed, body := n.health(); code != http.StatusOK || len(failed) != 0 {
		t.Fatalf("health before the disk fills: %d %s", code, body)
	}

	inj.NoSpaceAfter(0)
	ack(t, c, ids[0]) // the cursor write fails in the background
	pollUntil(t, func() bool {
		code, failed, _ := n.health()
		return code == http.StatusServiceUnavailable && strings.Contains(strings.Join(failed, ","), "store/meta")
	}, "/health to report the metadata store")
	if r := n.do("POST", "/_tenant/_mm/_api/key", n.root, map[string]any{"permissions": []string{"read:*"}}); r.code != http.StatusServiceUnavailable {
		t.Fatalf("API key created on a full disk: %d %s", r.code, r.body)
	}
	if r := n.do("POST", sys+"document/x", n.root, map[string]any{"_key": "b"}); r.code < 500 {
		t.Fatalf("document written on a full disk: %d %s", r.code, r.body)
	}
	// Reads go on.
	n.must("GET", sys+"document/x/a", n.root, nil, http.StatusOK)
	n.must("GET", sys+"streams/s1", n.root, nil, http.StatusOK)
	code, failed, body := n.health()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"noSpace":true`) {
		t.Fatalf("health on a full disk: %d %v %s", code, failed, body)
	}
	t.Logf("health on a full disk: %s", body)

	inj.Reset()
	pollUntil(t, func() bool { code, _, _ := n.health(); return code == http.StatusOK }, "/health to be ok once space returned")
	n.key(n.root, "_mm", "read:*")
	n.must("POST", sys+"collection", n.root, map[string]any{"name": "y"}, http.StatusOK)
	n.must("POST", sys+"document/y", n.root, map[string]any{"_key": "b"}, http.StatusCreated)
	n.must("GET", sys+"document/x/a", n.root, nil, http.StatusOK)
	ack(t, c, ids[1])
	publish(t, p, "after")
	if _, got := pushed(t, c); got != "after" {
		t.Fatalf("after recovery: pushed %q", got)
	}
	if h := n.srv.Node.StoreHealth(); h.Stats.Recoveries == 0 && h.Stats.RefusedWrites == 0 {
		t.Fatalf("metadata store never refused a write: %+v", h.Stats)
	}
}

// TestFullTmpfs runs a node on a 16 MiB tmpfs (root only; skipped when it
// cannot be mounted), fills it with a file, acks and creates an API key:
// the node stays up, /health is not 200; the file removed, writes work.
func TestFullTmpfs(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	data := filepath.Join(dir, "data")
	n := startSecure(t, func(c *broker.Config) { c.DataDir = data; c.Fsync = "always" })
	p := n.mustDial("/ws/v2/producer/persistent/_mm/_system/s1", n.root, false)
	c := n.mustDial("/ws/v2/consumer/persistent/_mm/_system/s1/sub?subscriptionType=Shared", n.root, false)
	for i := range 3 {
		publish(t, p, fmt.Sprint("m", i))
	}
	var ids []string
	for range 3 {
		id, _ := pushed(t, c)
		ids = append(ids, id)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = f.Close()
	// Acks and key creations on the full disk: the first ones may still
	// fit in Pebble's preallocated WAL; none may end the process.
	for i := range 20 {
		ack(t, c, ids[i%3])
		_ = n.do("POST", "/_tenant/_mm/_api/key", n.root, map[string]any{"permissions": []string{"read:*"}})
	}
	pollUntil(t, func() bool { code, _, _ := n.health(); return code != http.StatusOK }, "/health to leave 200 on a full disk")
	pollUntil(t, func() bool {
		r := n.do("POST", "/_tenant/_mm/_api/key", n.root, map[string]any{"permissions": []string{"read:*"}})
		return r.code >= 500
	}, "an API key creation to be refused on a full disk")
	n.must("GET", "/_fabric/_system/_api/streams/s1", n.root, nil, http.StatusOK)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, func() bool { code, _, _ := n.health(); return code == http.StatusOK }, "/health to be ok once space returned")
	n.key(n.root, "_mm", "read:*")
	ack(t, c, ids[1])
	publish(t, p, "after")
	if _, got := pushed(t, c); got != "after" {
		t.Fatalf("after recovery: pushed %q", got)
	}
}

// TestStartOnFullDisk restarts a node on a full disk: it starts, serves
// reads, /health says why writes are refused, and writes resume once
// space returns.
func TestStartOnFullDisk(t *testing.T) {
	inj := &vfs.Injector{}
	dir := t.TempDir()
	n := startSecure(t, func(c *broker.Config) { c.DiskFaults = inj; c.DataDir = dir })
	const sys = "/_fabric/_system/_api/"
	n.must("POST", sys+"collection", n.root, map[string]any{"name": "x"}, http.StatusOK)
	n.must("POST", sys+"document/x", n.root, map[string]any{"_key": "a", "v": 1}, http.StatusCreated)
	p := n.mustDial("/ws/v2/producer/persistent/_mm/_system/s1", n.root, false)
	publish(t, p, "m0")
	root := n.root
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	inj.NoSpaceAfter(0)
	n2 := startSecure(t, func(c *broker.Config) { c.DiskFaults = inj; c.DataDir = dir })
	n2.root = root
	n2.must("GET", sys+"document/x/a", root, nil, http.StatusOK)
	n2.must("GET", sys+"streams/s1", root, nil, http.StatusOK)
	code, failed, body := n2.health()
	if code != http.StatusServiceUnavailable || len(failed) == 0 {
		t.Fatalf("health after starting on a full disk: %d %s", code, body)
	}
	t.Logf("started on a full disk: %s", body)
	inj.Reset()
	pollUntil(t, func() bool { code, _, _ := n2.health(); return code == http.StatusOK }, "/health to be ok once space returned")
	n2.must("POST", sys+"document/x", root, map[string]any{"_key": "b"}, http.StatusCreated)
	n2.key(root, "_mm", "read:*")
}
