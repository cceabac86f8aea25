package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCreateBodiesRefuseWhatTheyDoNotDo: collection and index creation
// take ArangoDB's options where they are moot, and refuse with 400/10
// naming it an unknown attribute or an option the node would not honour,
// creating nothing.
func TestCreateBodiesRefuseWhatTheyDoNotDo(t *testing.T) {
	n := startNode(t)
	n.do("POST", sys+"collection", map[string]any{"name": "moot", "waitForSync": true, "numberOfShards": 3, "replicationFactor": "satellite",
		"writeConcern": 1, "shardKeys": []any{"_key"}, "cacheEnabled": false, "keyOptions": map[string]any{"type": "traditional", "allowUserKeys": true},
		"schema": nil, "computedValues": []any{}, "isSmart": false, "stream": true}).must(t, http.StatusOK)
	for _, c := range []struct {
		body map[string]any
		name string
	}{
		{map[string]any{"name": "a", "nmae": "x"}, `"nmae"`},
		{map[string]any{"name": "a", "schema": map[string]any{"rule": map[string]any{}}}, "schema"},
		{map[string]any{"name": "a", "computedValues": []any{map[string]any{"name": "x"}}}, "computedValues"},
		{map[string]any{"name": "a", "keyOptions": map[string]any{"type": "autoincrement"}}, "type"},
		{map[string]any{"name": "a", "keyOptions": map[string]any{"allowUserKeys": false}}, "allowUserKeys"},
		{map[string]any{"name": "a", "keyOptions": map[string]any{"typ": "traditional"}}, `"typ"`},
		{map[string]any{"name": "a", "shardKeys": []any{"region"}}, "shardKeys"},
		{map[string]any{"name": "a", "isLocal": true}, "isLocal"},
		{map[string]any{"name": "a", "waitForSync": "yes"}, "waitForSync"},
		{map[string]any{"name": "a", "stream": false}, "stream"},
	} {
		r := n.do("POST", sys+"collection", c.body).mustError(t, http.StatusBadRequest, 10)
		if !strings.Contains(r.str("errorMessage"), c.name) {
			t.Errorf("%v: %s does not name %s", c.body, r.raw, c.name)
		}
	}
	r := n.do("GET", sys+"collection", nil).must(t, http.StatusOK)
	if got := jsonString(r.body["result"]); strings.Count(got, `"name"`) != 1 {
		t.Fatalf("collections after refused creations: %s", got)
	}

	idx := func(extra map[string]any) map[string]any {
		b := map[string]any{"type": "persistent", "fields": []any{"n"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	n.do("POST", sys+"index?collection=moot", idx(map[string]any{"name": "byN", "sparse": false, "deduplicate": true, "estimates": true,
		"inBackground": true, "storedValues": []any{"m"}})).must(t, http.StatusCreated)
	for _, c := range []struct {
		body map[string]any
		name string
	}{
		{idx(map[string]any{"name": "x", "expireAfter": 10}), `"expireAfter"`},
		{idx(map[string]any{"name": "x", "sparse": "no"}), "sparse"},
		{idx(map[string]any{"name": "x", "storedValues": "m"}), "storedValues"},
	} {
		r := n.do("POST", sys+"index?collection=moot", c.body).mustError(t, http.StatusBadRequest, 10)
		if !strings.Contains(r.str("errorMessage"), c.name) {
			t.Errorf("%v: %s does not name %s", c.body, r.raw, c.name)
		}
	}
	r = n.do("GET", sys+"index?collection=moot", nil).must(t, http.StatusOK)
	if got := jsonString(r.body["indexes"]); strings.Count(got, `"name"`) != 2 {
		t.Fatalf("indexes after refused creations: %s", got)
	}
}

func TestCreateKVRefusesUnknownAttributes(t *testing.T) {
	n := startNode(t)
	n.do("POST", sys+"kv/cache", map[string]any{"ttl": 60, "stream": false, "expiration": true}).must(t, http.StatusOK)
	r := n.do("POST", sys+"kv/other", map[string]any{"tll": 60}).mustError(t, http.StatusBadRequest, 10)
	if !strings.Contains(r.str("errorMessage"), `"tll"`) {
		t.Fatal(string(r.raw))
	}
	n.do("GET", sys+"kv/other/count", nil).mustError(t, http.StatusNotFound, 1203)
}
