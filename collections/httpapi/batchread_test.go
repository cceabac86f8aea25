package httpapi_test

import (
	"net/http"
	"testing"
)

// TestOnlyGetReads: PUT /document/{c}?onlyget=true is ArangoDB's batch
// read (go-driver v2's ReadDocuments): it answers the documents in order,
// an error entry for a missing one, and writes nothing (it used to replace
// every named document with {} and answer 201).
func TestOnlyGetReads(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	a := n.do("POST", sys+"document/users", map[string]any{"_key": "a", "name": "Ada", "n": 1}).must(t, http.StatusCreated)
	n.do("POST", sys+"document/users", map[string]any{"_key": "b", "name": "Bob"}).must(t, http.StatusCreated)
	before := n.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM users ORDER BY _key"}).must(t, http.StatusCreated)

	r := n.do("PUT", sys+"document/users?onlyget=true",
		[]any{"b", map[string]any{"_key": "a"}, "missing", map[string]any{"_key": "a", "_rev": "stale"}}).must(t, http.StatusOK)
	if len(r.list) != 4 {
		t.Fatalf("want 4 entries: %s", r.raw)
	}
	if d := r.list[0].(map[string]any); d["_key"] != "b" || d["name"] != "Bob" || d["_id"] != "users/b" {
		t.Errorf("entry 0: %v", d)
	}
	if d := r.list[1].(map[string]any); d["_key"] != "a" || d["name"] != "Ada" || d["_rev"] != a.str("_rev") {
		t.Errorf("entry 1: %v", d)
	}
	if e := r.list[2].(map[string]any); e["error"] != true || num(e["errorNum"]) != 1202 || num(e["code"]) != 404 || e["errorMessage"] == "" {
		t.Errorf("entry 2 (missing): %v", e)
	}
	if d := r.list[3].(map[string]any); d["_key"] != "a" { // ignoreRevs defaults to true
		t.Errorf("entry 3: %v", d)
	}
	if got := r.header.Get("X-Arango-Error-Codes"); got != "1202:1" {
		t.Errorf("X-Arango-Error-Codes %q", got)
	}

	// ignoreRevs=false checks the _rev each key names.
	r = n.do("PUT", sys+"document/users?onlyget=true&ignoreRevs=false",
		[]any{map[string]any{"_key": "a", "_rev": a.str("_rev")}, map[string]any{"_key": "a", "_rev": "stale"}}).must(t, http.StatusOK)
	if d := r.list[0].(map[string]any); d["_key"] != "a" {
		t.Errorf("matching _rev: %v", d)
	}
	if e := r.list[1].(map[string]any); e["error"] != true || num(e["errorNum"]) != 1200 || num(e["code"]) != 412 {
		t.Errorf("stale _rev: %v", e)
	}

	// Nothing was written.
	after := n.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM users ORDER BY _key"}).must(t, http.StatusCreated)
	if jsonString(before.body["result"]) != jsonString(after.body["result"]) {
		t.Fatalf("documents changed:\n%v\n%v", before.body["result"], after.body["result"])
	}

	// The whole request fails for what is not a batch of keys or an
	// unknown collection; onlyget=false is the batch replace it always was.
	n.do("PUT", sys+"document/users?onlyget=true", map[string]any{"_key": "a"}).mustError(t, http.StatusBadRequest, 10)
	n.do("PUT", sys+"document/users?onlyget=true", []any{3}).mustError(t, http.StatusBadRequest, 10)
	n.do("PUT", sys+"document/ghosts?onlyget=true", []any{"a"}).mustError(t, http.StatusNotFound, 1203)
	n.do("PUT", sys+"document/users?onlyget=false", []any{map[string]any{"_key": "a", "name": "Ann"}}).must(t, http.StatusCreated)
	if d := n.do("GET", sys+"document/users/a", nil).must(t, http.StatusOK); d.str("name") != "Ann" {
		t.Fatalf("onlyget=false did not replace: %s", d.raw)
	}
}
