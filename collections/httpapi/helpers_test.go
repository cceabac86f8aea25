package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	bhttp "github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/broker/ws"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/collections/service"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 20 * time.Second

// fakeClock is the wall clock the tests move by hand (TTL, cursor expiry).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// node is an in-process node assembled as server does, with the
// collections service on an injected clock.
type node struct {
	t     testing.TB
	dir   string
	clock *fakeClock
	node  *broker.Node
	svc   *service.Service
	wsrv  *ws.Server
	srv   *httptest.Server
	url   string
}

func startNode(t testing.TB) *node {
	n := &node{t: t, dir: t.TempDir(), clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *node) start() {
	n.t.Helper()
	logger := zap.NewNop()
	if _, isBench := n.t.(*testing.B); !isBench {
		logger = zaptest.NewLogger(n.t).Named("node")
	}
	bn, err := broker.Open(broker.Config{Region: "us-east", DataDir: n.dir}, logger)
	if err != nil {
		n.t.Fatal(err)
	}
	svc, err := service.Open(bn, service.Options{Now: n.clock.Now, SweepInterval: time.Hour})
	if err != nil {
		_ = bn.Close()
		n.t.Fatal(err)
	}
	n.wsrv = ws.New(bn)
	h := bhttp.New(bn, n.wsrv)
	h.SetExtra(httpapi.New(svc, nil))
	n.node, n.svc = bn, svc
	n.srv = httptest.NewServer(h)
	n.url = n.srv.URL
}

func (n *node) stop() {
	if n.svc == nil {
		return
	}
	n.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := n.wsrv.Shutdown(ctx); err != nil {
		n.t.Logf("ws shutdown: %v", err)
	}
	if err := n.svc.Close(); err != nil {
		n.t.Errorf("collections close: %v", err)
	}
	if err := n.node.Close(); err != nil {
		n.t.Errorf("node close: %v", err)
	}
	n.svc = nil
}

func (n *node) restart() {
	n.t.Helper()
	n.stop()
	n.start()
}

// resp is a decoded HTTP answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
	list   []any
}

// do sends a request; body is JSON-encoded unless it is a string or
// []byte (sent as is). path is relative to the node.
func (n *node) do(method, path string, body any, headers ...string) resp {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, n.url+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer hr.Body.Close()
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	r := resp{status: hr.StatusCode, header: hr.Header, raw: raw}
	if len(raw) > 0 && method != http.MethodHead {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			n.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
		switch x := v.(type) {
		case map[string]any:
			r.body = x
		case []any:
			r.list = x
		}
	}
	return r
}

// must fails unless the answer has the status.
func (r resp) must(t testing.TB, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// mustError fails unless the answer is ArangoDB's error envelope with this
// status and error number.
func (r resp) mustError(t testing.TB, status, errorNum int) resp {
	t.Helper()
	r.must(t, status)
	if r.body["error"] != true || num(r.body["code"]) != status || num(r.body["errorNum"]) != errorNum || r.body["errorMessage"] == "" {
		t.Fatalf("want error envelope %d/%d, got %s", status, errorNum, r.raw)
	}
	return r
}

func num(v any) int {
	switch x := v.(type) {
	case json.Number:
		i, _ := x.Int64()
		return int(i)
	case float64:
		return int(x)
	}
	return -1
}

func (r resp) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

const sys = "/_fabric/_system/_api/"

func (n *node) createCollection(name string, extra map[string]any) {
	n.t.Helper()
	body := map[string]any{"name": name}
	for k, v := range extra {
		body[k] = v
	}
	n.do("POST", sys+"collection", body).must(n.t, http.StatusOK)
}

func (n *node) count(collection string) int {
	n.t.Helper()
	r := n.do("GET", sys+"collection/"+collection+"/count", nil).must(n.t, http.StatusOK)
	return num(r.body["count"])
}

// wsClient is a WebSocket consumer or reader.
type wsClient struct {
	t  testing.TB
	ws *websocket.Conn
}

func (n *node) dial(path string) *wsClient {
	n.t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	c, hr, err := d.Dial("ws"+strings.TrimPrefix(n.url, "http")+path, nil)
	if err != nil {
		status := 0
		if hr != nil {
			status = hr.StatusCode
		}
		n.t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	return &wsClient{t: n.t, ws: c}
}

// change reads one pushed change-feed message and acks it.
func (c *wsClient) change() (service.Change, wsproto.ConsumerMessage) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	var m wsproto.ConsumerMessage
	if err := c.ws.ReadJSON(&m); err != nil {
		c.t.Fatalf("read change: %v", err)
	}
	payload, err := base64.StdEncoding.DecodeString(m.Payload)
	if err != nil {
		c.t.Fatal(err)
	}
	var ch service.Change
	if err := json.Unmarshal(payload, &ch); err != nil {
		c.t.Fatalf("change payload %s: %v", payload, err)
	}
	_ = c.ws.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID})
	return ch, m
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var _ = fmt.Sprint

// collectionsOp decodes an op from its JSON form.
type collectionsOp struct{ collections.Op }

func (o *collectionsOp) UnmarshalJSON(b []byte) error { return o.Op.UnmarshalJSON(b) }

func (n *node) ref(collection string) service.Ref {
	return service.Ref{Tenant: "_mm", Fabric: "_system", Collection: collection}
}
