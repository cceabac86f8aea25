package auth

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// ended records how a tracked session ended.
type ended chan error

func (e ended) end(err error) { e <- err }

// wait returns the error the session ended with, failing after a deadline.
func (e ended) wait(t *testing.T, what string) error {
	t.Helper()
	select {
	case err := <-e:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the session was not ended", what)
		return nil
	}
}

// none fails if the session ended.
func (e ended) none(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-e:
		t.Fatalf("%s: the session was ended: %v", what, err)
	default:
	}
}

func (hs *harness) principal(cred string) *Principal {
	hs.t.Helper()
	p, err := hs.svc.Authenticate(cred)
	if err != nil {
		hs.t.Fatal(err)
	}
	return p
}

// TestRevokeEndsSessions: revoking a key ends the connections of the key
// and of the tokens issued from it, before Revoke returns, and no other;
// an untracked connection is not ended.
func TestRevokeEndsSessions(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	key, id := hs.createKey(hs.root, "A", "read:*")
	other, _ := hs.createKey(hs.root, "A", "read:*")
	_, tok := hs.token(key, TokenRequest{ExpiresIn: "1h"})

	byKey, byToken, byOther, gone := make(ended, 1), make(ended, 1), make(ended, 1), make(ended, 1)
	defer hs.svc.Track(hs.principal(key), byKey.end)()
	defer hs.svc.Track(hs.principal(tok), byToken.end)()
	defer hs.svc.Track(hs.principal(other), byOther.end)()
	hs.svc.Track(hs.principal(key), gone.end)() // closed before the revocation
	if n := hs.svc.Sessions(id); n != 2 {
		t.Fatalf("%d sessions of the key, want 2", n)
	}

	if err := hs.svc.Revoke("B", id); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("revoke from another tenant: %v", err)
	}
	byKey.none(t, "a refused revocation")
	if err := hs.svc.Revoke("A", id); err != nil {
		t.Fatal(err)
	}
	for what, e := range map[string]ended{"the key's connection": byKey, "the token's connection": byToken} {
		select {
		case err := <-e:
			if !errors.Is(err, ErrSessionRevoked) {
				t.Fatalf("%s ended with %v", what, err)
			}
		default:
			t.Fatalf("%s is still open when Revoke returns", what)
		}
	}
	byOther.none(t, "another key's connection")
	gone.none(t, "an untracked connection")
	if n := hs.svc.Sessions(id); n != 0 {
		t.Fatalf("%d sessions of a revoked key", n)
	}
	// The endpoint revokes the same way.
	p := hs.principal(other)
	viaHTTP := make(ended, 1)
	defer hs.svc.Track(p, viaHTTP.end)()
	if code, body := hs.do("DELETE", "/_tenant/A"+KeysPath+"/"+p.KeyID, hs.root, nil); code != 200 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if err := viaHTTP.wait(t, "revoked over HTTP"); !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("ended with %v", err)
	}
	// A connection registered after its key was revoked (it logged in
	// just before) is ended too.
	late := make(ended, 1)
	defer hs.svc.Track(p, late.end)()
	if err := late.wait(t, "tracked after the revocation"); !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("ended with %v", err)
	}
}

// TestExpiredCredentialsEndSessions: a connection is ended when the token
// or key it authenticated with expires, and not when untracked first.
func TestExpiredCredentialsEndSessions(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	key, _ := hs.createKey(hs.root, "A", "read:*")
	_, tok := hs.token(key, TokenRequest{ExpiresIn: "1s"})
	p := hs.principal(tok)
	if want := hs.clock.Now().Add(time.Second); !p.Expires.Equal(want) {
		t.Fatalf("token principal expires %v, want %v", p.Expires, want)
	}
	e := make(ended, 1)
	defer hs.svc.Track(p, e.end)()
	if err := e.wait(t, "an expiring token"); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("ended with %v", err)
	}

	// Once untracked, an expiry (or a revocation) that fires late ends
	// nothing.
	untracked := make(ended, 1)
	se := &session{end: untracked.end}
	se.finish(nil)
	se.finish(ErrSessionExpired)
	untracked.none(t, "an untracked connection past its expiry")

	// Keys that expire: the principal carries the expiry, also into the
	// tokens issued from them when it comes first.
	code, body := hs.do("POST", "/_tenant/A"+KeysPath, hs.root, KeyRequest{Permissions: []string{"read:*"}, ExpiresIn: "2s"})
	if code != 201 {
		t.Fatalf("%d %s", code, body)
	}
	var env struct{ Result KeyView }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	short := env.Result
	pk := hs.principal(short.Key)
	if want := time.UnixMilli(short.ExpiresAt); !pk.Expires.Equal(want) {
		t.Fatalf("key principal expires %v, want %v", pk.Expires, want)
	}
	_, tok3 := hs.token(short.Key, TokenRequest{ExpiresIn: "1h"})
	if pt := hs.principal(tok3); !pt.Expires.Equal(pk.Expires) {
		t.Fatalf("token of an expiring key expires %v, want the key's %v", pt.Expires, pk.Expires)
	}
	if p := hs.principal(hs.root); !p.Expires.IsZero() {
		t.Fatalf("a key without expiry expires %v", p.Expires)
	}
}

// TestTrackRequest: a request the gate admitted carries what TrackRequest
// needs; one without a principal tracks nothing.
func TestTrackRequest(t *testing.T) {
	hs := newHarness(t, Config{Enabled: on()})
	key, id := hs.createKey(hs.root, "A", "read:*")
	r := httptest.NewRequest("GET", "/ws/v2/consumer/persistent/A/f/s/sub", nil)
	_, r2 := hs.svc.pass(httptest.NewRecorder(), r, Access{}, hs.principal(key), "A")
	e := make(ended, 1)
	untrack := TrackRequest(r2.Context(), e.end)
	if hs.svc.Sessions(id) != 1 {
		t.Fatal("the request's connection is not tracked")
	}
	untrack()
	untrack() // twice is harmless
	if hs.svc.Sessions(id) != 0 {
		t.Fatal("untracked connection still counted")
	}
	TrackRequest(r.Context(), e.end)() // no principal: nothing to do
	e.none(t, "untracked")
}
