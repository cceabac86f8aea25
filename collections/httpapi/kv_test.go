package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

func TestKeyValueWithTTL(t *testing.T) {
	n := startNode(t)
	kv := sys + "kv/sessions"
	n.do("POST", kv, map[string]any{"ttl": 60}).must(t, http.StatusOK)
	n.do("POST", sys+"kv/plain", nil).must(t, http.StatusOK)
	n.createCollection("docs", nil)
	if l := n.do("GET", sys+"kv", nil).must(t, http.StatusOK); len(l.body["result"].([]any)) != 2 {
		t.Fatalf("kv list: %s", l.raw)
	}
	// Watch the change feed (attached first: events follow acknowledged
	// writes asynchronously).
	feed := n.dial("/ws/v2/consumer/persistent/_mm/_system/_changes.sessions/ttl?subscriptionType=Exclusive")
	now := n.clock.Now().Unix()
	r := n.do("PUT", kv+"/value", []any{
		map[string]any{"_key": "default", "value": "uses the collection ttl"},
		map[string]any{"_key": "short", "value": map[string]any{"n": 1}, "ttl": 5},
		map[string]any{"_key": "abs", "value": 3, "expireAt": now + 10},
		map[string]any{"_key": "never", "value": true, "expireAt": -1},
	}).must(t, http.StatusOK)
	if len(r.list) != 4 || r.header.Get("X-Arango-Error-Codes") != "" {
		t.Fatalf("put: %s", r.raw)
	}
	g := n.do("GET", kv+"/value/short", nil).must(t, http.StatusOK)
	if g.str("_key") != "short" || num(g.body["value"].(map[string]any)["n"]) != 1 || num(g.body["expireAt"]) != int(now+5) {
		t.Fatalf("get short: %s", g.raw)
	}
	if g := n.do("GET", kv+"/value/never", nil); num(g.body["expireAt"]) != -1 {
		t.Fatalf("get never: %s", g.raw)
	}
	// The collection default (60 s) applies when a write names none; -1
	// in expireAt means none too, so the default applies there as well.
	if g := n.do("GET", kv+"/value/default", nil); num(g.body["expireAt"]) != int(now+60) {
		t.Fatalf("get default: %s", g.raw)
	}

	for _, k := range []string{"default", "short", "abs", "never"} {
		if ch, _ := feed.change(); ch.Key != k || ch.Op != "replace" {
			t.Fatalf("put change: %+v, want %s", ch, k)
		}
	}

	n.clock.Advance(6 * time.Second)
	n.do("GET", kv+"/value/short", nil).mustError(t, http.StatusNotFound, 1202)
	n.do("GET", kv+"/value/abs", nil).must(t, http.StatusOK)
	if c := num(n.do("GET", kv+"/count", nil).body["count"]); c != 3 {
		t.Fatalf("count after short expired: %d", c)
	}
	// An expired key can be written again (it is not "existing").
	n.do("POST", sys+"document/sessions", map[string]any{"_key": "short", "value": 2}).must(t, http.StatusCreated)
	n.clock.Advance(5 * time.Second) // abs expires; the new "short" has the 60 s default
	swept, err := n.svc.SweepExpired()
	if err != nil || swept != 1 {
		t.Fatalf("sweep: %d %v", swept, err)
	}
	if ch, _ := feed.change(); ch.Key != "short" || ch.Op != "insert" || ch.Deleted {
		t.Fatalf("insert change: %+v", ch)
	}
	ch, m := feed.change()
	if ch.Key != "abs" || ch.Op != "expire" || !ch.Deleted || m.Key != "abs" {
		t.Fatalf("expiry change: %+v", ch)
	}
	n.do("GET", kv+"/value/abs", nil).mustError(t, http.StatusNotFound, 1202)
	n.clock.Advance(time.Hour)
	if swept, err := n.svc.SweepExpired(); err != nil || swept != 2 { // default and short
		t.Fatalf("second sweep: %d %v", swept, err)
	}
	if c := num(n.do("GET", kv+"/count", nil).body["count"]); c != 1 {
		t.Fatalf("count after sweeps: %d", c)
	}

	n.do("DELETE", kv+"/value/never", nil).must(t, http.StatusOK)
	n.do("DELETE", kv+"/value/never", nil).mustError(t, http.StatusNotFound, 1202)
	// Key/value endpoints refuse document collections, and expiry needs a
	// key/value collection.
	n.do("GET", sys+"kv/docs/value/x", nil).mustError(t, http.StatusBadRequest, 10)
	n.do("PUT", kv+"/value", []any{map[string]any{"_key": "x", "value": 1, "ttl": -3}}).mustError(t, http.StatusBadRequest, 10)
	n.do("PUT", kv+"/value", []any{map[string]any{"_key": "x"}}).mustError(t, http.StatusBadRequest, 10)
	n.do("DELETE", sys+"kv/sessions", nil).must(t, http.StatusOK)
	n.do("GET", kv+"/value/x", nil).mustError(t, http.StatusNotFound, 1203)
}

func TestKeyListingWithCursors(t *testing.T) {
	n := startNode(t)
	kv := sys + "kv/cache"
	n.do("POST", kv, nil).must(t, http.StatusOK)
	var entries []any
	for _, k := range []string{"e", "a", "d", "b", "c", "f", "g"} {
		entries = append(entries, map[string]any{"_key": k, "value": k + "!"})
	}
	n.do("PUT", kv+"/value", entries).must(t, http.StatusOK)

	r := n.do("GET", kv+"/keys?batchSize=3", nil).must(t, http.StatusOK)
	var keys []any
	for {
		keys = append(keys, r.body["result"].([]any)...)
		if r.body["hasMore"] != true {
			if r.body["id"] != nil {
				t.Fatalf("exhausted cursor has an id: %s", r.raw)
			}
			break
		}
		r = n.do("PUT", sys+"cursor/"+r.str("id"), nil).must(t, http.StatusOK)
	}
	if jsonString(keys) != `["a","b","c","d","e","f","g"]` {
		t.Fatalf("keys %v", keys)
	}
	r = n.do("GET", kv+"/keys?offset=2&limit=3", nil).must(t, http.StatusOK)
	if jsonString(r.body["result"]) != `["c","d","e"]` || r.body["hasMore"] != false {
		t.Fatalf("offset/limit: %s", r.raw)
	}
	r = n.do("GET", kv+"/values?limit=2", nil).must(t, http.StatusOK)
	if jsonString(r.body["result"]) != `[{"_key":"a","expireAt":-1,"value":"a!"},{"_key":"b","expireAt":-1,"value":"b!"}]` {
		t.Fatalf("values: %s", r.raw)
	}
	r = n.do("POST", kv+"/values", []any{"g", "zz", "a"}).must(t, http.StatusOK)
	if len(r.body["result"].([]any)) != 2 {
		t.Fatalf("values by key: %s", r.raw)
	}
	r = n.do("DELETE", kv+"/values", []any{"a", "b", "zz"}).must(t, http.StatusOK)
	if r.header.Get("X-Arango-Error-Codes") != "1202:1" {
		t.Fatalf("delete values: %s", r.raw)
	}
	n.do("GET", kv+"/keys?offset=-1", nil).mustError(t, http.StatusBadRequest, 10)
}
