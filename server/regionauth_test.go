package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/server/regionapi"
)

// revocationBound bounds the time from a revocation's answer to its
// refusal on every node (it takes milliseconds: the nodes read the
// region's keys when their version changes).
const revocationBound = 10 * time.Second

// createKey creates a key of the default tenant through n as the
// region's admin and returns its text and id.
func (c *regionCluster) createKey(t *testing.T, n *regionNode, perms ...string) (key, id string) {
	t.Helper()
	b := c.callOK(t, http.StatusCreated, http.MethodPost, n.url, auth.KeysPath, auth.KeyRequest{Name: "region test", Permissions: perms})
	var out struct{ Result auth.KeyView }
	if err := json.Unmarshal(b, &out); err != nil || out.Result.Key == "" {
		t.Fatalf("created key: %s (%v)", b, err)
	}
	return out.Result.Key, out.Result.ID
}

// awaitCode waits until every node of nodes answers GET path with cred
// with want (while a stream's leader moves nodes answer 503 for a while)
// and returns how long it took.
func awaitCode(t *testing.T, what string, nodes []*regionNode, path, cred string, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for {
		var code int
		var body []byte
		done := true
		for _, n := range nodes {
			if code, body = get(t, n.url, path, cred); code != want {
				done = false
				break
			}
		}
		if done {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after %v a node answers %d %s, want %d", what, within, code, body, want)
		}
		time.Sleep(20 * time.Millisecond) // polling remote nodes, bounded by the deadline
	}
}

// dialProducer opens a WebSocket producer of stream orders on n with cred.
func dialProducer(t *testing.T, n *regionNode, cred string) (*websocket.Conn, int, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	h := http.Header{"Authorization": {"Bearer " + cred}}
	conn, resp, err := d.Dial("ws://"+strings.TrimPrefix(n.url, "http://")+"/ws/v2/producer/persistent/_mm/_system/orders", h)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, status, err
}

// TestRegionKeysOnEveryNode: in a region of three nodes a key created
// through node 1 is accepted by nodes 2 and 3, for a stream request (the
// non-leaders proxy it to the stream's leader, which checks it again) and
// for a WebSocket producer (proxied to the leader by the nodes that do not
// lead the stream); a token issued by node 2 is accepted by node 1; a
// revocation through node 3 is refused by every node within
// revocationBound and ends the key's producers; once a node is stopped
// the two others still accept the region's keys and create new ones.
func TestRegionKeysOnEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region of three nodes")
	}
	c := newRegionCluster(t, 3)
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) })
	name := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "_system", Name: "orders"}
	if _, err := c.nodes[0].srv.Node.CreateStream(name, broker.StreamInfo{}); err != nil {
		t.Fatal(err)
	}
	const streamPath = "/_fabric/_system/_api/streams/orders"
	awaitCode(t, "the stream served by every node", c.nodes, streamPath, c.key, http.StatusOK, regionWait)
	leader := c.streamLeader(name)
	if leader == nil {
		t.Fatal("no node leads the stream")
	}

	key, id := c.createKey(t, c.nodes[0], "read:fabric/_system", "write:fabric/_system")
	took := awaitCode(t, "the key of node 1 on every node", c.nodes, streamPath, key, http.StatusOK, revocationBound)
	t.Logf("a key created through node 1 was accepted by every node after %v", took)
	// A key whose record is over the bound of an entry of the region's map
	// is refused with 400, and nothing changes.
	var many []string
	for i := range 200 {
		many = append(many, fmt.Sprintf("read:stream/_system/s%03d%s", i, strings.Repeat("a", 116)))
	}
	if code, body := c.call(t, http.MethodPost, c.nodes[1].url, auth.KeysPath, auth.KeyRequest{Permissions: many}); code != http.StatusBadRequest {
		t.Fatalf("a key over the map's entry bound: %d %s, want 400", code, body)
	}
	// An unknown key is refused by every node (the check above can fail).
	other, _ := c.createKey(t, c.nodes[0], "read:fabric/_system")
	forged := other[:len(other)-4] + "AAAA"
	awaitCode(t, "a forged key refused", c.nodes, streamPath, forged, http.StatusUnauthorized, revocationBound)

	// Producers with the key on nodes 2 and 3: at least one of them does
	// not lead the stream and proxies the connection.
	var producers []*websocket.Conn
	proxied := 0
	for i, n := range c.nodes[1:] {
		conn, status, err := dialProducer(t, n, key)
		if err != nil {
			t.Fatalf("producer on node %d: %v (%d)", i+2, err, status)
		}
		publish(t, conn, "through node "+string(rune('2'+i)))
		producers = append(producers, conn)
		if n != leader {
			proxied++
		}
	}
	if proxied == 0 {
		t.Fatal("no producer was proxied")
	}

	// A token issued by node 2 is accepted by node 1 (and node 3).
	req, err := http.NewRequest(http.MethodPost, c.nodes[1].url+auth.TokenPath, strings.NewReader(`{"expiresIn":"1h"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: testTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Result auth.TokenView }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.Result.Token == "" {
		t.Fatalf("token through node 2: %d %v", resp.StatusCode, err)
	}
	awaitCode(t, "node 2's token on every node", c.nodes, streamPath, tok.Result.Token, http.StatusOK, revocationBound)

	// Revoked through node 3: refused everywhere, the producers closed.
	c.callOK(t, http.StatusOK, http.MethodDelete, c.nodes[2].url, auth.KeysPath+"/"+id, nil)
	took = awaitCode(t, "the revoked key refused by every node", c.nodes, streamPath, key, http.StatusUnauthorized, revocationBound)
	t.Logf("a key revoked through node 3 was refused by every node after %v", took)
	awaitCode(t, "its token refused by every node", c.nodes, streamPath, tok.Result.Token, http.StatusUnauthorized, revocationBound)
	for i, conn := range producers {
		_ = conn.SetReadDeadline(time.Now().Add(revocationBound))
		if _, _, err := conn.ReadMessage(); err == nil {
			t.Fatalf("the producer on node %d got a message after its key was revoked", i+2)
		} else if !websocket.IsCloseError(err, websocket.ClosePolicyViolation, websocket.CloseNormalClosure, websocket.CloseGoingAway) &&
			!strings.Contains(err.Error(), "close") {
			t.Fatalf("the producer on node %d: %v, want its connection closed", i+2, err)
		}
	}
	for i, n := range c.nodes {
		if _, status, err := dialProducer(t, n, key); err == nil || status != http.StatusUnauthorized {
			t.Fatalf("a producer with the revoked key on node %d: %v (%d), want 401", i+1, err, status)
		}
	}

	// Stop node 1 (it created the key): the two others accept the region's
	// keys, and a key created through one is the other's.
	kept, _ := c.createKey(t, c.nodes[1], "read:fabric/_system")
	awaitCode(t, "a second key on every node", c.nodes, streamPath, kept, http.StatusOK, revocationBound)
	c.nodes[0].stop()
	rest := c.nodes[1:]
	awaitCode(t, "the second key on the two others", rest, streamPath, kept, http.StatusOK, regionWait)
	awaitCode(t, "the admin key on the two others", rest, streamPath, c.key, http.StatusOK, regionWait)
	fresh, _ := c.createKey(t, c.nodes[2], "read:fabric/_system")
	awaitCode(t, "a key created through node 3 on node 2", rest, streamPath, fresh, http.StatusOK, revocationBound)
	awaitCode(t, "the revoked key still refused", rest, streamPath, key, http.StatusUnauthorized, revocationBound)

	// Node 1 back: it has the keys created while it was down, and not the
	// revoked one.
	if err := c.nodes[0].start(t); err != nil {
		t.Fatal(err)
	}
	awaitCode(t, "the key created while node 1 was down, on node 1", c.nodes[:1], streamPath, fresh, http.StatusOK, regionWait)
	awaitCode(t, "the revoked key on node 1", c.nodes[:1], streamPath, key, http.StatusUnauthorized, revocationBound)
}
