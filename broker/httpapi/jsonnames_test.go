package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/server"
)

// jsonProblems walks a decoded JSON answer and returns every key that
// starts with an upper-case letter (a Go field name leaking out) and
// every null (an empty list must be [], a missing figure left out), with
// its path. Under a document's body (skip) user data is not judged.
func jsonProblems(path string, v any, skip func(path string) bool) []string {
	if skip(path) {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case nil:
		out = append(out, path+": null")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if r := []rune(k); len(r) > 0 && unicode.IsUpper(r[0]) {
				out = append(out, fmt.Sprintf("%s: key %q is not camelCase", path, k))
			}
			out = append(out, jsonProblems(path+"."+k, x[k], skip)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, jsonProblems(fmt.Sprintf("%s[%d]", path, i), e, skip)...)
		}
	}
	return out
}

func TestJSONProblemsFinds(t *testing.T) {
	var v any
	if err := json.Unmarshal([]byte(`{"result":{"Name":"s","consumers":null,"ok":[1,{"MarkDelete":0}]}}`), &v); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(jsonProblems("$", v, func(string) bool { return false }), "\n")
	for _, want := range []string{`$.result: key "Name"`, `$.result.consumers: null`, `$.result.ok[1]: key "MarkDelete"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missed %s in:\n%s", want, got)
		}
	}
}

// TestJSONAnswersAreCamelCase walks the answers of the main GET endpoints
// on a node with data - streams, a stream with a subscription and a
// connected consumer, subscriptions, collections (list, info, count),
// key-value collections, indexes, saved queries, tenants, fabrics, API
// keys - and fails on any key starting with an upper-case letter and any
// null.
func TestJSONAnswersAreCamelCase(t *testing.T) {
	on := true
	srv, err := server.Start(broker.Config{Region: "test", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		Auth: auth.Config{Enabled: &on}}, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	root := srv.Auth.BootstrapKey()
	do := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, srv.URL()+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+root)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	must := func(method, path string, body any) {
		t.Helper()
		if code, b := do(method, path, body); code >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
	}
	const f = "/_fabric/_system/_api/"
	must("POST", "/_api/tenant/acme", nil)
	must("POST", "/_api/tenant/globex", nil)
	must("POST", "/_tenant/acme/_fabric/eu/_api/fabric", nil)
	must("POST", f+"streams/empty", nil)
	must("POST", f+"collection", map[string]any{"name": "users"})
	must("POST", f+"document/users", []map[string]any{{"_key": "a", "age": 30}, {"_key": "b", "age": 40}})
	must("POST", f+"index?collection=users", map[string]any{"type": "persistent", "fields": []string{"age"}})
	must("POST", f+"kv/cache", nil)
	must("PUT", f+"kv/cache/value", []map[string]any{{"_key": "k", "value": 1}})
	must("POST", f+"restql", map[string]any{"query": map[string]any{"name": "adults", "value": "SELECT * FROM users WHERE age >= @min", "parameter": map[string]any{"min": 18}}})
	must("POST", "/_tenant/acme"+auth.KeysPath, auth.KeyRequest{Permissions: []string{"read:*"}})
	// Empty ones: their lists must be [] too.
	must("POST", f+"collection", map[string]any{"name": "nobody"})
	must("POST", f+"kv/nothing", nil)
	const e = "/_tenant/acme/_fabric/eu/_api/"

	// A stream with messages, a subscription and a connected consumer.
	hdr := http.Header{"Authorization": []string{"Bearer " + root}}
	wsURL := "ws" + strings.TrimPrefix(srv.URL(), "http")
	prod, _, err := websocket.DefaultDialer.Dial(wsURL+"/ws/v2/producer/persistent/_mm/_system/orders", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 3 {
		if err := prod.WriteJSON(map[string]any{"payload": "aGk=", "context": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		var ack map[string]any
		if err := prod.ReadJSON(&ack); err != nil || ack["result"] != "ok" {
			t.Fatalf("publish: %v %v", ack, err)
		}
	}
	cons, _, err := websocket.DefaultDialer.Dial(wsURL+"/ws/v2/consumer/persistent/_mm/_system/orders/sub?subscriptionType=Shared", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	time.Sleep(100 * time.Millisecond) // the consumer attached

	// Under these paths the answer holds user data (documents, values).
	userData := func(p string) bool {
		for _, prefix := range []string{"$.result[0].value", "$.result[0].parameter", "$.value"} {
			if strings.HasPrefix(p, prefix) {
				return true
			}
		}
		return false
	}
	for _, p := range []string{
		"/_api/tenant",
		"/_fabric/_system/_api/fabric",
		"/_tenant/acme/_fabric/eu/_api/fabric",
		f + "database",
		f + "streams",
		f + "streams/orders",
		f + "streams/empty",
		f + "streams/orders/subscriptions",
		f + "streams/empty/subscriptions",
		f + "collection",
		f + "collection/users",
		f + "collection/users/properties",
		f + "collection/users/count",
		f + "kv",
		f + "kv/cache/count",
		f + "kv/cache/value/k",
		f + "kv/cache/keys",
		f + "kv/cache/values",
		f + "collection/users/figures",
		f + "database/current",
		f + "database/user",
		f + "version",
		f + "index?collection=users",
		f + "restql",
		"/_tenant/acme" + auth.KeysPath,
		"/_tenant/globex" + auth.KeysPath,
		f + "collection/nobody",
		f + "collection/nobody/count",
		f + "collection/nobody/figures",
		f + "index?collection=nobody",
		f + "kv/nothing/keys",
		f + "kv/nothing/values",
		e + "streams",
		e + "collection",
		e + "kv",
		e + "restql",
		e + "database/current",
		auth.KeysPath,
		"/health",
	} {
		code, b := do("GET", p, nil)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, code, b)
			continue
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("GET %s: %v: %s", p, err, b)
			continue
		}
		if problems := jsonProblems("$", v, userData); len(problems) > 0 {
			t.Errorf("GET %s:\n  %s\n  answer: %.600s", p, strings.Join(problems, "\n  "), b)
		}
	}
	// The count of a collection is its documents.
	_, b := do("GET", f+"collection/users/count", nil)
	var counted struct{ Count *int64 }
	if err := json.Unmarshal(b, &counted); err != nil || counted.Count == nil || *counted.Count != 2 {
		t.Errorf("collection count: %s", b)
	}
}
