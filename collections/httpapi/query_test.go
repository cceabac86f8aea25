package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// loadPeople inserts n documents with a spread of ages and cities.
func loadPeople(t *testing.T, nd *node, n int) {
	t.Helper()
	nd.createCollection("people", nil)
	cities := []any{"Paris", "Berlin", "Rome", nil}
	var docs []any
	for i := range n {
		d := map[string]any{"_key": fmt.Sprintf("p%04d", i), "age": (i * 7) % 90, "info": map[string]any{"city": cities[i%len(cities)]}}
		if i%10 == 0 {
			d["age"] = fmt.Sprint(i) // a string age now and then
		}
		if i%13 == 0 {
			delete(d, "age")
		}
		docs = append(docs, d)
	}
	nd.do("POST", sys+"document/people", docs).must(t, http.StatusCreated)
}

// queryAll runs a query and fetches every batch through the cursor.
func queryAll(t *testing.T, nd *node, q string, bind any, batch int) ([]string, map[string]any) {
	t.Helper()
	body := map[string]any{"query": q, "batchSize": batch}
	if bind != nil {
		body["bindVars"] = bind
	}
	r := nd.do("POST", sys+"cursor", body).must(t, http.StatusCreated)
	extra, _ := r.body["extra"].(map[string]any)
	var rows []string
	for {
		for _, row := range r.body["result"].([]any) {
			rows = append(rows, jsonString(row))
		}
		if r.body["hasMore"] != true {
			return rows, extra
		}
		if len(r.body["result"].([]any)) != batch {
			t.Fatalf("a batch that is not the last has %d rows, want %d", len(r.body["result"].([]any)), batch)
		}
		r = nd.do("PUT", sys+"cursor/"+r.str("id"), nil).must(t, http.StatusOK)
	}
}

func TestQueriesWithAndWithoutIndex(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 300)
	queries := []struct {
		q    string
		bind any
	}{
		{"SELECT _key, age FROM people WHERE age >= @min AND age < 40 ORDER BY age, _key", map[string]any{"min": 20}},
		{"SELECT * FROM people WHERE age = ? ORDER BY _key", []any{14}},
		{"SELECT _key FROM people WHERE info.city = 'Paris' AND age > 50", nil},
		{"SELECT _key FROM people p WHERE p.info.city IN ('Rome', 'Berlin') AND NOT (age < 30) ORDER BY _key DESC LIMIT 5 OFFSET 3", nil},
		{"SELECT info.city, COUNT(*) AS n, AVG(age) AS avg FROM people WHERE age > 10 GROUP BY info.city ORDER BY n DESC", nil},
		{"SELECT _key FROM people WHERE age IS NULL OR age = '120' ORDER BY _key", nil},
		{"SELECT _key, age FROM people WHERE age > 80 ORDER BY age DESC", nil},
		{"SELECT _key FROM people WHERE _key BETWEEN 'p0100' AND 'p0110'", nil},
	}
	before := make([][]string, len(queries))
	for i, q := range queries {
		rows, extra := queryAll(t, n, q.q, q.bind, 7)
		before[i] = rows
		if plan := extra["plan"].(map[string]any); plan["access"] == "index-range" {
			t.Fatalf("%s: index used before any exists: %v", q.q, plan)
		}
	}
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []any{"age"}, "name": "by_age"}).must(t, http.StatusCreated)
	r := n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []any{"info.city"}}).must(t, http.StatusCreated)
	if r.body["isNewlyCreated"] != true || r.str("name") != "idx_2" {
		t.Fatalf("create index: %s", r.raw)
	}
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []any{"age"}}).must(t, http.StatusOK)
	l := n.do("GET", sys+"index?collection=people", nil).must(t, http.StatusOK)
	if len(l.body["indexes"].([]any)) != 3 {
		t.Fatalf("indexes: %s", l.raw)
	}
	used := 0
	for i, q := range queries {
		rows, extra := queryAll(t, n, q.q, q.bind, 7)
		plan := extra["plan"].(map[string]any)
		if plan["access"] == "index-range" {
			used++
		}
		if len(before[i]) == 0 {
			t.Fatalf("%s: no rows: the comparison proves nothing", q.q)
		}
		if !slices.Equal(rows, before[i]) {
			t.Fatalf("%s (plan %v): rows differ with the index:\nwithout %v\nwith    %v", q.q, plan, before[i], rows)
		}
	}
	if used < 5 {
		t.Fatalf("only %d of the queries used an index", used)
	}
	// Writes after the index keep it in step.
	n.do("PATCH", sys+"document/people/p0001", map[string]any{"age": 1000}).must(t, http.StatusCreated)
	n.do("DELETE", sys+"document/people/p0002", nil).must(t, http.StatusOK)
	rows, _ := queryAll(t, n, "SELECT _key FROM people WHERE age >= 1000", nil, 10)
	if len(rows) != 1 || rows[0] != `{"_key":"p0001"}` {
		t.Fatalf("after updates: %v", rows)
	}
	rows, _ = queryAll(t, n, "SELECT _key FROM people WHERE age = 14", nil, 10)
	if slices.Contains(rows, `{"_key":"p0002"}`) {
		t.Fatal("a deleted document is still in the index")
	}
	e := n.do("POST", sys+"explain", map[string]any{"query": "SELECT * FROM people WHERE age > 3 ORDER BY age DESC"}).must(t, http.StatusOK)
	if p := e.body["plan"].(map[string]any); p["index"] != "by_age" || p["reverse"] != true || p["sortInMemory"] != false {
		t.Fatalf("explain: %s", e.raw)
	}
	n.do("DELETE", sys+"index/people/by_age", nil).must(t, http.StatusOK)
	e = n.do("POST", sys+"explain", map[string]any{"query": "SELECT * FROM people WHERE age > 3"}).must(t, http.StatusOK)
	if p := e.body["plan"].(map[string]any); p["access"] != "full-scan" {
		t.Fatalf("explain after drop: %s", e.raw)
	}
	n.do("DELETE", sys+"index/people/by_age", nil).mustError(t, http.StatusNotFound, 1212)
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []any{"age"}, "unique": true}).mustError(t, http.StatusBadRequest, 10)
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "geo", "fields": []any{"age"}}).mustError(t, http.StatusBadRequest, 10)
}

func TestCursorLifecycle(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 25)
	r := n.do("POST", sys+"cursor", map[string]any{"query": "SELECT _key FROM people", "batchSize": 10}).must(t, http.StatusCreated)
	id := r.str("id")
	if r.body["hasMore"] != true || id == "" || len(r.body["result"].([]any)) != 10 {
		t.Fatalf("first batch: %s", r.raw)
	}
	n.do("DELETE", sys+"cursor/"+id, nil).must(t, http.StatusAccepted)
	n.do("PUT", sys+"cursor/"+id, nil).mustError(t, http.StatusNotFound, 1600)

	// An idle cursor expires after its ttl.
	r = n.do("POST", sys+"cursor", map[string]any{"query": "SELECT _key FROM people", "batchSize": 10, "ttl": 5}).must(t, http.StatusCreated)
	n.clock.Advance(3 * time.Second)
	r = n.do("PUT", sys+"cursor/"+r.str("id"), nil).must(t, http.StatusOK) // extends it
	n.clock.Advance(6 * time.Second)
	n.do("PUT", sys+"cursor/"+r.str("id"), nil).mustError(t, http.StatusNotFound, 1600)

	// A cursor reads a snapshot: writes after the first batch do not show.
	r = n.do("POST", sys+"cursor", map[string]any{"query": "SELECT _key FROM people ORDER BY _key", "batchSize": 20}).must(t, http.StatusCreated)
	n.do("POST", sys+"document/people", map[string]any{"_key": "p9999"}).must(t, http.StatusCreated)
	r = n.do("PUT", sys+"cursor/"+r.str("id"), nil).must(t, http.StatusOK)
	if len(r.body["result"].([]any)) != 5 || r.body["hasMore"] != false {
		t.Fatalf("snapshot: %s", r.raw)
	}
	// Simple all (ArangoDB) lists through the same cursors.
	r = n.do("PUT", sys+"simple/all", map[string]any{"collection": "people", "batchSize": 4, "skip": 24}).must(t, http.StatusCreated)
	res := r.body["result"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["_key"] != "p0024" || res[1].(map[string]any)["_key"] != "p9999" || r.body["hasMore"] != false {
		t.Fatalf("simple/all: %s", r.raw)
	}
	// Another fabric cannot fetch a cursor it does not own.
	r = n.do("POST", sys+"cursor", map[string]any{"query": "SELECT _key FROM people", "batchSize": 1}).must(t, http.StatusCreated)
	n.do("POST", "/_fabric/other/_api/fabric", nil).must(t, http.StatusCreated)
	n.do("PUT", "/_fabric/other/_api/cursor/"+r.str("id"), nil).mustError(t, http.StatusNotFound, 1600)
}

func TestSavedQueries(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 40)
	rq := sys + "restql"
	n.do("POST", rq, map[string]any{"query": map[string]any{"name": "older", "value": "SELECT _key FROM people WHERE age > @min ORDER BY _key", "parameter": map[string]any{"min": 80}}}).must(t, http.StatusCreated)
	n.do("POST", rq, map[string]any{"query": map[string]any{"name": "older", "value": "SELECT * FROM people"}}).mustError(t, http.StatusConflict, 1207)
	n.do("POST", rq, map[string]any{"query": map[string]any{"name": "bad", "value": "SELEC"}}).mustError(t, http.StatusBadRequest, 1501)
	n.do("POST", rq, map[string]any{"query": map[string]any{"name": "stray", "value": "SELECT * FROM people", "parameter": map[string]any{"x": 1}}}).mustError(t, http.StatusBadRequest, 1552)
	l := n.do("GET", rq, nil).must(t, http.StatusOK)
	if res := l.body["result"].([]any); len(res) != 1 || res[0].(map[string]any)["name"] != "older" {
		t.Fatalf("list: %s", l.raw)
	}
	// Defaults apply; given values win; batches continue through fetch.
	r := n.do("POST", rq+"/execute/older", nil).must(t, http.StatusCreated)
	def := len(r.body["result"].([]any))
	r = n.do("POST", rq+"/execute/older", map[string]any{"bindVars": map[string]any{"min": 40}, "batchSize": 5}).must(t, http.StatusCreated)
	total := len(r.body["result"].([]any))
	for r.body["hasMore"] == true {
		r = n.do("PUT", rq+"/fetch/"+r.str("id"), nil).must(t, http.StatusOK)
		total += len(r.body["result"].([]any))
	}
	direct, _ := queryAll(t, n, "SELECT _key FROM people WHERE age > 40 ORDER BY _key", nil, 100)
	if total != len(direct) || total <= def || def == 0 {
		t.Fatalf("saved query rows %d (default %d), direct %d", total, def, len(direct))
	}
	n.do("PUT", rq+"/older", map[string]any{"query": map[string]any{"value": "SELECT COUNT(*) AS n FROM people"}}).must(t, http.StatusOK)
	r = n.do("POST", rq+"/execute/older", nil).must(t, http.StatusCreated)
	if jsonString(r.body["result"]) != `[{"n":40}]` {
		t.Fatalf("updated query: %s", r.raw)
	}
	n.do("PUT", rq+"/ghost", map[string]any{"query": map[string]any{"value": "SELECT * FROM people"}}).mustError(t, http.StatusNotFound, 404)
	n.do("DELETE", rq+"/older", nil).must(t, http.StatusOK)
	n.do("POST", rq+"/execute/older", nil).mustError(t, http.StatusNotFound, 404)
	n.do("DELETE", rq+"/older", nil).mustError(t, http.StatusNotFound, 404)
}
