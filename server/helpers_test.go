package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/server"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// node is a running server with authentication on, and its superuser key.
type node struct {
	t    testing.TB
	srv  *server.Server
	root string
	http *http.Client
	tls  *tls.Config // client side, when the node speaks TLS
}

func startSecure(t testing.TB, mutate func(*broker.Config)) *node {
	t.Helper()
	on := true
	cfg := broker.Config{Region: "test", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Auth: auth.Config{Enabled: &on}}
	if mutate != nil {
		mutate(&cfg)
	}
	logger := zap.NewNop()
	if tt, ok := t.(*testing.T); ok {
		logger = zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel)).Named("node")
	}
	srv, err := server.Start(cfg, logger)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	// The test's own client has its own connection pool.
	cl := &http.Client{Timeout: testTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	return &node{t: t, srv: srv, root: srv.Auth.BootstrapKey(), http: cl}
}

// reply is an HTTP answer.
type reply struct {
	code int
	body []byte
}

func (r reply) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

// result is the "result" member of a GDN-style answer.
func (r reply) result() map[string]any {
	m, _ := r.json()["result"].(map[string]any)
	return m
}

func (n *node) do(method, path, cred string, body any) reply {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, n.srv.URL()+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := n.http.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: b}
}

func (n *node) must(method, path, cred string, body any, want int) reply {
	n.t.Helper()
	r := n.do(method, path, cred, body)
	if r.code != want {
		n.t.Fatalf("%s %s: %d %s, want %d", method, path, r.code, r.body, want)
	}
	return r
}

// tenantAdmin creates tenant t and an admin key of it.
func (n *node) tenantAdmin(t string) string {
	n.t.Helper()
	n.must("POST", "/_api/tenant/"+t, n.root, nil, http.StatusCreated)
	return n.key(n.root, t, "admin:*")
}

// key creates a key of tenant with perms, as cred.
func (n *node) key(cred, tenant string, perms ...string) string {
	n.t.Helper()
	r := n.must("POST", "/_tenant/"+tenant+auth.KeysPath, cred, auth.KeyRequest{Permissions: perms}, http.StatusCreated)
	return r.result()["key"].(string)
}

// dial opens a WebSocket with cred in the Authorization header, or in the
// token query parameter when inQuery is set.
func (n *node) dial(pathAndQuery, cred string, inQuery bool) (*websocket.Conn, int, string, error) {
	d := websocket.Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: n.tls}
	h := http.Header{}
	if cred != "" && inQuery {
		sep := "?"
		if strings.Contains(pathAndQuery, "?") {
			sep = "&"
		}
		pathAndQuery += sep + "token=" + url.QueryEscape(cred)
	} else if cred != "" {
		h.Set("Authorization", "Bearer "+cred)
	}
	scheme := "ws://"
	if n.tls != nil {
		scheme = "wss://"
	}
	c, resp, err := d.Dial(scheme+n.srv.Addr()+pathAndQuery, h)
	if err != nil {
		status, body := 0, ""
		if resp != nil {
			status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
		}
		return nil, status, body, err
	}
	n.t.Cleanup(func() { _ = c.Close() })
	return c, 0, "", nil
}

func (n *node) mustDial(pathAndQuery, cred string, inQuery bool) *websocket.Conn {
	n.t.Helper()
	c, status, body, err := n.dial(pathAndQuery, cred, inQuery)
	if err != nil {
		n.t.Fatalf("dial %s: %v (%d %s)", pathAndQuery, err, status, body)
	}
	return c
}

// publish sends one message on a producer connection and waits for its ack.
func publish(t testing.TB, c *websocket.Conn, payload string) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
	frame := map[string]any{"payload": base64.StdEncoding.EncodeToString([]byte(payload)), "context": "1"}
	if err := c.WriteJSON(frame); err != nil {
		t.Fatal(err)
	}
	var ack map[string]any
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	if err := c.ReadJSON(&ack); err != nil {
		t.Fatal(err)
	}
	if ack["result"] != "ok" {
		t.Fatalf("publish: %v", ack)
	}
}

// receive reads one pushed message's payload.
func receive(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	var m map[string]any
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))
	if err := c.ReadJSON(&m); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["payload"]))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
