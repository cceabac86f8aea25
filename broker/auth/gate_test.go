package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestGateOffServesEveryone(t *testing.T) {
	hs := newHarness(t, Config{})
	if hs.root != "" {
		t.Fatal("a key was generated with authentication off")
	}
	code, body := hs.do("GET", "/_fabric/f/_api/streams", "", nil)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if e := decodeEcho(t, body); e.Tenant != "_mm" || e.Principal != "" {
		t.Fatalf("echo %+v", e)
	}
	// Bodies are bounded even on an open node.
	_, body = hs.do("POST", "/_fabric/f/_api/document/c", "", strings.Repeat("x", 5<<10))
	if e := decodeEcho(t, body); !strings.Contains(e.BodyErr, "too large") {
		t.Fatalf("a 5 KiB body passed a 4 KiB bound: %+v", e)
	}
	if hs.svc.Metrics().BodyTooLarge.Load() != 1 {
		t.Fatalf("body-too-large counter %d", hs.svc.Metrics().BodyTooLarge.Load())
	}
}

func TestGateRefusesMissingAndBadCredentials(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	if hs.root == "" {
		t.Fatal("no bootstrap key")
	}
	if code, body := hs.do("GET", "/health", "", nil); code != http.StatusOK {
		t.Fatalf("health: %d %s", code, body)
	}
	_, other, _ := NewKey(rand.Reader)
	for name, cred := range map[string]string{
		"none":         "",
		"garbage":      "hello",
		"unknown key":  other,
		"wrong secret": hs.root[:len(hs.root)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(hs.root, "AA")],
	} {
		r := hs.do
		code, body := r("GET", "/_fabric/_system/_api/streams", cred, nil)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), ErrUnauthenticated.Error()) {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if hs.svc.Metrics().Unauthenticated.Load() < 4 {
		t.Fatalf("unauthenticated counter %d", hs.svc.Metrics().Unauthenticated.Load())
	}
	// Another scheme is no credential.
	code, _ := hs.do("GET", "/_fabric/_system/_api/streams", "", nil)
	if code != http.StatusUnauthorized {
		t.Fatal(code)
	}
}

func TestGateTenantIsolation(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	acmeAdmin, _ := hs.createKey(hs.root, "acme", "admin:*")
	_, globexID := hs.createKey(hs.root, "globex", "admin:*")
	reader, _ := hs.createKey(acmeAdmin, "acme", "read:fabric/f")
	for _, tc := range []struct {
		name, method, target, cred string
		want                       int
	}{
		{"own fabric, no prefix", "GET", "/_fabric/f/_api/streams", reader, http.StatusOK},
		{"own fabric, own prefix", "GET", "/_tenant/acme/_fabric/f/_api/streams", reader, http.StatusOK},
		{"other fabric", "GET", "/_fabric/g/_api/streams", reader, http.StatusForbidden},
		{"write without grant", "POST", "/_fabric/f/_api/streams/s", reader, http.StatusForbidden},
		{"keys need a tenant admin", "GET", KeysPath, reader, http.StatusForbidden},
		{"other tenant's streams", "GET", "/_tenant/globex/_fabric/f/_api/streams", reader, http.StatusNotFound},
		{"other tenant, missing grant too", "DELETE", "/_tenant/globex/_fabric/f/_api/streams/s", reader, http.StatusNotFound},
		{"admin in other tenant", "GET", "/_tenant/globex/_fabric/f/_api/streams", acmeAdmin, http.StatusNotFound},
		{"admin lists other tenant's keys", "GET", "/_tenant/globex" + KeysPath, acmeAdmin, http.StatusNotFound},
		{"admin revokes other tenant's key", "DELETE", KeysPath + "/" + globexID, acmeAdmin, http.StatusNotFound},
		{"other tenant's WebSocket", "GET", "/ws/v2/consumer/persistent/globex/f/s/sub", acmeAdmin, http.StatusNotFound},
		{"mixed multi-topic consumer", "GET", "/ws/v3/consumer/sub?topics=persistent://acme/f/a,persistent://globex/f/b", acmeAdmin, http.StatusNotFound},
		{"tenants are the node's", "GET", "/_api/tenant", acmeAdmin, http.StatusForbidden},
		{"metrics are the node's", "GET", "/metrics", acmeAdmin, http.StatusForbidden},
		{"superuser anywhere", "GET", "/_tenant/globex/_fabric/f/_api/streams", hs.root, http.StatusOK},
		{"path tricks", "GET", "/_fabric/f/_api/streams/../../../_tenant/globex/_fabric/f/_api/streams", reader, http.StatusBadRequest},
	} {
		code, body := hs.do(tc.method, tc.target, tc.cred, nil)
		if code != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.target, code, body, tc.want)
		}
		if code >= 400 && strings.Contains(string(body), "globex") {
			t.Errorf("%s: the refusal names the other tenant: %s", tc.name, body)
		}
	}
	// The tenant admin lists its own keys only.
	_, body := hs.do("GET", KeysPath, acmeAdmin, nil)
	var env struct{ Result []KeyView }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Result) != 2 {
		t.Fatalf("acme sees %d keys: %s", len(env.Result), body)
	}
	for _, k := range env.Result {
		if k.Tenant != "acme" || k.Key != "" || strings.Contains(string(body), `"hash"`) {
			t.Fatalf("key list leaks: %s", body)
		}
	}
}

func TestGateKeyCreationRules(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	admin, _ := hs.createKey(hs.root, "acme", "admin:*")
	writer, _ := hs.createKey(admin, "acme", "write:fabric/f")
	for _, tc := range []struct {
		name, target, cred string
		req                any
		want               int
	}{
		{"admin grants less", KeysPath, admin, KeyRequest{Permissions: []string{"read:collection/f/users"}}, http.StatusCreated},
		{"admin grants admin", KeysPath, admin, KeyRequest{Permissions: []string{"admin:*"}}, http.StatusCreated},
		{"admin cannot make a superuser", KeysPath, admin, KeyRequest{Superuser: true}, http.StatusForbidden},
		{"superuser keys live in the default tenant", "/_tenant/acme" + KeysPath, hs.root, KeyRequest{Superuser: true}, http.StatusBadRequest},
		{"superuser makes a superuser", KeysPath, hs.root, KeyRequest{Superuser: true}, http.StatusCreated},
		{"writer cannot make keys", KeysPath, writer, KeyRequest{Permissions: []string{"read:fabric/f"}}, http.StatusForbidden},
		{"no permissions", KeysPath, admin, KeyRequest{}, http.StatusBadRequest},
		{"bad permission", KeysPath, admin, KeyRequest{Permissions: []string{"read:stream/f/../x"}}, http.StatusBadRequest},
		{"bad expiry", KeysPath, admin, KeyRequest{Permissions: []string{"read:*"}, ExpiresIn: "-1h"}, http.StatusBadRequest},
		{"unknown field", KeysPath, admin, `{"permissions":["read:*"],"tenant":"globex"}`, http.StatusBadRequest},
		{"not JSON", KeysPath, admin, `{`, http.StatusBadRequest},
		{"two objects", KeysPath, admin, `{"permissions":["read:*"]} {}`, http.StatusBadRequest},
		{"huge body", KeysPath, admin, strings.Repeat(" ", 100<<10), http.StatusRequestEntityTooLarge},
	} {
		if code, body := hs.do("POST", tc.target, tc.cred, tc.req); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
}

func TestGateRevokedExpiredAndTokens(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on(), MaxTokenTTL: 2 * time.Hour})
	admin, _ := hs.createKey(hs.root, "acme", "admin:*")
	key, id := hs.createKey(admin, "acme", "write:fabric/f")
	get := func(cred string) int {
		code, _ := hs.do("GET", "/_fabric/f/_api/streams", cred, nil)
		return code
	}
	// Tokens: narrower works, broader and superuser are refused.
	code, tok := hs.token(key, TokenRequest{ExpiresIn: "10m", Permissions: []string{"read:fabric/f"}})
	if code != http.StatusOK || get(tok) != http.StatusOK {
		t.Fatalf("token: %d %q", code, tok)
	}
	if code, _ := hs.do("POST", "/_fabric/f/_api/streams/s", tok, nil); code != http.StatusForbidden {
		t.Fatalf("a read token created a stream: %d", code)
	}
	if code, _ := hs.token(key, TokenRequest{Permissions: []string{"admin:fabric/f"}}); code != http.StatusForbidden {
		t.Fatalf("broader token: %d", code)
	}
	if code, _ := hs.token(key, TokenRequest{Superuser: true}); code != http.StatusForbidden {
		t.Fatalf("superuser token: %d", code)
	}
	if code, _ := hs.token(key, TokenRequest{ExpiresIn: "3h"}); code != http.StatusBadRequest {
		t.Fatalf("token past the TTL bound: %d", code)
	}
	// A token expires.
	hs.clock.Advance(11 * time.Minute)
	if get(tok) != http.StatusUnauthorized {
		t.Fatal("an expired token was accepted")
	}
	// Revoking a key ends the key and every token issued from it.
	_, tok = hs.token(key, TokenRequest{})
	if get(tok) != http.StatusOK {
		t.Fatal("fresh token refused")
	}
	if code, body := hs.do("DELETE", KeysPath+"/"+id, admin, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if get(key) != http.StatusUnauthorized || get(tok) != http.StatusUnauthorized {
		t.Fatal("a revoked key or its token was accepted")
	}
	if code, _ := hs.do("DELETE", KeysPath+"/"+id, admin, nil); code != http.StatusNotFound {
		t.Fatalf("second revoke: %d", code)
	}
	// A key with an expiry.
	code, body := hs.do("POST", KeysPath, admin, KeyRequest{Permissions: []string{"read:*"}, ExpiresIn: "1h"})
	if code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	var env struct{ Result KeyView }
	_ = json.Unmarshal(body, &env)
	if get(env.Result.Key) != http.StatusOK {
		t.Fatal("fresh expiring key refused")
	}
	hs.clock.Advance(time.Hour)
	if get(env.Result.Key) != http.StatusUnauthorized {
		t.Fatal("an expired key was accepted")
	}
}

func TestGateQueryToken(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	code, body := hs.do("GET", "/_fabric/f/_api/streams?a=1&token="+hs.root+"&b=2", "", nil)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	if e := decodeEcho(t, body); e.Query != "a=1&b=2" || e.Principal == "" {
		t.Fatalf("the handler saw %+v", e)
	}
}

func TestGateRateLimit(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on(), RequestsPerSecond: 10, RequestBurst: 5})
	other, _ := hs.createKey(hs.root, "acme", "read:*") // one request of root's bucket
	var last int
	var body []byte
	for i := 0; i < 5; i++ {
		last, body = hs.do("GET", "/_fabric/f/_api/streams", hs.root, nil)
	}
	if last != http.StatusTooManyRequests || !strings.Contains(string(body), "too many requests") {
		t.Fatalf("6th request in a burst of 5: %d %s", last, body)
	}
	// Each key has its own bucket.
	if code, _ := hs.do("GET", "/_fabric/f/_api/streams", other, nil); code != http.StatusOK {
		t.Fatalf("another key: %d", code)
	}
	hs.clock.Advance(time.Second)
	if code, _ := hs.do("GET", "/_fabric/f/_api/streams", hs.root, nil); code != http.StatusOK {
		t.Fatalf("after a second: %d", code)
	}
	if hs.svc.Metrics().RateLimited.Load() == 0 {
		t.Fatal("no rate-limit metric")
	}
}

func TestGateTenantConnections(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on(), MaxConnsPerTenant: 1})
	release, err := hs.svc.AcquireConn("acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hs.svc.AcquireConn("acme"); !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("second connection: %v", err)
	}
	if _, err := hs.svc.AcquireConn("globex"); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
	// A refused WebSocket handshake gives its unit back when it ends.
	admin, _ := hs.createKey(hs.root, "acme", "admin:*")
	if code, _ := hs.do("GET", "/ws/v2/producer/persistent/acme/f/s", admin, nil); code != http.StatusTooManyRequests {
		t.Fatalf("handshake over the bound: %d", code)
	}
	release()
	release() // twice is harmless
	code, _ := hs.do("GET", "/ws/v2/producer/persistent/acme/f/s", admin, nil)
	if code != http.StatusOK {
		t.Fatalf("handshake within the bound: %d", code)
	}
	waitFor(t, "the unit of a handshake that was never upgraded", func() bool { return hs.svc.conns.Count("acme") == 0 })
	if hs.svc.Metrics().TenantConnsRefused.Load() != 2 {
		t.Fatalf("refused counter %d", hs.svc.Metrics().TenantConnsRefused.Load())
	}
}

func TestGateAudit(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	_, id := hs.createKey(hs.root, "acme", "read:*")
	reader, _ := hs.createKey(hs.root, "acme", "read:*")
	hs.do("DELETE", "/_fabric/f/_api/streams/s", reader, nil)
	hs.do("GET", "/_fabric/f/_api/streams", reader, nil) // not an admin action
	recs := hs.logs.FilterLoggerName("audit").All()
	if len(recs) != 3 {
		t.Fatalf("%d audit records, want 3: %+v", len(recs), recs)
	}
	first := recs[0].ContextMap()
	if first["action"] != "key.create" || first["who"] != "key:"+mustKeyID(t, hs.root) || first["tenant"] != "acme" ||
		first["key"] != id || first["status"] != int64(201) || first["ok"] != true {
		t.Fatalf("key.create record: %v", first)
	}
	refused := recs[2].ContextMap()
	if refused["action"] != "stream.delete" || refused["ok"] != false || refused["status"] != int64(403) ||
		refused["target"] != "stream/f/s" {
		t.Fatalf("refused record: %v", refused)
	}
	if hs.svc.Metrics().AuditRecords.Load() != 3 {
		t.Fatal("audit counter")
	}
}

func mustKeyID(t *testing.T, key string) string {
	id, err := KeyID(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestServiceRestartKeepsKeysAndSecret(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	key, _ := hs.createKey(hs.root, "acme", "read:*")
	_, tok := hs.token(key, TokenRequest{})
	again, err := New(Config{Enabled: on()}, hs.kv, Options{Now: hs.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if again.BootstrapKey() != "" {
		t.Fatal("a second superuser key was generated at restart")
	}
	for _, cred := range []string{hs.root, key, tok} {
		if _, err := again.Authenticate(cred); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}
	// A damaged record is skipped, not fatal.
	_ = hs.kv.Set(kvKeyPrefix+"0000000000000000", []byte("{"))
	if _, err := New(Config{Enabled: on()}, hs.kv, Options{Now: hs.clock.Now}); err != nil {
		t.Fatal(err)
	}
}

func TestConfiguredAdminKey(t *testing.T) {
	_, admin, _ := NewKey(rand.Reader)
	kv := newMemKV()
	svc, err := New(Config{Enabled: on(), AdminKey: admin}, kv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.BootstrapKey() != "" {
		t.Fatal("generated a key although one is configured")
	}
	p, err := svc.Authenticate(admin)
	if err != nil || !p.Superuser {
		t.Fatalf("configured key: %+v %v", p, err)
	}
	if _, err := New(Config{Enabled: on(), AdminKey: "letmein"}, kv, Options{}); err == nil {
		t.Fatal("a malformed admin key was accepted")
	}
	if _, err := New(Config{Enabled: on(), JWTSecret: "short"}, kv, Options{}); err == nil {
		t.Fatal("a short token secret was accepted")
	}
}

// TestTokensAcrossRegions: regions share the token secret but keep their
// own keys. A token issued from a key of another region is accepted on its
// signature; a token of a key revoked here is refused until the longest
// token lifetime has passed, after which the revocation is forgotten.
func TestTokensAcrossRegions(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	east := newHarness(t, Config{Enabled: on(), JWTSecret: secret, MaxTokenTTL: time.Hour})
	west := newHarness(t, Config{Enabled: on(), JWTSecret: secret, MaxTokenTTL: time.Hour})
	key, id := east.createKey(east.root, "acme", "read:*")
	_, tok := east.token(key, TokenRequest{ExpiresIn: "30m"})
	if code, body := west.do("GET", "/_fabric/f/_api/streams", tok, nil); code != http.StatusOK {
		t.Fatalf("west refused east's token: %d %s", code, body)
	}
	if code, _ := west.do("GET", "/_fabric/f/_api/streams", key, nil); code != http.StatusUnauthorized {
		t.Fatalf("west accepted east's key: %d", code)
	}
	east.must(t, "DELETE", KeysPath+"/"+id, "/_tenant/acme", east.root)
	if code, _ := east.do("GET", "/_fabric/f/_api/streams", tok, nil); code != http.StatusUnauthorized {
		t.Fatalf("east accepted a token of a key it revoked: %d", code)
	}
	// A restart within the token lifetime keeps the revocation.
	again, err := New(Config{Enabled: on(), JWTSecret: secret, MaxTokenTTL: time.Hour}, east.kv, Options{Now: east.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Authenticate(tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after restart: %v", err)
	}
	// Past the longest token lifetime the revocation is forgotten.
	east.clock.Advance(2 * time.Hour)
	if _, err := New(Config{Enabled: on(), JWTSecret: secret, MaxTokenTTL: time.Hour}, east.kv, Options{Now: east.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := east.kv.Get(kvRevokedPrefix + id); found {
		t.Fatal("a revocation older than every token was kept")
	}
}
