package streamworkers

import (
	"net/http"
	"strings"
	"testing"
)

// Bad requests get a clear 4xx and change nothing.
func TestAPIRefusesBadInput(t *testing.T) {
	e := newEnv(t, Options{})
	e.stream("orders")
	for _, c := range []struct {
		name, method, path string
		body               any
		code               int
		msg                string
	}{
		{"not JSON", "POST", "", "{", 400, "not the JSON object expected"},
		{"unknown field", "POST", "", `{"name":"a","definition":"x","bogus":1}`, 400, "bogus"},
		{"trailing data", "POST", "", `{"name":"a","definition":"x"} {}`, 400, "data after"},
		{"no name", "POST", "", `{"definition":"INSERT INTO sink SELECT * FROM orders"}`, 400, "stream worker name"},
		{"bad name", "POST", "", `{"name":"9lives","definition":"INSERT INTO sink SELECT * FROM orders"}`, 400, "byte 0 not allowed"},
		{"long name", "POST", "", `{"name":"` + strings.Repeat("a", 49) + `","definition":"q"}`, 400, "1 to 48 bytes"},
		{"no query", "POST", "", `{"name":"a"}`, 400, "query is missing"},
		{"two queries", "POST", "", `{"name":"a","definition":"x","query":"y"}`, 400, "not two different ones"},
		{"malformed query", "POST", "", `{"name":"a","query":"SELEC nothing"}`, 400, "streamworkers"},
		{"unknown input stream", "POST", "", `{"name":"a","query":"INSERT INTO sink SELECT * FROM nosuchstream"}`, 400, "nosuchstream"},
		{"bad active param", "PATCH", "/a/active?active=maybe", nil, 400, "active"},
		{"unknown param", "GET", "?x=1", nil, 400, "x"},
		{"get missing", "GET", "/nope", nil, 404, "not found"},
		{"delete missing", "DELETE", "/nope", nil, 404, "not found"},
		{"update missing", "PUT", "/nope", `{"query":"INSERT INTO sink SELECT * FROM orders"}`, 404, "not found"},
		{"dry run without query", "POST", "/query/dry-run", `{}`, 400, "query is missing"},
		{"dry run too many", "POST", "/query/dry-run", `{"query":"INSERT INTO sink SELECT * FROM orders","last":100001}`, 400, "last 100001"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ans errorAnswer
			code := e.do(c.method, c.path, c.body, &ans)
			if code != c.code || !ans.Error || !strings.Contains(ans.ErrorMessage, c.msg) {
				t.Fatalf("%d %+v, want %d with %q", code, ans, c.code, c.msg)
			}
		})
	}
	var list appsAnswer
	if code := e.do("GET", "", nil, &list); code != http.StatusOK || len(list.Apps) != 0 {
		t.Fatalf("list after refusals: %d %+v", code, list)
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{"a": true, "Orders_by-user2": true, "": false, "_x": false, "a/b": false, "a.b": false,
		"é": false, strings.Repeat("x", 48): true, strings.Repeat("x", 49): false} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
