package authrepl_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/internal/testfabric"
)

// waitTimeout bounds every wait on a condition; pollInterval is how often
// a condition over HTTP is checked again.
const (
	waitTimeout  = 60 * time.Second
	pollInterval = 10 * time.Millisecond
)

// fabric is one in-process node per region, wired full mesh, with
// authentication on; root holds each region's bootstrap superuser key.
type fabric struct {
	*testfabric.Fabric
	mu   sync.Mutex
	root map[string]string
}

func newFabric(t *testing.T, regions ...string) *fabric {
	t.Helper()
	on := true
	f := &fabric{Fabric: testfabric.New(t, regions, func(c *broker.Config) { c.Auth = auth.Config{Enabled: &on} }),
		root: map[string]string{}}
	for _, r := range regions {
		f.start(r)
	}
	return f
}

// start starts region and notes its superuser key.
func (f *fabric) start(region string) {
	f.T.Helper()
	srv := f.Start(region)
	k := srv.Auth.BootstrapKey()
	if k != "" {
		f.mu.Lock()
		f.root[region] = k
		f.mu.Unlock()
	} else {
		f.mu.Lock()
		k = f.root[region]
		f.mu.Unlock()
	}
	// The tenant and fabric the tests' streams are in: streams are created
	// by use, tenants and fabrics are not.
	for _, path := range []string{"/_api/tenant/acme", "/_tenant/acme/_fabric/shop/_api/fabric"} {
		if code, res := f.do(region, "POST", path, k, nil); code != http.StatusOK && code != http.StatusCreated && code != http.StatusConflict {
			f.T.Fatalf("%s: POST %s: %d %s", region, path, code, res)
		}
	}
}

// do sends an HTTP request to region as cred and returns the status and
// the envelope's result.
func (f *fabric) do(region, method, path, cred string, body any) (int, json.RawMessage) {
	f.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.Server(region).URL()+path, rd)
	if err != nil {
		f.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.T.Fatalf("%s %s %s: %v", region, method, path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp.StatusCode, env.Result
}

// must is do, failing unless the status is want.
func (f *fabric) must(want int, region, method, path, cred string, body any) json.RawMessage {
	f.T.Helper()
	code, res := f.do(region, method, path, cred, body)
	if code != want {
		f.T.Fatalf("%s %s %s: %d, want %d: %s", region, method, path, code, want, res)
	}
	return res
}

// eventually waits until cond holds, failing after waitTimeout.
func (f *fabric) eventually(what string, cond func() bool) {
	f.T.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			f.T.Fatalf("after %s: %s", waitTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// dial opens a WebSocket to region with cred in ?token=; it returns the
// connection or the handshake's status.
func (f *fabric) dial(region, path, cred string) (*websocket.Conn, int, error) {
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	c, resp, err := d.Dial("ws://"+f.Server(region).Addr()+path+"?token="+url.QueryEscape(cred), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	f.T.Cleanup(func() { _ = c.Close() })
	return c, http.StatusSwitchingProtocols, nil
}

// closedWith reads until the server closes c and returns its close frame.
func closedWith(t *testing.T, c *websocket.Conn) *websocket.CloseError {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
		return ce
	}
}

const (
	producer = "/ws/v2/producer/persistent/acme/shop/orders"
	other    = "/ws/v2/producer/persistent/acme/shop/payments"
	streams  = "/_fabric/shop/_api/streams"
)

// TestKeysAreFabricWide: a key created in us-east authenticates HTTP and
// WebSocket requests in eu-west once replicated, restricted there by its
// grants; a grant change in us-east restricts it in eu-west; ap-south,
// down during the creation, gets the key when it comes back; revoking it
// in eu-west makes us-east refuse it and closes its open WebSocket there.
func TestKeysAreFabricWide(t *testing.T) {
	f := newFabric(t, "us-east", "eu-west", "ap-south")
	f.Stop("ap-south")

	var created auth.KeyView
	res := f.must(http.StatusCreated, "us-east", "POST", "/_tenant/acme"+auth.KeysPath, f.root["us-east"],
		auth.KeyRequest{Name: "shop", Permissions: []string{"write:stream/shop/orders", "read:fabric/shop"}})
	if err := json.Unmarshal(res, &created); err != nil || created.Origin != "us-east" {
		t.Fatalf("created key: %s (%v)", res, err)
	}
	key := created.Key

	// eu-west: HTTP, then WebSocket, within the key's grants only.
	f.eventually("eu-west authenticates the key created in us-east", func() bool {
		code, _ := f.do("eu-west", "GET", "/_fabric/shop/_api/streams/orders", key, nil)
		return code != http.StatusUnauthorized
	})
	if code, _ := f.do("eu-west", "GET", "/_fabric/other/_api/streams", key, nil); code != http.StatusForbidden {
		t.Fatalf("eu-west: a fabric outside the grants: %d, want 403", code)
	}
	if _, code, err := f.dial("eu-west", producer, key); err != nil {
		t.Fatalf("eu-west: producer with the key: %d %v", code, err)
	}
	if _, code, _ := f.dial("eu-west", other, key); code != http.StatusForbidden {
		t.Fatalf("eu-west: producer on a stream outside the grants: %d, want 403", code)
	}

	// A grant change in us-east restricts the key in eu-west.
	f.must(http.StatusOK, "us-east", "PUT", "/_tenant/acme"+auth.KeysPath+"/"+created.ID+"/permissions", f.root["us-east"],
		auth.GrantsRequest{Permissions: []string{"write:stream/shop/payments", "read:fabric/shop"}})
	f.eventually("eu-west applies the grant change", func() bool {
		_, code, _ := f.dial("eu-west", other, key)
		return code == http.StatusSwitchingProtocols
	})
	if _, code, _ := f.dial("eu-west", producer, key); code != http.StatusForbidden {
		t.Fatalf("eu-west: producer on a stream the grant change took away: %d, want 403", code)
	}

	// ap-south comes back and gets the key and its grants.
	f.start("ap-south")
	f.eventually("ap-south, down during the creation, authenticates the key", func() bool {
		_, code, _ := f.dial("ap-south", other, key)
		return code == http.StatusSwitchingProtocols
	})

	// A connection of the key in us-east; the revocation in eu-west.
	victim, code, err := f.dial("us-east", other, key)
	if err != nil {
		t.Fatalf("us-east: producer with the key: %d %v", code, err)
	}
	f.must(http.StatusOK, "eu-west", "DELETE", "/_tenant/acme"+auth.KeysPath+"/"+created.ID, f.root["eu-west"], nil)
	if code, _ := f.do("eu-west", "GET", streams, key, nil); code != http.StatusUnauthorized {
		t.Fatalf("eu-west accepts the key it revoked: %d", code)
	}
	ce := closedWith(t, victim)
	if ce.Code != wsproto.ClosePolicy || !strings.Contains(ce.Text, "revoked") {
		t.Fatalf("us-east closed the key's connection with %d %q, want %d and the reason", ce.Code, ce.Text, wsproto.ClosePolicy)
	}
	for _, region := range []string{"us-east", "ap-south"} {
		f.eventually(region+" refuses the key revoked in eu-west", func() bool {
			code, _ := f.do(region, "GET", streams, key, nil)
			return code == http.StatusUnauthorized
		})
		if _, code, _ := f.dial(region, other, key); code != http.StatusUnauthorized {
			t.Fatalf("%s: WebSocket with the revoked key: %d, want 401", region, code)
		}
	}
	if n := f.Server("us-east").Auth.Sessions(created.ID); n != 0 {
		t.Fatalf("us-east still tracks %d connections of the revoked key", n)
	}
	t.Logf("key events applied: %s", eventCounts(f))
}

// TestSingleRegionKeysStayLocal: a node without peers keeps its keys as
// before (no replication, nothing changes).
func TestSingleRegionKeysStayLocal(t *testing.T) {
	f := newFabric(t, "solo")
	srv := f.Server("solo")
	var v auth.KeyView
	res := f.must(http.StatusCreated, "solo", "POST", auth.KeysPath, srv.Auth.BootstrapKey(), auth.KeyRequest{Permissions: []string{"read:*"}})
	if err := json.Unmarshal(res, &v); err != nil || v.Origin != "" {
		t.Fatalf("a single node's key: %s (%v)", res, err)
	}
	f.must(http.StatusOK, "solo", "DELETE", auth.KeysPath+"/"+v.ID, srv.Auth.BootstrapKey(), nil)
	if code, _ := f.do("solo", "GET", streams, v.Key, nil); code != http.StatusUnauthorized {
		t.Fatalf("the revoked key: %d", code)
	}
	if m := srv.Auth.Metrics(); m.KeyEventsApplied.Load()+m.KeyEventsUnchanged.Load() != 0 {
		t.Fatal("a single node applied key events")
	}
}

func eventCounts(f *fabric) string {
	var parts []string
	for r, s := range f.Running() {
		m := s.Auth.Metrics()
		parts = append(parts, fmt.Sprintf("%s %d applied, %d unchanged, %d refused", r,
			m.KeyEventsApplied.Load(), m.KeyEventsUnchanged.Load(), m.KeyEventsRefused.Load()))
	}
	return strings.Join(parts, "; ")
}
