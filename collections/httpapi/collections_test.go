package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestCollectionLifecycle(t *testing.T) {
	n := startNode(t)
	r := n.do("POST", sys+"collection", map[string]any{"name": "users"}).must(t, http.StatusOK)
	if r.str("name") != "users" || num(r.body["type"]) != 2 || r.str("stream") != "_changes.users" || r.body["error"] != false {
		t.Fatalf("create: %s", r.raw)
	}
	n.do("POST", sys+"collection", map[string]any{"name": "links", "type": "edge"}).must(t, http.StatusOK)
	n.do("POST", sys+"collection", map[string]any{"name": "users"}).mustError(t, http.StatusConflict, 1207)
	n.do("POST", sys+"collection", map[string]any{"name": "9lives"}).mustError(t, http.StatusBadRequest, 1208)
	n.do("POST", sys+"collection", map[string]any{"name": "spot", "isSpot": true}).mustError(t, http.StatusNotImplemented, 9)
	n.do("POST", sys+"collection", map[string]any{"name": "x", "type": 7}).mustError(t, http.StatusBadRequest, 10)
	n.do("POST", "/_fabric/nope/_api/collection", map[string]any{"name": "x"}).mustError(t, http.StatusNotFound, 1228)

	list := n.do("GET", sys+"collection", nil).must(t, http.StatusOK)
	res, _ := list.body["result"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["name"] != "links" || num(res[0].(map[string]any)["type"]) != 3 {
		t.Fatalf("list: %s", list.raw)
	}
	n.do("GET", sys+"collection/users", nil).must(t, http.StatusOK)
	n.do("GET", sys+"collection/ghost", nil).mustError(t, http.StatusNotFound, 1203)

	// The change feed and op log are streams of the fabric.
	streams := n.do("GET", sys+"streams", nil).must(t, http.StatusOK)
	for _, s := range []string{"_col.users", "_changes.users"} {
		if !strings.Contains(string(streams.raw), s) {
			t.Fatalf("stream %s missing from %s", s, streams.raw)
		}
	}

	n.do("POST", sys+"document/users", map[string]any{"_key": "a", "x": 1}).must(t, http.StatusCreated)
	n.do("POST", sys+"document/users", map[string]any{"_key": "b", "x": 2}).must(t, http.StatusCreated)
	if c := n.count("users"); c != 2 {
		t.Fatalf("count %d", c)
	}
	n.do("PUT", sys+"collection/users/truncate", nil).must(t, http.StatusOK)
	if c := n.count("users"); c != 0 {
		t.Fatalf("count after truncate %d", c)
	}
	n.do("DELETE", sys+"collection/users", nil).must(t, http.StatusOK)
	n.do("GET", sys+"collection/users", nil).mustError(t, http.StatusNotFound, 1203)
	n.do("POST", sys+"document/users", map[string]any{"x": 1}).mustError(t, http.StatusNotFound, 1203)
	// A new collection of the same name starts empty.
	n.createCollection("users", nil)
	if c := n.count("users"); c != 0 {
		t.Fatalf("recreated collection holds %d documents", c)
	}
}

func TestTenantPrefix(t *testing.T) {
	n := startNode(t)
	n.do("POST", "/_api/tenant/acme", nil).must(t, http.StatusCreated)
	n.do("POST", "/_tenant/acme/_fabric/_system/_api/collection", map[string]any{"name": "users"}).must(t, http.StatusOK)
	n.do("POST", "/_tenant/acme/_fabric/_system/_api/document/users", map[string]any{"_key": "a"}).must(t, http.StatusCreated)
	n.do("GET", "/_tenant/acme/_fabric/_system/_api/document/users/a", nil).must(t, http.StatusOK)
	// Another tenant does not see it, whatever header the client sends.
	n.do("GET", sys+"document/users/a", nil, "X-Causeway-Tenant", "acme").mustError(t, http.StatusNotFound, 1203)
	n.do("GET", "/_tenant/ghost/_fabric/_system/_api/collection", nil).mustError(t, http.StatusNotFound, 1228)
}
