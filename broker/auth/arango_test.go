package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/causeway/causeway/internal/testkey"
)

func TestParseBasic(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		in, user, pass string
		ok             bool
	}{
		{b64("root:cwk_x"), "root", "cwk_x", true},
		{" " + b64("u:p:q") + " ", "u", "p:q", true},
		{b64(":"), "", "", true},
		{b64("nocolon"), "", "", false},
		{"%%%", "", "", false},
		{strings.Repeat("A", 2000), "", "", false},
	} {
		u, p, err := parseBasic(c.in)
		if (err == nil) != c.ok || u != c.user || p != c.pass {
			t.Errorf("parseBasic(%q) = %q, %q, %v", c.in, u, p, err)
		}
	}
}

func TestUserMatches(t *testing.T) {
	su := &Principal{Tenant: "_mm", Superuser: true, KeyID: "00aa"}
	acme := &Principal{Tenant: "acme", KeyID: "11bb"}
	tok := &Principal{Tenant: "acme"}
	for _, c := range []struct {
		user string
		p    *Principal
		want bool
	}{
		{"root", su, true}, {"_mm", su, true}, {"00aa", su, true}, {"acme", su, false},
		{"root", acme, false}, {"acme", acme, true}, {"11bb", acme, true}, {"00aa", acme, false}, {"", acme, false},
		{"acme", tok, false}, {"root", nil, false},
	} {
		if got := userMatches(c.user, c.p); got != c.want {
			t.Errorf("userMatches(%q, %+v) = %v", c.user, c.p, got)
		}
	}
}

// doAuth sends a request with an Authorization header as it is.
func (hs *harness) doAuth(method, target, authorization, body string) (int, []byte) {
	hs.t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r.WithContext(ctx))
	return w.Code, w.Body.Bytes()
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestBasicAuthentication(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	acme, acmeID := hs.createKey(hs.root, "acme", "read:fabric/f")
	rootID, _ := KeyID(hs.root)
	tok := func() string {
		code, tok := hs.token(hs.root, TokenRequest{})
		if code != http.StatusOK {
			t.Fatal(code)
		}
		return tok
	}()
	for _, c := range []struct {
		name, auth, principal string
	}{
		{"root with the superuser key", basic("root", hs.root), "key:" + rootID},
		{"its tenant", basic("_mm", hs.root), "key:" + rootID},
		{"its id", basic(rootID, hs.root), "key:" + rootID},
		{"a tenant's key, tenant name", basic("acme", acme), "key:" + acmeID},
		{"a tenant's key, its id", basic(acmeID, acme), "key:" + acmeID},
		{"lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("acme:"+acme)), "key:" + acmeID},
		{"root with a tenant's key", basic("root", acme), ""},
		{"another tenant's name", basic("_mm", acme), ""},
		{"another key's id", basic(rootID, acme), ""},
		{"a token as password", basic("root", tok), ""},
		{"a wrong key", basic("root", testkey.Wrong(hs.root)), ""},
		{"no password", basic("root", ""), ""},
		{"not base64", "Basic !!!", ""},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("root")), ""},
	} {
		code, body := hs.doAuth("GET", "/_fabric/f/_api/streams", c.auth, "")
		if c.principal == "" {
			if code != http.StatusUnauthorized || !strings.Contains(string(body), `"errorNum":401`) {
				t.Errorf("%s: %d %s", c.name, code, body)
			}
			continue
		}
		if code != http.StatusOK || decodeEcho(t, body).Principal != c.principal {
			t.Errorf("%s: %d %s", c.name, code, body)
		}
	}
}

func TestOpenAuth(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	acme, acmeID := hs.createKey(hs.root, "acme", "read:fabric/f")
	login := func(body string) (int, map[string]any) {
		t.Helper()
		code, raw := hs.doAuth("POST", OpenAuthPath, "", body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %d %q", body, code, raw)
		}
		return code, m
	}
	code, m := login(`{"username":"acme","password":"` + acme + `"}`)
	jwtText, _ := m["jwt"].(string)
	if code != http.StatusOK || jwtText == "" || len(m) != 1 {
		t.Fatalf("login: %d %v", code, m)
	}
	// The token acts as the key, in its tenant, with its grants.
	for _, scheme := range []string{"bearer ", "Bearer "} {
		code, body := hs.doAuth("GET", "/_fabric/f/_api/streams", scheme+jwtText, "")
		if e := decodeEcho(t, body); code != http.StatusOK || e.Principal != "key:"+acmeID || e.Tenant != "acme" {
			t.Fatalf("%s: %d %s", scheme, code, body)
		}
	}
	if code, body := hs.doAuth("GET", "/_fabric/g/_api/streams", "bearer "+jwtText, ""); code != http.StatusForbidden {
		t.Fatalf("a fabric the key may not read: %d %s", code, body)
	}
	// Wrong credentials: 401 in ArangoDB's shape.
	for _, body := range []string{
		`{"username":"root","password":"` + acme + `"}`,
		`{"username":"acme","password":"secret"}`,
		`{"username":"acme","password":"` + hs.root + `"}`,
		`{"username":"acme","password":""}`,
	} {
		code, m := login(body)
		if code != http.StatusUnauthorized || m["error"] != true || m["code"] != float64(401) || m["errorNum"] != float64(401) || m["errorMessage"] != "Wrong credentials" {
			t.Errorf("%s: %d %v", body, code, m)
		}
	}
	// Junk bodies: 400, no token.
	for _, body := range []string{``, `nope`, `[]`, `{"username":1,"password":"x"}`, `{"password":"` + acme + `"}`,
		`{"username":"acme","password":"` + acme + `","ttl":5}`, `{"username":"acme","password":"` + acme + `"} {}`,
		`{"username":"` + strings.Repeat("a", 70<<10) + `","password":"x"}`} {
		code, m := login(body)
		if code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge || m["jwt"] != nil {
			t.Errorf("%.80s: %d %v", body, code, m)
		}
	}
	// Revoking the key ends the token.
	hs.must(t, "DELETE", KeysPath+"/"+acmeID, "/_tenant/acme", hs.root)
	if code, body := hs.doAuth("GET", "/_fabric/f/_api/streams", "bearer "+jwtText, ""); code != http.StatusUnauthorized {
		t.Fatalf("token of a revoked key: %d %s", code, body)
	}
	if code, _ := login(`{"username":"acme","password":"` + acme + `"}`); code != http.StatusUnauthorized {
		t.Fatalf("login with a revoked key: %d", code)
	}
}
