package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestImportTypes(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	check := func(r resp, created, errors, empty, updated, ignored int) {
		t.Helper()
		r.must(t, http.StatusCreated)
		b := r.body
		if b["error"] != false || num(b["created"]) != created || num(b["errors"]) != errors || num(b["empty"]) != empty ||
			num(b["updated"]) != updated || num(b["ignored"]) != ignored {
			t.Fatalf("answer %s, want created %d errors %d empty %d updated %d ignored %d", r.raw, created, errors, empty, updated, ignored)
		}
	}
	// JSON lines: a blank line is empty, a bad line and a non-object are
	// errors, the rest is imported.
	body := "{\"_key\":\"a\",\"n\":1}\r\n\n{\"_key\":\"b\",\"n\":2}\n{\"_key\":\n[1,2]\n{\"n\":3}\n"
	r := n.do("POST", "/_api/import?collection=users&type=documents&details=true", body)
	check(r, 3, 2, 1, 0, 0)
	details := r.body["details"].([]any)
	if len(details) != 2 || !strings.HasPrefix(details[0].(string), "at position 3: ") || !strings.Contains(details[1].(string), "expecting object") {
		t.Fatalf("details %v", details)
	}
	if n.count("users") != 3 {
		t.Fatal(n.count("users"))
	}
	// Arrays, through /_db/, every onDuplicate.
	check(n.do("POST", "/_db/_system/_api/import?collection=users&type=list", `[{"_key":"a","n":10},{"_key":"c","n":4}]`), 1, 1, 0, 0, 0)
	check(n.do("POST", sys+"import?collection=users&type=list&onDuplicate=ignore", `[{"_key":"a","n":11},{"_key":"d"}]`), 1, 0, 0, 0, 1)
	check(n.do("POST", sys+"import?collection=users&type=auto&onDuplicate=update", `[{"_key":"a","m":true}]`), 0, 0, 0, 1, 0)
	a := n.do("GET", sys+"document/users/a", nil).must(t, http.StatusOK)
	if num(a.body["n"]) != 1 || a.body["m"] != true {
		t.Fatalf("a after update %s", a.raw)
	}
	check(n.do("POST", sys+"import?collection=users&type=auto&onDuplicate=replace", `{"_key":"a","z":1}`), 0, 0, 0, 1, 0)
	a = n.do("GET", sys+"document/users/a", nil).must(t, http.StatusOK)
	if a.body["n"] != nil || num(a.body["z"]) != 1 {
		t.Fatalf("a after replace %s", a.raw)
	}
	// Headers and values (no type), as arangojs sends arrays of arrays.
	check(n.do("POST", sys+"import?collection=users", "[\"_key\",\"n\",\"s\"]\n[\"e\",5,\"x\"]\n\n[\"f\",6,null]\n[\"g\",7]\n"), 2, 1, 1, 0, 0)
	f := n.do("GET", sys+"document/users/f", nil).must(t, http.StatusOK)
	if num(f.body["n"]) != 6 || f.body["s"] != nil {
		t.Fatalf("f %s", f.raw)
	}
	// Edges with prefixes.
	n.createCollection("knows", map[string]any{"type": 3})
	check(n.do("POST", sys+"import?collection=knows&type=list&fromPrefix=users&toPrefix=users", `[{"_from":"a","_to":"users/b"}]`), 1, 0, 0, 0, 0)
	r = n.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM knows"}).must(t, http.StatusCreated)
	e := r.body["result"].([]any)[0].(map[string]any)
	if e["_from"] != "users/a" || e["_to"] != "users/b" {
		t.Fatalf("edge %v", e)
	}
}

func TestImportComplete(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"document/users", map[string]any{"_key": "a"}).must(t, http.StatusCreated)
	// One refusal and nothing is written.
	n.do("POST", sys+"import?collection=users&type=list&complete=true", `[{"_key":"b"},{"_key":"a"}]`).mustError(t, http.StatusConflict, 1210)
	n.do("POST", sys+"import?collection=users&type=documents&complete=true", "{\"_key\":\"b\"}\nnope\n").mustError(t, http.StatusBadRequest, 600)
	n.do("POST", sys+"import?collection=users&type=list&complete=true", `[{"_key":"b"},{"_key":"b"}]`).mustError(t, http.StatusBadRequest, 10)
	n.do("POST", sys+"import?collection=users&type=list&complete=true", `[{"_key":"b"},{"_key":"bad/key"}]`).mustError(t, http.StatusBadRequest, 1221)
	if c := n.count("users"); c != 1 {
		t.Fatalf("%d documents after refused complete imports", c)
	}
	r := n.do("POST", sys+"import?collection=users&type=list&complete=true&onDuplicate=update", `[{"_key":"b"},{"_key":"a","x":1},{}]`).must(t, http.StatusCreated)
	if num(r.body["created"]) != 2 || num(r.body["updated"]) != 1 || n.count("users") != 3 {
		t.Fatalf("%s, %d documents", r.raw, n.count("users"))
	}
}

func TestImportBadInput(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"document/users", map[string]any{"_key": "a"}).must(t, http.StatusCreated)
	for _, c := range []struct {
		path, body  string
		status, num int
	}{
		{"import?type=list", `[{}]`, 400, 10},
		{"import?collection=nope&type=list", `[{}]`, 404, 1203},
		{"import?collection=users&type=csv", `[{}]`, 400, 10},
		{"import?collection=users&type=list&overwrite=true", `[{}]`, 400, 10},
		{"import?collection=users&type=list&onDuplicate=merge", `[{}]`, 400, 10},
		{"import?collection=users&type=list&complete=maybe", `[{}]`, 400, 10},
		{"import?collection=users&type=list&createCollection=true", `[{}]`, 400, 10},
		{"import?collection=users&type=list", `{"_key":"x"}`, 400, 600},
		{"import?collection=users&type=list", `[{"_key":"x"}`, 400, 600},
		{"import?collection=users&type=list", `[{}] junk`, 400, 600},
		{"import?collection=users", `{"_key":"x"}`, 400, 600},
		{"import?collection=users", `["_key",1]`, 400, 10},
		{"import?collection=users", ``, 400, 600},
	} {
		n.do("POST", sys+c.path, c.body).mustError(t, c.status, c.num)
	}
	if c := n.count("users"); c != 1 {
		t.Fatalf("%d documents after bad imports", c)
	}
	// An empty body imports nothing.
	r := n.do("POST", sys+"import?collection=users&type=documents", "").must(t, http.StatusCreated)
	if num(r.body["created"]) != 0 || num(r.body["errors"]) != 0 {
		t.Fatal(string(r.raw))
	}
}
