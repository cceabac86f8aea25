package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/tlsutil"
)

const sys = "/_fabric/_system/_api/"

// globexSecrets are names and values of the victim tenant that must never
// appear in an answer to the attacker.
var globexSecrets = []string{"globex", "ledger", "secrets", "top-secret-value"}

// setUpVictim gives tenant globex a stream with a message, a collection
// with documents, and an open query cursor; it returns the cursor id.
func setUpVictim(t *testing.T, n *node, admin string) string {
	n.must("POST", sys+"streams/ledger", admin, nil, http.StatusCreated)
	p := n.mustDial("/ws/v2/producer/persistent/globex/_system/ledger", admin, false)
	publish(t, p, "top-secret-value")
	n.must("POST", sys+"collection", admin, map[string]any{"name": "secrets"}, http.StatusOK)
	for i := 0; i < 3; i++ {
		n.must("POST", sys+"document/secrets", admin, map[string]any{"_key": fmt.Sprint("k", i), "v": "top-secret-value"}, http.StatusCreated)
	}
	r := n.must("POST", sys+"cursor", admin, map[string]any{"query": "SELECT * FROM secrets", "batchSize": 1}, http.StatusCreated)
	id, _ := r.json()["id"].(string)
	if id == "" {
		t.Fatalf("no cursor id in %s", r.body)
	}
	return id
}

func noLeak(t *testing.T, what string, body string) {
	t.Helper()
	for _, s := range globexSecrets {
		if strings.Contains(body, s) {
			t.Errorf("%s: the answer names %q: %s", what, s, body)
		}
	}
}

// TestCrossTenant: a tenant admin of acme attacks tenant globex on every
// front end. Every attempt is refused with 404 (or 400 for malformed
// paths), and no answer names anything of globex.
func TestCrossTenant(t *testing.T) {
	n := startSecure(t, nil)
	acme, globex := n.tenantAdmin("acme"), n.tenantAdmin("globex")
	cursor := setUpVictim(t, n, globex)

	// HTTP: streams admin, documents, queries, keys, fabrics.
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", sys + "streams", nil},
		{"GET", sys + "streams/ledger", nil},
		{"GET", sys + "streams/ledger/subscriptions", nil},
		{"POST", sys + "streams/ledger/subscriptions/s/reset?messageId=earliest", nil},
		{"DELETE", sys + "streams/ledger?force=true", nil},
		{"POST", sys + "streams/ledger2", nil},
		{"GET", sys + "fabric", nil},
		{"GET", sys + "collection", nil},
		{"GET", sys + "collection/secrets", nil},
		{"DELETE", sys + "collection/secrets", nil},
		{"GET", sys + "document/secrets/k1", nil},
		{"POST", sys + "document/secrets", map[string]any{"_key": "x"}},
		{"PUT", sys + "simple/all", map[string]any{"collection": "secrets"}},
		{"POST", sys + "cursor", map[string]any{"query": "SELECT * FROM secrets"}},
		{"PUT", sys + "cursor/" + cursor, nil},
		{"GET", sys + "kv", nil},
		{"GET", auth.KeysPath, nil},
		{"POST", auth.KeysPath, auth.KeyRequest{Permissions: []string{"admin:*"}}},
		{"POST", auth.TokenPath, nil},
	} {
		r := n.do(tc.method, "/_tenant/globex"+tc.path, acme, tc.body)
		if r.code != http.StatusNotFound {
			t.Errorf("%s /_tenant/globex%s: %d %s, want 404", tc.method, tc.path, r.code, r.body)
		}
		noLeak(t, tc.method+" "+tc.path, string(r.body))
	}

	// The same names inside acme's own tenant address acme's (empty)
	// namespace: nothing of globex is found, and globex's cursor id is
	// unknown there.
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", sys + "streams/ledger", nil, http.StatusNotFound},
		{"GET", sys + "document/secrets/k1", nil, http.StatusNotFound},
		{"POST", sys + "cursor", map[string]any{"query": "SELECT * FROM secrets"}, http.StatusNotFound},
		{"PUT", sys + "cursor/" + cursor, nil, http.StatusNotFound},
	} {
		r := n.do(tc.method, tc.path, acme, tc.body)
		if r.code != tc.want || strings.Contains(string(r.body), "top-secret-value") || strings.Contains(string(r.body), "globex") {
			t.Errorf("acme %s %s: %d %s, want %d without globex's data", tc.method, tc.path, r.code, r.body, tc.want)
		}
	}
	for _, path := range []string{sys + "streams", sys + "collection"} {
		r := n.must("GET", path, acme, nil, http.StatusOK)
		noLeak(t, "acme lists "+path, string(r.body))
	}

	// WebSocket: producers, consumers, readers, change feeds, multi-stream
	// consumers, with the key in the header or in ?token=.
	for _, path := range []string{
		"/ws/v2/producer/persistent/globex/_system/ledger",
		"/ws/v2/consumer/persistent/globex/_system/ledger/steal?subscriptionInitialPosition=Earliest",
		"/ws/v2/reader/persistent/globex/_system/ledger?messageId=earliest",
		"/ws/v2/consumer/persistent/globex/_system/_changes.secrets/steal",
		"/ws/v2/reader/persistent/globex/_system/_col.secrets?messageId=earliest",
		"/_ws/ws/v2/consumer/persistent/globex/c8global._system/ledger/steal",
		"/ws/v3/consumer/steal?topics=persistent://acme/_system/mine,persistent://globex/_system/ledger",
	} {
		for _, inQuery := range []bool{false, true} {
			_, status, body, err := n.dial(path, acme, inQuery)
			if err == nil || status != http.StatusNotFound {
				t.Errorf("WebSocket %s (token in query: %v): %v, status %d %s; want 404", path, inQuery, err, status, body)
			}
			noLeak(t, "WebSocket "+path, body)
		}
	}

	// Path tricks never reach another tenant: dot segments, encoded
	// slashes and look-alike letters are refused as malformed.
	for _, path := range []string{
		"/_tenant/acme/../globex" + sys + "streams",
		"/_tenant/acme/_fabric/../../_tenant/globex" + sys + "streams",
		"/_tenant/globex%2F..%2Facme" + sys + "streams",
		"/_tenant/glоbex" + sys + "streams", // Cyrillic о
		"/_tenant/GLOBEX" + sys + "streams",
		"/_tenant/acme/_fabric/_system/_api/streams/..%2F..%2F..%2F_tenant%2Fglobex%2F_fabric%2F_system%2F_api%2Fstreams%2Fledger",
	} {
		r := n.do("GET", path, acme, nil)
		if r.code != http.StatusBadRequest && r.code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 400 or 404", path, r.code, r.body)
		}
		if strings.Contains(string(r.body), "top-secret-value") || strings.Contains(string(r.body), `"result"`) {
			t.Errorf("GET %s leaked: %s", path, r.body)
		}
	}
	for _, path := range []string{
		"/ws/v2/consumer/persistent/acme/../globex/_system/ledger/steal",
		"/ws/v2/consumer/persistent/glоbex/_system/ledger/steal",
	} {
		if _, status, body, err := n.dial(path, acme, false); err == nil || (status != http.StatusBadRequest && status != http.StatusNotFound) {
			t.Errorf("WebSocket %s: %v, status %d %s", path, err, status, body)
		}
	}

	// Nothing of globex changed.
	n.must("GET", sys+"streams/ledger", globex, nil, http.StatusOK)
	r := n.must("GET", sys+"collection/secrets/count", globex, nil, http.StatusOK)
	if c, _ := r.json()["count"].(float64); c != 3 {
		t.Fatalf("globex's collection holds %v documents: %s", r.json()["count"], r.body)
	}
	c := n.mustDial("/ws/v2/reader/persistent/globex/_system/ledger?messageId=earliest", globex, false)
	if got := receive(t, c); got != "top-secret-value" {
		t.Fatalf("globex's message: %q", got)
	}
}

// TestGrantsPerResource: a key limited to one collection and one stream
// can use them and nothing else.
func TestGrantsPerResource(t *testing.T) {
	n := startSecure(t, nil)
	admin := n.tenantAdmin("acme")
	for _, c := range []string{"users", "orders"} {
		n.must("POST", "/_tenant/acme"+sys+"collection", admin, map[string]any{"name": c}, http.StatusOK)
	}
	for _, s := range []string{"s1", "s2"} {
		n.must("POST", "/_tenant/acme"+sys+"streams/"+s, admin, nil, http.StatusCreated)
	}
	k := n.key(admin, "acme", "read:collection/_system/users", "write:stream/_system/s1")
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", sys + "document/users/nobody", nil, http.StatusNotFound}, // allowed; the document is missing
		{"GET", sys + "collection/users/count", nil, http.StatusOK},
		{"POST", sys + "document/users", map[string]any{"_key": "x"}, http.StatusForbidden},
		{"GET", sys + "document/orders/x", nil, http.StatusForbidden},
		{"DELETE", sys + "collection/users", nil, http.StatusForbidden},
		{"POST", sys + "collection", map[string]any{"name": "new"}, http.StatusForbidden},
		{"POST", sys + "cursor", map[string]any{"query": "SELECT * FROM orders"}, http.StatusForbidden},
		{"GET", sys + "streams/s1", nil, http.StatusOK},
		{"GET", sys + "streams/s2", nil, http.StatusForbidden},
		{"DELETE", sys + "streams/s1", nil, http.StatusForbidden},
		{"GET", sys + "streams", nil, http.StatusForbidden},
		{"GET", auth.KeysPath, nil, http.StatusForbidden},
	} {
		if r := n.do(tc.method, tc.path, k, tc.body); r.code != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.code, r.body, tc.want)
		}
	}
	for _, tc := range []struct {
		path string
		want int // 0: connects
	}{
		{"/ws/v2/producer/persistent/acme/_system/s1", 0},
		{"/ws/v2/consumer/persistent/acme/_system/s1/sub", 0},
		{"/ws/v2/producer/persistent/acme/_system/s2", http.StatusForbidden},
		{"/ws/v2/reader/persistent/acme/_system/s2", http.StatusForbidden},
		{"/ws/v2/consumer/persistent/acme/_system/_changes.users/feed", 0},
		{"/ws/v2/consumer/persistent/acme/_system/_changes.orders/feed", http.StatusForbidden},
		{"/ws/v2/producer/persistent/acme/_system/_changes.users", http.StatusForbidden},
		{"/ws/v2/producer/persistent/acme/_system/_col.users", http.StatusForbidden},
	} {
		_, status, body, err := n.dial(tc.path, k, true)
		if (tc.want == 0) != (err == nil) || status != tc.want {
			t.Errorf("WebSocket %s: %v, status %d %s; want %d", tc.path, err, status, body, tc.want)
		}
	}
}

// TestCredentialsOnEveryFrontEnd: missing, revoked and expired keys and
// tokens are refused over HTTP and WebSocket; a JWT in ?token= works for
// WebSocket clients, as in Pulsar.
func TestCredentialsOnEveryFrontEnd(t *testing.T) {
	n := startSecure(t, nil)
	admin := n.tenantAdmin("acme")
	key := n.key(admin, "acme", "write:fabric/_system")
	r := n.must("POST", auth.TokenPath, key, auth.TokenRequest{ExpiresIn: "1h"}, http.StatusOK)
	token := r.result()["token"].(string)
	const prod = "/ws/v2/producer/persistent/acme/_system/events"
	const cons = "/ws/v2/consumer/persistent/acme/_system/events/sub?subscriptionInitialPosition=Earliest"
	c := n.mustDial(cons, token, true)
	p := n.mustDial(prod, key, false)
	publish(t, p, "hello")
	if got := receive(t, c); got != "hello" {
		t.Fatalf("got %q", got)
	}
	for name, cred := range map[string]string{"none": "", "garbage": "x", "tampered token": token[:len(token)-3] + "abc"} {
		if _, status, _, err := n.dial(prod, cred, true); err == nil || status != http.StatusUnauthorized {
			t.Errorf("WebSocket with %s credential: status %d", name, status)
		}
		if r := n.do("GET", sys+"streams", cred, nil); r.code != http.StatusUnauthorized {
			t.Errorf("HTTP with %s credential: %d", name, r.code)
		}
	}
	// Revoke the key: the key and the token issued from it are refused.
	id := strings.Split(key, "_")[1]
	n.must("DELETE", auth.KeysPath+"/"+id, admin, nil, http.StatusOK)
	for name, cred := range map[string]string{"revoked key": key, "token of a revoked key": token} {
		if _, status, _, err := n.dial(prod, cred, false); err == nil || status != http.StatusUnauthorized {
			t.Errorf("WebSocket with %s: status %d", name, status)
		}
		if r := n.do("GET", sys+"streams", cred, nil); r.code != http.StatusUnauthorized {
			t.Errorf("HTTP with %s: %d", name, r.code)
		}
	}
	// An expired key.
	r = n.must("POST", auth.KeysPath, admin, auth.KeyRequest{Permissions: []string{"read:*"}, ExpiresIn: "1ms"}, http.StatusCreated)
	expired := r.result()["key"].(string)
	deadline := time.Now().Add(testTimeout)
	for n.do("GET", sys+"streams", expired, nil).code != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("an expired key is still accepted")
		}
		time.Sleep(time.Millisecond)
	}
	if _, status, _, err := n.dial(cons, expired, true); err == nil || status != http.StatusUnauthorized {
		t.Errorf("WebSocket with an expired key: status %d", status)
	}
}

// TestAuditOfAdminActions: admin actions reach the audit log with who,
// what and when (counted in the metrics too).
func TestAuditOfAdminActions(t *testing.T) {
	n := startSecure(t, nil)
	admin := n.tenantAdmin("acme")
	n.must("POST", sys+"streams/s", admin, nil, http.StatusCreated)
	n.must("DELETE", sys+"streams/s", admin, nil, http.StatusOK)
	n.must("POST", sys+"collection", admin, map[string]any{"name": "c"}, http.StatusOK)
	n.must("DELETE", sys+"collection/c", admin, nil, http.StatusOK)
	// tenant.create, key.create, stream.create/delete, collection.create/delete
	if got := n.srv.Auth.Metrics().AuditRecords.Load(); got != 6 {
		t.Fatalf("%d audit records, want 6", got)
	}
	r := n.must("GET", "/metrics", n.root, nil, http.StatusOK)
	if !strings.Contains(string(r.body), `causeway_audit_records_total{region="test"} 6`) {
		t.Fatalf("metrics: %s", grepLines(string(r.body), "causeway_audit"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOpenNodeByDefault: a zero broker.Config runs without authentication,
// as every other test of the repository expects.
func TestOpenNodeByDefault(t *testing.T) {
	n := startSecure(t, func(c *broker.Config) { c.Auth.Enabled = nil })
	if n.root != "" {
		t.Fatal("an open node generated a key")
	}
	n.must("POST", sys+"streams/s", "", nil, http.StatusCreated)
	c := n.mustDial("/ws/v2/producer/persistent/_mm/_system/s", "", false)
	publish(t, c, "x")
	var list map[string]any
	_ = json.Unmarshal(n.must("GET", sys+"streams", "", nil, http.StatusOK).body, &list)
}

// TestTLSDev: --tls-dev serves HTTP and WebSocket over TLS with a
// certificate generated into the data directory; plain HTTP is refused.
func TestTLSDev(t *testing.T) {
	var dataDir string
	n := startSecure(t, func(c *broker.Config) { c.TLS.Dev = true; dataDir = c.DataDir })
	if !strings.HasPrefix(n.srv.URL(), "https://") {
		t.Fatalf("URL %s", n.srv.URL())
	}
	cfg, err := tlsutil.ClientConfig(filepath.Join(dataDir, tlsutil.DevDir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	n.tls = cfg
	n.http = &http.Client{Timeout: testTimeout, Transport: &http.Transport{TLSClientConfig: cfg}}
	n.must("GET", "/health", "", nil, http.StatusOK)
	n.must("POST", sys+"streams/s", n.root, nil, http.StatusCreated)
	c := n.mustDial("/ws/v2/producer/persistent/_mm/_system/s", n.root, true)
	publish(t, c, "over tls")
	plain := &http.Client{Timeout: testTimeout}
	resp, err := plain.Get("http://" + n.srv.Addr() + "/health")
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS listener")
		}
	}
	untrusted := &http.Client{Timeout: testTimeout}
	if resp, err := untrusted.Get(n.srv.URL() + "/health"); err == nil {
		resp.Body.Close()
		t.Fatal("a client that does not trust the certificate connected")
	}
}
