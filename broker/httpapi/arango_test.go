package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestArangoPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/_db/_system/_api/collection", "/_fabric/_system/_api/collection"},
		{"/_db/shop/_api/document/users/ann", "/_fabric/shop/_api/document/users/ann"},
		{"/_db/shop", "/_fabric/shop"},
		{"/_db/shop/", "/_fabric/shop/"},
		{"/_db/", "/_db/"},
		{"/_db//_api/version", "/_db//_api/version"},
		{"/_api/version", "/_fabric/_system/_api/version"},
		{"/_api/document/users/a%2Fb", "/_fabric/_system/_api/document/users/a%2Fb"},
		{"/_api/database/current", "/_fabric/_system/_api/database/current"},
		{"/_api/import", "/_fabric/_system/_api/import"},
		// The node's own /_api/ paths stay.
		{"/_api/tenant", "/_api/tenant"},
		{"/_api/key/abc", "/_api/key/abc"},
		{"/_api/token", "/_api/token"},
		{"/_api/collections/snapshot", "/_api/collections/snapshot"},
		{"/_api/region/state", "/_api/region/state"},
		{"/_api/replication", "/_api/replication"},
		{"/_api/", "/_api/"},
		{"/_fabric/_system/_api/collection", "/_fabric/_system/_api/collection"},
		{"/_open/auth", "/_open/auth"},
		{"/_db/_system/_open/auth", "/_open/auth"},
		{"/_db/shop/_open/auth", "/_open/auth"},
		{"/health", "/health"},
		{"/ws/v2/producer/persistent/_mm/_system/s", "/ws/v2/producer/persistent/_mm/_system/s"},
	} {
		got, rewrote := arangoPath(c.in)
		if got != c.want || rewrote != (c.in != c.want) {
			t.Errorf("arangoPath(%q) = %q, %v; want %q", c.in, got, rewrote, c.want)
		}
	}
}

func TestRewriteKeepsEscapes(t *testing.T) {
	u, err := url.Parse("http://x/_db/shop/_api/document/c/a%2Fb")
	if err != nil {
		t.Fatal(err)
	}
	rewriteArangoPath(u)
	if u.Path != "/_fabric/shop/_api/document/c/a/b" || u.EscapedPath() != "/_fabric/shop/_api/document/c/a%2Fb" {
		t.Fatalf("path %q escaped %q", u.Path, u.EscapedPath())
	}
}

// arangoCall sends a request with a body and decodes the answer.
func (f *paramsFixture) arangoCall(method, path, body string) (int, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		f.t.Fatalf("%s %s: %d %q is not a JSON object", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

func TestArangoConnectCalls(t *testing.T) {
	f := newParamsFixture(t)
	// The three forms of one path, and the node's own paths unchanged.
	for _, p := range []string{"/_api/version", "/_db/_system/_api/version", "/_fabric/_system/_api/version", "/_tenant/_mm/_db/_system/_api/version"} {
		code, m := f.arangoCall("GET", p, "")
		if code != 200 || m["server"] != "arango" || m["version"] != ArangoVersion || m["license"] != "community" {
			t.Fatalf("GET %s: %d %v", p, code, m)
		}
	}
	if code, m := f.arangoCall("GET", "/_db/_system/_api/streams", ""); code != 200 || len(m["result"].([]any)) != 1 {
		t.Fatalf("streams through /_db: %d %v", code, m)
	}
	if code, m := f.arangoCall("GET", "/_api/tenant", ""); code != 200 {
		t.Fatalf("/_api/tenant: %d %v", code, m)
	}
	if code, m := f.arangoCall("GET", "/_db/nope/_api/version", ""); code != 404 || m["errorNum"] != float64(errNumDatabaseNotFound) {
		t.Fatalf("unknown fabric: %d %v", code, m)
	}
	code, m := f.arangoCall("GET", "/_db/_system/_api/database/current", "")
	cur, _ := m["result"].(map[string]any)
	if code != 200 || cur["name"] != "_system" || cur["isSystem"] != true || cur["id"] == "" {
		t.Fatalf("current: %d %v", code, m)
	}

	// Databases are fabrics.
	if code, m := f.arangoCall("POST", "/_api/database", `{"name":"shop","options":{"replicationFactor":1},"users":[]}`); code != 201 || m["result"] != true {
		t.Fatalf("create: %d %v", code, m)
	}
	if _, ok := f.node.Fabric("_mm", "shop"); !ok {
		t.Fatal("the fabric was not created")
	}
	for _, p := range []string{"/_api/database", "/_api/database/user", "/_db/shop/_api/database/user"} {
		code, m := f.arangoCall("GET", p, "")
		if got, _ := json.Marshal(m["result"]); code != 200 || string(got) != `["_system","shop"]` {
			t.Fatalf("GET %s: %d %v", p, code, m)
		}
	}
	if code, m := f.arangoCall("GET", "/_db/shop/_api/database/current", ""); code != 200 || m["result"].(map[string]any)["isSystem"] != false {
		t.Fatalf("current of shop: %d %v", code, m)
	}

	// Bad input: an answer in ArangoDB's shape, no fabric created.
	before := f.node.Fabrics("_mm")
	for _, c := range []struct {
		path, body string
		code, num  int
	}{
		{"/_api/database", `{"name":"shop"}`, 409, errNumDuplicateName},
		{"/_api/database", `{"name":"bad/name"}`, 400, errNumIllegalDatabaseName},
		{"/_api/database", `{"name":""}`, 400, errNumIllegalDatabaseName},
		{"/_api/database", `{"name":"x","replicas":3}`, 400, errNumBadParameter},
		{"/_api/database", `{"name":"x","options":{"shards":3}}`, 400, errNumBadParameter},
		{"/_api/database", `{"name":"x","users":[{"username":"u"}]}`, 400, errNumBadParameter},
		{"/_api/database", `{"name":`, 400, errNumBadParameter},
		{"/_api/database", `[1,2]`, 400, errNumBadParameter},
		{"/_api/database", `{"name":"x"} {"name":"y"}`, 400, errNumBadParameter},
		{"/_db/shop/_api/database", `{"name":"x"}`, 403, errNumUseSystemDatabase},
		{"/_api/database?name=x", `{"name":"x"}`, 400, errNumBadParameter},
	} {
		code, m := f.arangoCall("POST", c.path, c.body)
		if code != c.code || m["errorNum"] != float64(c.num) || m["error"] != true {
			t.Errorf("POST %s %s: %d %v, want %d/%d", c.path, c.body, code, m, c.code, c.num)
		}
	}
	if after := f.node.Fabrics("_mm"); len(after) != len(before) {
		t.Fatalf("fabrics %v after bad input, were %v", after, before)
	}
	if code, m := f.arangoCall("GET", "/_api/version?detail=true", ""); code != 400 || !strings.Contains(m["errorMessage"].(string), "detail") {
		t.Fatalf("unknown parameter: %d %v", code, m)
	}
}
