package ws_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/server"
)

// startSecureNode starts a node with authentication on; it returns the
// node and its superuser key.
func startSecureNode(t *testing.T) (*server.Server, string) {
	t.Helper()
	srv := startNode(t, t.TempDir(), func(c *broker.Config) {
		on := true
		c.Auth.Enabled = &on
	})
	return srv, srv.Auth.BootstrapKey()
}

// api calls the HTTP API as cred and returns the "result" of the answer.
func api(t *testing.T, srv *server.Server, method, path, cred string, body any, want int) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Result map[string]any `json:"result"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
	}
	return out.Result
}

// dialAs opens a WebSocket with cred in ?token=.
func dialAs(t *testing.T, srv *server.Server, pathAndQuery, cred string) *client {
	t.Helper()
	sep := "?"
	if strings.Contains(pathAndQuery, "?") {
		sep = "&"
	}
	return dial(t, srv, pathAndQuery+sep+"token="+url.QueryEscape(cred))
}

// closedWith reads until the server closes the connection and returns the
// close frame's error, failing if none comes within the test timeout.
func (c *client) closedWith() *websocket.CloseError {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue // a message delivered before the close
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("the connection ended without a close frame: %v", err)
		}
		return ce
	}
}

// TestRevokedKeyClosesConnections: revoking an API key closes the
// producers, consumers and readers authenticated with it, and with tokens
// issued from it, with 1008 and a reason; another key's connections keep
// working.
func TestRevokedKeyClosesConnections(t *testing.T) {
	srv, root := startSecureNode(t)
	perms := map[string]any{"permissions": []string{"write:fabric/_system", "read:fabric/_system"}}
	doomed := api(t, srv, "POST", auth.KeysPath, root, perms, http.StatusCreated)
	kept := api(t, srv, "POST", auth.KeysPath, root, perms, http.StatusCreated)
	key, id, other := doomed["key"].(string), doomed["id"].(string), kept["key"].(string)
	token := api(t, srv, "POST", auth.TokenPath, key, map[string]any{"expiresIn": "1h"}, http.StatusOK)["token"].(string)

	victims := map[string]*client{
		"producer":         dialAs(t, srv, producerPath("rev"), key),
		"consumer":         dialAs(t, srv, consumerPath("rev", "a", "subscriptionInitialPosition=Earliest"), key),
		"reader":           dialAs(t, srv, "/ws/v2/reader/persistent/_mm/_system/rev?messageId=earliest", key),
		"consumer (token)": dialAs(t, srv, consumerPath("rev", "b", "subscriptionType=Shared"), token),
	}
	victims["producer"].publish("before")
	survivorProd := dialAs(t, srv, producerPath("rev"), other)
	survivorCons := dialAs(t, srv, consumerPath("rev", "c", "subscriptionInitialPosition=Latest"), other)

	api(t, srv, "DELETE", auth.KeysPath+"/"+id, root, nil, http.StatusOK)
	revoked := time.Now()
	for name, c := range victims {
		ce := c.closedWith()
		if ce.Code != wsproto.ClosePolicy || !strings.Contains(ce.Text, "revoked") {
			t.Fatalf("%s closed with %d %q, want %d and the reason", name, ce.Code, ce.Text, wsproto.ClosePolicy)
		}
	}
	t.Logf("4 connections closed %v after the revocation answered", time.Since(revoked))
	if n := srv.Auth.Sessions(id); n != 0 {
		t.Fatalf("%d connections of the revoked key still tracked", n)
	}
	// The revoked key cannot come back; the other key works on.
	if _, status, _, err := tryDial(srv, producerPath("rev")+"?token="+url.QueryEscape(key)); err == nil || status != http.StatusUnauthorized {
		t.Fatalf("dial with the revoked key: status %d, %v", status, err)
	}
	survivorProd.publish("after")
	if m := survivorCons.receive(); unb64(t, m.Payload) != "after" {
		t.Fatalf("the other key's consumer got %q", unb64(t, m.Payload))
	}
}

// TestExpiredTokenClosesConnection: a connection authenticated with a
// token is closed with 1008 when the token expires.
func TestExpiredTokenClosesConnection(t *testing.T) {
	srv, root := startSecureNode(t)
	token := api(t, srv, "POST", auth.TokenPath, root, map[string]any{"expiresIn": "2s"}, http.StatusOK)["token"].(string)
	c := dialAs(t, srv, consumerPath("exp", "s", ""), token)
	long := dialAs(t, srv, consumerPath("exp", "t", ""), root)
	ce := c.closedWith()
	if ce.Code != wsproto.ClosePolicy || !strings.Contains(ce.Text, "expired") {
		t.Fatalf("closed with %d %q, want %d and the reason", ce.Code, ce.Text, wsproto.ClosePolicy)
	}
	// The key's connection is not affected: it still receives.
	p := dialAs(t, srv, producerPath("exp"), root)
	p.publish("still here")
	if m := long.receive(); unb64(t, m.Payload) != "still here" {
		t.Fatalf("got %q", unb64(t, m.Payload))
	}
}
