package streamworkers

import (
	"net/http"
	"testing"
)

// FuzzCreate sends arbitrary bodies to the create endpoint of a real node:
// every one is answered 201, 400 or 409, never a crash or a 5xx, and a
// refused one creates nothing.
func FuzzCreate(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","definition":"INSERT INTO sink SELECT id FROM orders"}`,
		`{"name":"b","query":"REPLACE INTO totals SELECT user AS _key, COUNT(*) AS n FROM orders GROUP BY user","isActive":true}`,
		`{"name":"c","query":"INSERT INTO sink SELECT id FROM orders","regions":["us"],"start":"latest","limits":{"maxWindows":10}}`,
		`{"name":"d","query":"SELECT"}`, `{"name":1}`, `[]`, `null`, `{"limits":{"maxStateBytes":-1}}`,
	} {
		f.Add(s)
	}
	e := newEnv(f, Options{})
	e.stream("orders")
	f.Fuzz(func(t *testing.T, body string) {
		var before, after appsAnswer
		e.doT(t, "GET", "", nil, &before)
		var ans map[string]any
		code := e.doT(t, "POST", "", body, &ans)
		switch code {
		case http.StatusCreated, http.StatusConflict:
		case http.StatusBadRequest:
			e.doT(t, "GET", "", nil, &after)
			if len(after.Apps) != len(before.Apps) {
				t.Fatalf("a refused create (%v) changed the list: %d -> %d", ans, len(before.Apps), len(after.Apps))
			}
		default:
			t.Fatalf("body %q: %d %v", body, code, ans)
		}
	})
}
