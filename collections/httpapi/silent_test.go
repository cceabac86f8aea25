package httpapi_test

import (
	"net/http"
	"testing"
)

// TestSilentBatch: with silent=true a batch answers only its errors, as
// ArangoDB does ([] when every document was written), still counted in
// X-Arango-Error-Codes; a single write answers {}.
func TestSilentBatch(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	r := n.do("POST", sys+"document/users?silent=true", []any{map[string]any{"_key": "a"}, map[string]any{"_key": "b"}}).must(t, http.StatusCreated)
	if string(r.raw) != "[]\n" || r.header.Get("X-Arango-Error-Codes") != "" {
		t.Fatalf("silent batch without errors: %q %v", r.raw, r.header)
	}
	r = n.do("POST", sys+"document/users?silent=true", []any{map[string]any{"_key": "c"}, map[string]any{"_key": "a"}}).must(t, http.StatusCreated)
	if len(r.list) != 1 || num(r.list[0].(map[string]any)["errorNum"]) != 1210 || r.header.Get("X-Arango-Error-Codes") != "1210:1" {
		t.Fatalf("silent batch with an error: %s %v", r.raw, r.header)
	}
	r = n.do("PATCH", sys+"document/users?silent=true", []any{map[string]any{"_key": "a", "n": 1}, map[string]any{"_key": "zz", "n": 1}}).must(t, http.StatusCreated)
	if len(r.list) != 1 || num(r.list[0].(map[string]any)["errorNum"]) != 1202 {
		t.Fatalf("silent update batch: %s", r.raw)
	}
	if r = n.do("PUT", sys+"document/users/a?silent=true", map[string]any{"n": 2}).must(t, http.StatusCreated); string(r.raw) != "{}\n" {
		t.Fatalf("silent single write: %q", r.raw)
	}
	if n.count("users") != 3 {
		t.Fatal(n.count("users"))
	}
}
