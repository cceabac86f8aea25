package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends malformed and invalid requests: each gets a clear 4xx
// in ArangoDB's envelope and writes nothing.
func TestBadInput(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"kv/cache", nil).must(t, http.StatusOK)
	orig := n.do("POST", sys+"document/users", map[string]any{"_key": "a", "n": 1, "o": map[string]any{"x": 1}}).must(t, http.StatusCreated)
	rev := orig.str("_rev")
	long := strings.Repeat("k", 255)
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	cases := []struct {
		name, method, path string
		body               any
		status, errorNum   int
	}{
		{"malformed JSON", "POST", sys + "document/users", `{"_key": "b", "n": `, 400, 600},
		{"trailing garbage", "POST", sys + "document/users", `{"_key": "b"} {}`, 400, 600},
		{"not an object", "POST", sys + "document/users", `"just a string"`, 400, 10},
		{"array of non-objects", "POST", sys + "document/users", `[{"_key":"b"}, 3]`, 400, 10},
		{"key too long", "POST", sys + "document/users", map[string]any{"_key": long}, 400, 1221},
		{"key with a slash", "PUT", sys + "document/users/a%2Fb", map[string]any{"n": 1}, 400, 1221},
		{"key not a string", "POST", sys + "document/users", map[string]any{"_key": 7}, 400, 1221},
		{"rev not a string", "PUT", sys + "document/users/a?ignoreRevs=false", map[string]any{"_rev": 1}, 400, 10},
		{"too deep", "POST", sys + "document/users", `{"_key":"b","v":` + deep + `}`, 400, 1227},
		{"attribute name too long", "POST", sys + "document/users", map[string]any{"_key": "b", strings.Repeat("n", 300): 1}, 400, 1227},
		{"patch with an array body", "PATCH", sys + "document/users/a", `[1,2]`, 400, 10},
		{"patch $inc of a string", "PATCH", sys + "document/users/a", map[string]any{"n": map[string]any{"$inc": "1"}}, 400, 10},
		{"patch $inc of a float", "PATCH", sys + "document/users/a", map[string]any{"n": map[string]any{"$inc": 1.5}}, 400, 10},
		{"patch with a bad flag", "PATCH", sys + "document/users/a?keepNull=maybe", map[string]any{"n": 2}, 400, 10},
		{"patch of a missing document", "PATCH", sys + "document/users/zz", map[string]any{"n": 2}, 404, 1202},
		{"batch replace without keys", "PUT", sys + "document/users", `[{"n":1}]`, 400, 1221},
		{"unknown overwrite mode", "POST", sys + "document/users?overwriteMode=merge", map[string]any{"n": 1}, 400, 10},
		{"unknown collection", "POST", sys + "document/ghosts", map[string]any{"n": 1}, 404, 1203},
		{"unknown collection read", "GET", sys + "document/ghosts/a", nil, 404, 1203},
		{"unknown fabric", "GET", "/_fabric/ghost/_api/document/users/a", nil, 404, 1228},
		{"query syntax", "POST", sys + "cursor", map[string]any{"query": "SELEKT * FROM users"}, 400, 1501},
		{"query outside the subset", "POST", sys + "cursor", map[string]any{"query": "UPDATE users SET n = 1"}, 400, 1501},
		{"query on an unknown collection", "POST", sys + "cursor", map[string]any{"query": "SELECT * FROM ghosts"}, 404, 1203},
		{"query missing a parameter", "POST", sys + "cursor", map[string]any{"query": "SELECT * FROM users WHERE n = @n"}, 400, 1551},
		{"query with a stray parameter", "POST", sys + "cursor", map[string]any{"query": "SELECT * FROM users", "bindVars": map[string]any{"n": 1}}, 400, 1552},
		{"query with bad bindVars", "POST", sys + "cursor", map[string]any{"query": "SELECT * FROM users", "bindVars": "x"}, 400, 10},
		{"query with a bad batch size", "POST", sys + "cursor", map[string]any{"query": "SELECT * FROM users", "batchSize": 0}, 400, 10},
		{"query body not an object", "POST", sys + "cursor", `[]`, 400, 10},
		{"unknown cursor", "PUT", sys + "cursor/nope", nil, 404, 1600},
		{"kv entry without value", "PUT", sys + "kv/cache/value", map[string]any{"_key": "x"}, 400, 10},
		{"kv entry with a bad key", "PUT", sys + "kv/cache/value", map[string]any{"_key": "a b", "value": 1}, 400, 1221},
		{"kv expiry not a number", "PUT", sys + "kv/cache/value", map[string]any{"_key": "x", "value": 1, "expireAt": "soon"}, 400, 10},
		{"kv on a document collection", "PUT", sys + "kv/users/value", map[string]any{"_key": "x", "value": 1}, 400, 10},
		{"index with two fields", "POST", sys + "index?collection=users", map[string]any{"type": "persistent", "fields": []any{"a", "b"}}, 400, 10},
		{"index on a bad path", "POST", sys + "index?collection=users", map[string]any{"type": "persistent", "fields": []any{"a..b"}}, 400, 10},
		{"collection with a bad name", "POST", sys + "collection", map[string]any{"name": "a b"}, 400, 1208},
		{"collection with a long name", "POST", sys + "collection", map[string]any{"name": strings.Repeat("c", 65)}, 400, 1208},
		{"collection body not JSON", "POST", sys + "collection", `name=x`, 400, 600},
		{"unknown path", "GET", sys + "nothing", nil, 404, 404},
		{"wrong method", "PATCH", sys + "collection", nil, 405, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n.do(tc.method, tc.path, tc.body).mustError(t, tc.status, tc.errorNum)
		})
	}
	t.Run("body too large", func(t *testing.T) {
		big := `{"_key":"big","v":"` + strings.Repeat("x", 33<<20) + `"}`
		n.do("POST", sys+"document/users", big).mustError(t, http.StatusRequestEntityTooLarge, 413)
	})
	t.Run("too many documents", func(t *testing.T) {
		docs := make([]any, 10001)
		for i := range docs {
			docs[i] = map[string]any{}
		}
		n.do("POST", sys+"document/users", docs).mustError(t, http.StatusRequestEntityTooLarge, 413)
	})
	// Nothing was written.
	if c := n.count("users"); c != 1 {
		t.Fatalf("count %d after bad input, want 1", c)
	}
	if c := n.count("cache"); c != 0 {
		t.Fatalf("cache count %d after bad input, want 0", c)
	}
	g := n.do("GET", sys+"document/users/a", nil).must(t, http.StatusOK)
	if g.str("_rev") != rev || num(g.body["n"]) != 1 {
		t.Fatalf("document changed by bad input: %s", g.raw)
	}
	for _, c := range []string{"ghosts", "a b"} {
		n.do("GET", sys+"collection/"+strings.ReplaceAll(c, " ", "%20"), nil).mustError(t, http.StatusNotFound, 1203)
	}
}
