package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestDocumentCRUD(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	const doc = sys + "document/users/"

	r := n.do("POST", sys+"document/users?returnNew=true", map[string]any{"_key": "ann", "name": "Ann", "age": 31, "address": map[string]any{"city": "Paris", "zip": "75001"}}).must(t, http.StatusCreated)
	rev1 := r.str("_rev")
	if r.str("_id") != "users/ann" || r.str("_key") != "ann" || rev1 == "" || r.header.Get("Etag") != strconv.Quote(rev1) {
		t.Fatalf("insert: %s %v", r.raw, r.header)
	}
	if n := r.body["new"].(map[string]any); n["name"] != "Ann" || n["_rev"] != rev1 {
		t.Fatalf("returnNew: %s", r.raw)
	}
	got := n.do("GET", doc+"ann", nil).must(t, http.StatusOK)
	if got.str("_id") != "users/ann" || got.str("_rev") != rev1 || got.str("name") != "Ann" {
		t.Fatalf("get: %s", got.raw)
	}
	n.do("GET", doc+"ann", nil, "If-None-Match", strconv.Quote(rev1)).must(t, http.StatusNotModified)
	n.do("GET", doc+"ann", nil, "If-Match", `"nope"`).mustError(t, http.StatusPreconditionFailed, 1200)
	n.do("HEAD", doc+"ann", nil).must(t, http.StatusOK)
	n.do("HEAD", doc+"zed", nil).must(t, http.StatusNotFound)

	// Insert of an existing key: conflict unless an overwrite mode says otherwise.
	n.do("POST", sys+"document/users", map[string]any{"_key": "ann"}).mustError(t, http.StatusConflict, 1210)
	n.do("POST", sys+"document/users?overwriteMode=ignore", map[string]any{"_key": "ann", "name": "X"}).must(t, http.StatusCreated)
	if n.do("GET", doc+"ann", nil).str("name") != "Ann" {
		t.Fatal("overwriteMode=ignore changed the document")
	}

	// Replace with a stale If-Match: refused, nothing written.
	n.do("PUT", doc+"ann", map[string]any{"name": "Bad"}, "If-Match", `"stale"`).mustError(t, http.StatusPreconditionFailed, 1200)
	if g := n.do("GET", doc+"ann", nil); g.str("_rev") != rev1 || g.str("name") != "Ann" {
		t.Fatalf("a failed precondition wrote: %s", g.raw)
	}
	// _rev in the body counts only with ignoreRevs=false.
	n.do("PUT", doc+"ann?ignoreRevs=false", map[string]any{"_rev": "stale", "name": "Bad"}).mustError(t, http.StatusPreconditionFailed, 1200)
	r = n.do("PUT", doc+"ann?returnOld=true", map[string]any{"name": "Ann", "age": 32, "tags": []any{"a"}}, "If-Match", strconv.Quote(rev1)).must(t, http.StatusCreated)
	rev2 := r.str("_rev")
	if rev2 == rev1 || r.str("_oldRev") != rev1 || r.body["old"].(map[string]any)["_rev"] != rev1 {
		t.Fatalf("replace: %s", r.raw)
	}
	g := n.do("GET", doc+"ann", nil)
	if g.body["address"] != nil || num(g.body["age"]) != 32 {
		t.Fatalf("replace kept old attributes: %s", g.raw)
	}

	// PATCH merges objects, keeps or drops nulls, increments.
	n.do("PATCH", doc+"ann", map[string]any{"address": map[string]any{"city": "Lyon"}, "age": map[string]any{"$inc": 3}, "tags": nil}).must(t, http.StatusCreated)
	n.do("PATCH", doc+"ann?keepNull=false", map[string]any{"address": map[string]any{"zip": "69001", "street": nil}, "tags": nil, "x": map[string]any{}}).must(t, http.StatusCreated)
	g = n.do("GET", doc+"ann", nil)
	addr, _ := g.body["address"].(map[string]any)
	if num(g.body["age"]) != 35 || addr["city"] != "Lyon" || addr["zip"] != "69001" || len(addr) != 2 || strings.Contains(string(g.raw), "tags") || g.body["x"] == nil {
		t.Fatalf("after patches: %s", g.raw)
	}
	n.do("PATCH", doc+"ann?mergeObjects=false", map[string]any{"address": map[string]any{"zip": "1"}}).must(t, http.StatusCreated)
	if a := n.do("GET", doc+"ann", nil).body["address"].(map[string]any); len(a) != 1 || a["zip"] != "1" {
		t.Fatalf("mergeObjects=false: %v", a)
	}
	n.do("PATCH", doc+"zed", map[string]any{"a": 1}).mustError(t, http.StatusNotFound, 1202)

	// Delete, then it is gone.
	r = n.do("DELETE", doc+"ann?returnOld=true", nil).must(t, http.StatusOK)
	if r.str("_key") != "ann" || r.body["old"].(map[string]any)["name"] != "Ann" {
		t.Fatalf("delete: %s", r.raw)
	}
	n.do("GET", doc+"ann", nil).mustError(t, http.StatusNotFound, 1202)
	n.do("DELETE", doc+"ann", nil).mustError(t, http.StatusNotFound, 1202)
	// Insert again after a delete works (a fresh document).
	n.do("POST", sys+"document/users", map[string]any{"_key": "ann", "v": 1}).must(t, http.StatusCreated)
	if g := n.do("GET", doc+"ann", nil); g.body["name"] != nil || num(g.body["v"]) != 1 {
		t.Fatalf("re-insert: %s", g.raw)
	}

	// Generated keys.
	r = n.do("POST", sys+"document/users", map[string]any{"v": 2}).must(t, http.StatusCreated)
	if k := r.str("_key"); !strings.HasSuffix(k, "-us-east") {
		t.Fatalf("generated key %q", k)
	}
}

func TestEdgesNeedEnds(t *testing.T) {
	n := startNode(t)
	n.createCollection("knows", map[string]any{"type": 3})
	n.do("POST", sys+"document/knows", map[string]any{"_from": "users/a", "_to": "users/b"}).must(t, http.StatusCreated)
	n.do("POST", sys+"document/knows", map[string]any{"_from": "users/a"}).mustError(t, http.StatusBadRequest, 10)
	n.do("POST", sys+"document/knows", map[string]any{"_from": 1, "_to": "users/b"}).mustError(t, http.StatusBadRequest, 10)
}

func TestBatches(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"document/users", map[string]any{"_key": "dup"}).must(t, http.StatusCreated)
	r := n.do("POST", sys+"document/users", []any{
		map[string]any{"_key": "a", "n": 1},
		map[string]any{"_key": "dup"},
		map[string]any{"_key": "b/c"},
		map[string]any{"_key": "b", "n": 2},
	}).must(t, http.StatusCreated)
	if len(r.list) != 4 || r.header.Get("X-Arango-Error-Codes") != "1210:1,1221:1" {
		t.Fatalf("batch insert: %s %v", r.raw, r.header)
	}
	item := func(i int) map[string]any { return r.list[i].(map[string]any) }
	if item(0)["_key"] != "a" || item(1)["error"] != true || num(item(1)["errorNum"]) != 1210 || num(item(2)["errorNum"]) != 1221 || item(3)["_key"] != "b" {
		t.Fatalf("batch items: %s", r.raw)
	}
	if c := n.count("users"); c != 3 {
		t.Fatalf("count %d after batch, want 3", c)
	}
	revA := item(0)["_rev"].(string)

	r = n.do("PATCH", sys+"document/users?ignoreRevs=false", []any{
		map[string]any{"_key": "a", "_rev": revA, "n": map[string]any{"$inc": 10}},
		map[string]any{"_key": "b", "_rev": "stale", "n": 0},
		map[string]any{"_key": "ghost", "n": 0},
	}).must(t, http.StatusCreated)
	if r.header.Get("X-Arango-Error-Codes") != "1200:1,1202:1" {
		t.Fatalf("batch patch: %s %v", r.raw, r.header)
	}
	if num(n.do("GET", sys+"document/users/a", nil).body["n"]) != 11 || num(n.do("GET", sys+"document/users/b", nil).body["n"]) != 2 {
		t.Fatal("batch patch results wrong")
	}
	n.do("PUT", sys+"document/users", []any{map[string]any{"_key": "a", "m": 1}, map[string]any{"_key": "b", "m": 2}}).must(t, http.StatusCreated)
	if g := n.do("GET", sys+"document/users/b", nil); g.body["n"] != nil || num(g.body["m"]) != 2 {
		t.Fatalf("batch replace: %s", g.raw)
	}
	n.do("PUT", sys+"document/users", []any{map[string]any{"m": 1}}).mustError(t, http.StatusBadRequest, 1221)
	r = n.do("DELETE", sys+"document/users", []any{"a", map[string]any{"_key": "b"}, "ghost"}).must(t, http.StatusOK)
	if r.header.Get("X-Arango-Error-Codes") != "1202:1" || n.count("users") != 1 {
		t.Fatalf("batch delete: %s", r.raw)
	}
	// The same key twice in one batch: the second sees the first.
	r = n.do("POST", sys+"document/users", []any{map[string]any{"_key": "z", "n": 1}, map[string]any{"_key": "z", "n": 2}}).must(t, http.StatusCreated)
	if r.list[1].(map[string]any)["errorNum"] == nil {
		t.Fatalf("second insert of one key in a batch: %s", r.raw)
	}
}

func TestConflictsListing(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"document/users", map[string]any{"_key": "k", "color": "red"}).must(t, http.StatusCreated)
	r := n.do("GET", sys+"document/users/k/conflicts", nil).must(t, http.StatusOK)
	if res := r.body["result"].([]any); len(res) != 0 {
		t.Fatalf("conflicts before: %s", r.raw)
	}
	// A write from another region, concurrent with the insert (its context
	// saw nothing of us) and with a higher HLC: it wins, ours is a conflict.
	applyRemote(t, n, `{"collection":"users","key":"k","kind":"set","dot":{"region":"eu-west","seq":1},"hlc":18446744073709551615,"path":["color"],"value":"blue"}`)
	g := n.do("GET", sys+"document/users/k", nil)
	if g.str("color") != "blue" {
		t.Fatalf("after remote write: %s", g.raw)
	}
	r = n.do("GET", sys+"document/users/k/conflicts", nil).must(t, http.StatusOK)
	res := r.body["result"].([]any)
	if len(res) != 1 {
		t.Fatalf("conflicts: %s", r.raw)
	}
	c := res[0].(map[string]any)
	if c["path"] != "color" || c["value"] != "red" || c["region"] != "us-east" {
		t.Fatalf("conflict: %s", r.raw)
	}
	// A local write after both clears the conflict.
	n.do("PATCH", sys+"document/users/k", map[string]any{"color": "green"}).must(t, http.StatusCreated)
	if res := n.do("GET", sys+"document/users/k/conflicts", nil).body["result"].([]any); len(res) != 0 {
		t.Fatalf("conflicts after a later write: %v", res)
	}
	n.do("GET", sys+"document/users/nope/conflicts", nil).mustError(t, http.StatusNotFound, 1202)
}

func applyRemote(t *testing.T, n *node, opJSON string) {
	t.Helper()
	var op collectionsOp
	if err := json.Unmarshal([]byte(opJSON), &op); err != nil {
		t.Fatal(err)
	}
	if err := n.svc.ApplyRemote("_mm", "_system", op.Op); err != nil {
		t.Fatal(err)
	}
}
