package auth

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func FuzzParseGrant(f *testing.F) {
	for _, s := range []string{"admin:*", "read:fabric/_system", "write:stream/f/s", "read:collection/*/users", "read:stream/f/..", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGrant(s)
		if err != nil {
			if !errors.Is(err, ErrBadGrant) {
				t.Fatalf("ParseGrant(%q): %v is not ErrBadGrant", s, err)
			}
			return
		}
		back, err := ParseGrant(g.String())
		if err != nil || back != g {
			t.Fatalf("ParseGrant(%q) = %+v does not round-trip: %+v, %v", s, g, back, err)
		}
		if !g.Includes(g) {
			t.Fatalf("%s does not include itself", g)
		}
	})
}

func FuzzKeyID(f *testing.F) {
	f.Add("cwk_0123456789abcdef_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("cwk_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := KeyID(s)
		if err != nil {
			return
		}
		if !validKeyID(id) || len(s) != keyLen {
			t.Fatalf("KeyID(%q) accepted id %q", s, id)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	good, err := IssueToken(testSecret, claimsAt(now, time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJBIiwiZXhwIjo5OTk5OTk5OTk5fQ.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		p, c, err := ParseToken(testSecret, tok, now)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) || p != nil {
				t.Fatalf("ParseToken(%q) = %+v, %v", tok, p, err)
			}
			return
		}
		if c.ExpiresAt == nil || !c.ExpiresAt.After(now) {
			t.Fatalf("accepted a token without a future expiry: %q", tok)
		}
	})
}

func FuzzDecodeKeyRequest(f *testing.F) {
	f.Add([]byte(`{"name":"ci","permissions":["write:stream/_system/orders"],"expiresIn":"720h"}`))
	f.Add([]byte(`{"superuser":true}`))
	f.Add([]byte(`{"permissions":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kr, gs, ttl, err := DecodeKeyRequest(b)
		if err != nil {
			return
		}
		if len(gs) != len(kr.Permissions) || ttl < 0 || ttl > maxKeyLifetime || (len(gs) == 0 && !kr.Superuser) {
			t.Fatalf("DecodeKeyRequest(%q) = %+v %v %v", b, kr, gs, ttl)
		}
	})
}

func FuzzDecodeTokenRequest(f *testing.F) {
	f.Add([]byte(`{"expiresIn":"10m","permissions":["read:*"]}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"superuser":true,"expiresIn":"48h"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, ttl, err := DecodeTokenRequest(b, DefaultMaxTokenTTL)
		if err == nil && (ttl <= 0 || ttl > DefaultMaxTokenTTL) {
			t.Fatalf("DecodeTokenRequest(%q): ttl %v", b, ttl)
		}
	})
}

func FuzzDecodeKeyRecord(f *testing.F) {
	f.Add([]byte(`{"id":"0123456789abcdef","tenant":"A","hash":"` + HashKey("x") + `","permissions":["read:*"],"createdAt":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeKeyRecord(b)
		if err != nil {
			return
		}
		if _, err := k.Principal(); err != nil {
			t.Fatalf("a valid record has no principal: %v", err)
		}
	})
}

// FuzzClassify feeds arbitrary methods, paths and queries to the router:
// it never panics, refuses every non-canonical path, and every access it
// returns for a tenant-scoped path needs something of the request's
// tenant.
func FuzzClassify(f *testing.F) {
	rt := NewRouter()
	for _, s := range []string{"/_fabric/f/_api/streams/s", "/ws/v2/producer/persistent/A/f/s", "/_api/key/x", "/a/../b", "/ws/v3/consumer/s"} {
		f.Add("GET", s, "topics=persistent://A/f/a")
	}
	f.Fuzz(func(t *testing.T, method, path, query string) {
		if method == "" || len(method) > 16 {
			return
		}
		for _, c := range method {
			if c < 'A' || c > 'Z' {
				return
			}
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		a, err := rt.Classify(r)
		if err != nil {
			if !errors.Is(err, ErrNonCanonicalPath) || canonical(path) {
				t.Fatalf("Classify(%s %q): %v", method, path, err)
			}
			return
		}
		if !canonical(path) {
			t.Fatalf("Classify(%s %q) accepted a non-canonical path", method, path)
		}
		if a.Public && (a.Node || len(a.Needs) > 0 || a.TenantScoped) {
			t.Fatalf("Classify(%s %q) = %+v", method, path, a)
		}
		if a.WebSocket && len(a.Needs) > 0 && len(a.Tenants) == 0 {
			t.Fatalf("Classify(%s %q): WebSocket needs without a tenant: %+v", method, path, a)
		}
	})
}
