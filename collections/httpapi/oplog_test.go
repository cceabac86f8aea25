package httpapi_test

import (
	"net/http"
	"testing"
)

// TestOpLogProperties: GET .../collection/{name} (and /properties) shows the
// op log's size and first stored offset.
func TestOpLogProperties(t *testing.T) {
	n := startNode(t)
	n.do("POST", sys+"collection", map[string]any{"name": "users"}).must(t, http.StatusOK)
	empty := n.do("GET", sys+"collection/users", nil).must(t, http.StatusOK)
	n.do("POST", sys+"document/users", map[string]any{"_key": "a", "x": 1}).must(t, http.StatusCreated)
	for _, path := range []string{"collection/users", "collection/users/properties"} {
		r := n.do("GET", sys+path, nil).must(t, http.StatusOK)
		if start, size := num(r.body["opLogStart"]), num(r.body["opLogBytes"]); start != 0 || size <= num(empty.body["opLogBytes"]) {
			t.Fatalf("%s: %s (empty collection: %s)", path, r.raw, empty.raw)
		}
	}
}
