package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/causeway/causeway/collections/httpapi"
)

// paramsFixture is a node with one of everything a route can name: a
// document collection with a document and an index, a key/value
// collection with an entry, a saved query and an open cursor.
type paramsFixture struct {
	*node
	cursor string
}

func newParamsFixture(t *testing.T) paramsFixture {
	n := startNode(t)
	n.createCollection("users", nil)
	n.do("POST", sys+"document/users", map[string]any{"_key": "a", "n": 1}).must(t, http.StatusCreated)
	n.do("POST", sys+"document/users", map[string]any{"_key": "b", "n": 2}).must(t, http.StatusCreated)
	n.do("POST", sys+"index?collection=users", map[string]any{"type": "persistent", "fields": []any{"n"}, "name": "byN"}).must(t, http.StatusCreated)
	n.do("POST", sys+"kv/cache", nil).must(t, http.StatusOK)
	n.do("PUT", sys+"kv/cache/value", map[string]any{"_key": "k", "value": 1}).must(t, http.StatusOK)
	n.do("POST", sys+"restql", map[string]any{"query": map[string]any{"name": "q", "value": "SELECT * FROM users"}}).must(t, http.StatusCreated)
	c := n.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM users", "batchSize": 1}).must(t, http.StatusCreated)
	return paramsFixture{node: n, cursor: c.str("id")}
}

// state renders everything the fixture holds, to compare before and after.
func (f paramsFixture) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{
		"collection", "collection/users/count", "collection/cache/count", "kv",
		"document/users/a", "document/users/b", "kv/cache/value/k", "index?collection=users", "restql",
	} {
		r := f.do("GET", sys+p, nil)
		b.WriteString(p + " " + string(r.raw) + "\n")
	}
	r := f.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM users ORDER BY _key"}).must(t, http.StatusCreated)
	b.WriteString("users " + jsonString(r.body["result"]) + "\n")
	return b.String()
}

// concrete fills a route pattern's wildcards with what the fixture holds.
func (f paramsFixture) concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	kv := strings.Contains(path, "/kv/")
	path = regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllStringFunc(path, func(w string) string {
		switch w {
		case "{fabric}":
			return "_system"
		case "{collection}", "{name}":
			switch {
			case kv:
				return "cache"
			case strings.Contains(path, "/restql/"):
				return "q"
			}
			return "users"
		case "{key}":
			if kv {
				return "k"
			}
			return "a"
		case "{id}":
			if strings.Contains(path, "/index/") {
				return "byN"
			}
			return f.cursor
		}
		return w
	})
	return method, path
}

// writeBodies are bodies that would change something if the request ran.
var writeBodies = map[string]any{
	"collection":       map[string]any{"name": "fresh"},
	"document/users":   []any{map[string]any{"_key": "a", "n": 9}},
	"document/users/a": map[string]any{"n": 9},
	"kv/cache/value":   map[string]any{"_key": "k", "value": 9},
	"kv/cache/values":  []any{"k"},
	"index":            map[string]any{"type": "persistent", "fields": []any{"m"}},
	"restql":           map[string]any{"query": map[string]any{"name": "q2", "value": "SELECT * FROM users"}},
	"restql/q":         map[string]any{"query": map[string]any{"value": "SELECT 1 FROM users"}},
	"cursor":           map[string]any{"query": "SELECT * FROM users"},
	"simple/all":       map[string]any{"collection": "users"},
}

func bodyFor(method, path string) any {
	if method == "GET" || method == "HEAD" {
		return nil
	}
	return writeBodies[strings.TrimPrefix(path, sys)]
}

// TestEveryRouteRefusesAnUnknownParameter walks the whole route table:
// every route answers a parameter it does not declare with 400 naming it,
// and nothing changes.
func TestEveryRouteRefusesAnUnknownParameter(t *testing.T) {
	f := newParamsFixture(t)
	before := f.state(t)
	routes := httpapi.Routes(httpapi.New(f.svc, nil))
	if len(routes) < 40 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		method, path := f.concrete(rt.Pattern)
		for _, junk := range []string{"junkParam=1", "consistancy=strong", "returnnew=true"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := f.do(method, path+sep+junk, bodyFor(method, path))
			if method == "HEAD" {
				if r.status != http.StatusBadRequest {
					t.Errorf("%s %s?%s: status %d, want 400", method, path, junk, r.status)
				}
				continue
			}
			name, _, _ := strings.Cut(junk, "=")
			if r.status != http.StatusBadRequest || num(r.body["errorNum"]) != 10 ||
				!strings.Contains(r.str("errorMessage"), `unknown query parameter "`+name+`"`) {
				t.Errorf("%s %s?%s: %d %s", method, path, junk, r.status, r.raw)
			}
		}
	}
	if after := f.state(t); after != before {
		t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestEveryDeclaredParameterRefusesAnInvalidValue: for every route and
// every parameter it declares with a typed value, a value it does not
// take is a 400 naming it, and nothing changes.
func TestEveryDeclaredParameterRefusesAnInvalidValue(t *testing.T) {
	f := newParamsFixture(t)
	before := f.state(t)
	checked := 0
	for _, rt := range httpapi.Routes(httpapi.New(f.svc, nil)) {
		method, path := f.concrete(rt.Pattern)
		for _, p := range rt.Params.Params() {
			v := p.Invalid()
			if v == "" {
				continue // free text, read by the handler
			}
			q := url.Values{p.Name(): {v}}
			if p.Name() != "collection" && strings.HasSuffix(path, "/index") {
				q.Set("collection", "users")
			}
			r := f.do(method, path+"?"+q.Encode(), bodyFor(method, path))
			if r.status != http.StatusBadRequest || num(r.body["errorNum"]) != 10 ||
				!strings.Contains(r.str("errorMessage"), "query parameter "+p.Name()+"=") {
				t.Errorf("%s %s?%s: %d %s", method, path, q.Encode(), r.status, r.raw)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d parameters checked", checked)
	}
	if after := f.state(t); after != before {
		t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestParameterRules is the table of what routes accept: the options
// ArangoDB clients send routinely keep working, what is not implemented
// is refused by name.
func TestParameterRules(t *testing.T) {
	f := newParamsFixture(t)
	cases := []struct {
		method, path string
		body         any
		status       int
		refused      string // the parameter a 400 names
	}{
		// Routine write options.
		{"POST", "document/users?waitForSync=true&returnNew=true&returnOld=false&silent=false&refillIndexCaches=true&isRestore=false", map[string]any{"_key": "c"}, 0, ""},
		{"POST", "document/users?overwrite=true&keepNull=false&mergeObjects=true", map[string]any{"_key": "c", "n": 3}, 0, ""},
		{"POST", "document/users?overwriteMode=update&ignoreRevs=true", map[string]any{"_key": "c", "m": 1}, 0, ""},
		{"PUT", "document/users/c?waitForSync=true&ignoreRevs=false&returnOld=true&returnNew=true&silent=false&refillIndexCaches=false", map[string]any{"n": 4}, 0, ""},
		{"PATCH", "document/users/c?keepNull=true&mergeObjects=false&waitForSync=false", map[string]any{"n": 5}, 0, ""},
		{"PATCH", "document/users?keepNull=true&ignoreRevs=true&returnNew=true", []any{map[string]any{"_key": "c", "n": 6}}, 0, ""},
		{"PUT", "document/users?ignoreRevs=true&returnOld=true&silent=true", []any{map[string]any{"_key": "c", "n": 7}}, 0, ""},
		{"DELETE", "document/users/c?waitForSync=true&returnOld=true&silent=false", nil, 0, ""},
		{"DELETE", "document/users?waitForSync=true&returnOld=true&ignoreRevs=true", []any{"zz"}, 0, ""},
		{"GET", "document/users/a?token=t", nil, 200, ""},
		// Not implemented, or not for this route: refused by name.
		{"POST", "document/users?isRestore=true", map[string]any{"_key": "d", "_rev": "x"}, 400, "isRestore"},
		{"POST", "document/users?versionAttribute=v", map[string]any{"_key": "d"}, 400, "versionAttribute"},
		{"PUT", "document/users/a?overwriteMode=update", map[string]any{"n": 1}, 400, "overwriteMode"},
		{"PUT", "document/users/a?keepNull=false", map[string]any{"n": 1}, 400, "keepNull"},
		{"DELETE", "document/users/a?ignoreRevs=false", nil, 400, "ignoreRevs"},
		{"POST", "document/users?returnNew=true&returnNew=false", map[string]any{"_key": "d"}, 400, "returnNew"},
		{"POST", "document/users?overwriteMode=Replace", map[string]any{"_key": "a"}, 400, "overwriteMode"},
		{"PUT", "document/users?onlyget=true&returnNew=true", []any{"a"}, 400, "returnNew"},
		{"PUT", "document/users?onlyget=yes", []any{"a"}, 400, "onlyget"},
		{"GET", "document/users/a?consistency=strong", nil, 400, "consistency"},
		{"GET", "document/users/a?rev=x", nil, 400, "rev"},
		// Collections and the rest.
		{"POST", "collection?waitForSyncReplication=1&enforceReplicationFactor=0", map[string]any{"name": "more"}, 200, ""},
		{"GET", "collection?excludeSystem=true", nil, 200, ""},
		{"GET", "collection/users?excludeSystem=true", nil, 400, "excludeSystem"},
		{"PUT", "collection/more/truncate?waitForSync=true&compact=false", nil, 200, ""},
		{"DELETE", "collection/more?isSystem=false", nil, 200, ""},
		{"GET", "kv/cache/keys?offset=0&limit=10&batchSize=5", nil, 200, ""},
		{"GET", "kv/cache/keys?limit=-1", nil, 400, "limit"},
		{"GET", "kv/cache/keys?order=desc", nil, 400, "order"},
		{"POST", "kv/more?expiration=true", nil, 200, ""},
		{"GET", "index?collection=users&withHidden=true", nil, 200, ""},
		{"GET", "index?collection=users&withStats=true", nil, 400, "withStats"},
		{"POST", "cursor?batchSize=1", map[string]any{"query": "SELECT * FROM users"}, 400, "batchSize"},
		{"GET", "document/users/a?returnNew=true;x=1", nil, 400, ""},
	}
	for _, c := range cases {
		r := f.do(c.method, sys+c.path, c.body)
		if c.status == 0 && r.status >= 200 && r.status < 300 {
			continue
		}
		if r.status != c.status {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.status, r.raw)
			continue
		}
		if c.status == 400 {
			msg := r.str("errorMessage")
			if num(r.body["errorNum"]) != 10 || (c.refused != "" && !strings.Contains(msg, `"`+c.refused+`"`) && !strings.Contains(msg, " "+c.refused+"=")) {
				t.Errorf("%s %s: %s, want a refusal naming %q", c.method, c.path, r.raw, c.refused)
			}
		}
	}
}

// TestExcludeSystem: arangojs lists collections with excludeSystem=true.
func TestExcludeSystem(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	n.createCollection("_internal", nil)
	names := func(path string) string {
		r := n.do("GET", sys+path, nil).must(t, http.StatusOK)
		var out []string
		for _, c := range r.body["result"].([]any) {
			out = append(out, c.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	all, user := names("collection"), names("collection?excludeSystem=true")
	if !strings.Contains(all, "_internal") || strings.Contains(user, "_internal") || !strings.Contains(user, "users") {
		t.Fatalf("all %q, excludeSystem %q", all, user)
	}
}
