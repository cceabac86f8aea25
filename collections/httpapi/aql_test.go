package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// canonRows re-encodes rows so that documents compare by value.
func canonRows(t *testing.T, rows []string) []string {
	t.Helper()
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = canonJSON(t, r)
	}
	return out
}

// TestAQLAndSQLAnswerAlike asks the same questions in SQL and in AQL, with
// and without indexes, over cursors of several batches: the rows are the
// same.
func TestAQLAndSQLAnswerAlike(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 300)
	pairs := []struct{ sql, aql string }{
		{"SELECT * FROM people WHERE age >= 30 AND age < 40 ORDER BY _key",
			"FOR p IN people FILTER IS_NUMBER(p.age) && p.age >= 30 && p.age < 40 SORT p._key RETURN p"},
		{"SELECT * FROM people WHERE info.city = 'Paris' ORDER BY _key",
			"FOR p IN people FILTER p.info.city == 'Paris' SORT p._key RETURN p"},
		{"SELECT _key, age FROM people WHERE age IN (7, 14, 21) ORDER BY _key",
			"FOR p IN people FILTER p.age IN [7, 14, 21] SORT p._key RETURN {_key: p._key, age: p.age}"},
		{"SELECT info.city AS city, COUNT(*) AS n FROM people GROUP BY info.city ORDER BY city",
			"FOR p IN people COLLECT city = p.info.city WITH COUNT INTO n SORT city RETURN {city, n}"},
		{"SELECT * FROM people WHERE _key >= 'p0100' AND _key < 'p0110' ORDER BY _key DESC",
			"FOR p IN people FILTER p._key >= 'p0100' && p._key < 'p0110' SORT p._key DESC RETURN p"},
		{"SELECT COUNT(*) AS n, SUM(age) AS s, MIN(age) AS lo, MAX(age) AS hi FROM people WHERE age > 50",
			"FOR p IN people FILTER IS_NUMBER(p.age) && p.age > 50 COLLECT AGGREGATE n = LENGTH(1), s = SUM(p.age), lo = MIN(p.age), hi = MAX(p.age) RETURN {n, s, lo, hi}"},
		{"SELECT * FROM people ORDER BY age DESC, _key LIMIT 5, 10",
			"FOR p IN people SORT p.age DESC, p._key LIMIT 5, 10 RETURN p"},
		{"SELECT _key FROM people WHERE age IS NULL ORDER BY _key",
			"FOR p IN people FILTER p.age == null SORT p._key RETURN {_key: p._key}"},
	}
	check := func(stage string) {
		for _, pr := range pairs {
			sqlRows, _ := queryAll(t, n, pr.sql, nil, 7)
			aqlRows, _ := queryAll(t, n, pr.aql, nil, 7)
			if len(sqlRows) == 0 {
				t.Fatalf("%s: %s answers nothing: a test that cannot fail", stage, pr.sql)
			}
			if !slices.Equal(canonRows(t, sqlRows), canonRows(t, aqlRows)) {
				t.Errorf("%s:\n%s: %d rows %v\n%s: %d rows %v", stage, pr.sql, len(sqlRows), sqlRows, pr.aql, len(aqlRows), aqlRows)
			}
		}
	}
	check("no index")
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []string{"age"}, "name": "by_age"}).must(t, http.StatusCreated)
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []string{"info.city"}, "name": "by_city"}).must(t, http.StatusCreated)
	check("indexes on age and info.city")
}

// TestAQLExplainShowsIndex: /_api/explain names the index AQL reads, as
// for SQL.
func TestAQLExplainShowsIndex(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 20)
	explain := func(q string, bind any) string {
		body := map[string]any{"query": q}
		if bind != nil {
			body["bindVars"] = bind
		}
		return string(n.do("POST", sys+"explain", body).must(t, http.StatusOK).raw)
	}
	q := "FOR p IN people FILTER p.age == @a RETURN p"
	if got := explain(q, map[string]any{"a": 14}); !strings.Contains(got, `"type":"EnumerateCollectionNode"`) || !strings.Contains(got, `"access":"full-scan"`) {
		t.Fatalf("without index: %s", got)
	}
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []string{"age"}, "name": "by_age"}).must(t, http.StatusCreated)
	got := explain(q, map[string]any{"a": 14})
	if !strings.Contains(got, `"type":"IndexNode"`) || !strings.Contains(got, `"index":"by_age"`) || !strings.Contains(got, `"access":"index-range"`) {
		t.Fatalf("with index: %s", got)
	}
	if got := explain("FOR p IN people FILTER p._key == 'p0003' RETURN p", nil); !strings.Contains(got, `"access":"primary-key-range"`) {
		t.Fatalf("key: %s", got)
	}
	// SQL's explain is unchanged.
	if got := explain("SELECT * FROM people WHERE age = 14", nil); !strings.Contains(got, `"index":"by_age"`) {
		t.Fatalf("SQL: %s", got)
	}
}

// TestAQLCursorFeatures: count, fullCount, batchSize, nextBatchId and the
// retry of the last batch.
func TestAQLCursorFeatures(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 50)
	r := n.do("POST", sys+"cursor", map[string]any{
		"query": "FOR p IN people SORT p._key LIMIT 2, 10 RETURN p._key", "batchSize": 4,
		"count": true, "options": map[string]any{"fullCount": true, "stream": false},
	}).must(t, http.StatusCreated)
	if num(r.body["count"]) != 10 {
		t.Fatalf("count: %s", r.raw)
	}
	stats := r.body["extra"].(map[string]any)["stats"].(map[string]any)
	if num(stats["fullCount"]) != 50 {
		t.Fatalf("fullCount: %s", r.raw)
	}
	if r.str("nextBatchId") != "2" || r.body["hasMore"] != true {
		t.Fatalf("first batch: %s", r.raw)
	}
	first := jsonString(r.body["result"])
	if first != `["p0002","p0003","p0004","p0005"]` {
		t.Fatalf("first batch rows %s", first)
	}
	id := r.str("id")
	b2 := n.do("POST", sys+"cursor/"+id+"/2", nil).must(t, http.StatusOK)
	if jsonString(b2.body["result"]) != `["p0006","p0007","p0008","p0009"]` || b2.str("nextBatchId") != "3" {
		t.Fatalf("batch 2: %s", b2.raw)
	}
	// The answer was lost: ask for batch 2 again.
	again := n.do("POST", sys+"cursor/"+id+"/2", nil).must(t, http.StatusOK)
	if jsonString(again.body["result"]) != jsonString(b2.body["result"]) {
		t.Fatalf("retry of batch 2: %s", again.raw)
	}
	n.do("POST", sys+"cursor/"+id+"/5", nil).mustError(t, http.StatusBadRequest, 10)
	b3 := n.do("PUT", sys+"cursor/"+id, nil).must(t, http.StatusOK)
	if jsonString(b3.body["result"]) != `["p0010","p0011"]` || b3.body["hasMore"] != false || b3.str("nextBatchId") != "" {
		t.Fatalf("batch 3: %s", b3.raw)
	}
	n.do("PUT", sys+"cursor/"+id, nil).mustError(t, http.StatusNotFound, 1600)
	// count for SQL too; fullCount is AQL's.
	r = n.do("POST", sys+"cursor", map[string]any{"query": "SELECT _key FROM people WHERE age > 80", "count": true}).must(t, http.StatusCreated)
	if num(r.body["count"]) != len(r.body["result"].([]any)) || num(r.body["count"]) == 0 {
		t.Fatalf("SQL count: %s", r.raw)
	}
	n.do("POST", sys+"cursor", map[string]any{"query": "SELECT * FROM people", "options": map[string]any{"fullCount": true}}).mustError(t, http.StatusBadRequest, 10)
	n.do("POST", sys+"cursor", map[string]any{"query": "RETURN 1", "options": map[string]any{"bogus": true}}).mustError(t, http.StatusBadRequest, 10)
	// A long AQL cursor in small batches reads every row once.
	rows, _ := queryAll(t, n, "FOR p IN people RETURN p._key", nil, 3)
	if len(rows) != 50 {
		t.Fatalf("%d rows through the cursor, want 50", len(rows))
	}
}

// TestAQLWritesThroughDocumentAPI: AQL writes are ordinary writes: the
// document API, the count and the change feed's _rev see them.
func TestAQLWritesThroughDocumentAPI(t *testing.T) {
	n := startNode(t)
	n.createCollection("items", nil)
	r := n.do("POST", sys+"cursor", map[string]any{
		"query": "FOR i IN 1..25 INSERT {_key: CONCAT('i', i), n: i, even: i % 2 == 0} INTO items RETURN NEW._rev", "batchSize": 10,
	}).must(t, http.StatusCreated)
	if r.body["hasMore"] != true || len(r.body["result"].([]any)) != 10 {
		t.Fatalf("insert answer: %s", r.raw)
	}
	if c := n.count("items"); c != 25 {
		t.Fatalf("count after insert: %d", c)
	}
	d := n.do("GET", sys+"document/items/i7", nil).must(t, http.StatusOK)
	if num(d.body["n"]) != 7 || d.body["even"] != false {
		t.Fatalf("i7: %s", d.raw)
	}
	n.do("POST", sys+"cursor", map[string]any{
		"query": "FOR d IN items FILTER d.even UPDATE d WITH {n: d.n * 100, tag: 'x'} IN items OPTIONS {keepNull: false}",
	}).must(t, http.StatusCreated)
	d = n.do("GET", sys+"document/items/i8", nil).must(t, http.StatusOK)
	if num(d.body["n"]) != 800 || d.body["tag"] != "x" {
		t.Fatalf("i8 after update: %s", d.raw)
	}
	rev := d.str("_rev")
	// {"$inc": n} is the write path's increment (a CRDT counter), as in PATCH.
	n.do("POST", sys+"cursor", map[string]any{"query": "UPDATE 'i2' WITH {n: {'$inc': 5}} IN items"}).must(t, http.StatusCreated)
	if d2 := n.do("GET", sys+"document/items/i2", nil).must(t, http.StatusOK); num(d2.body["n"]) != 205 {
		t.Fatalf("i2 after $inc: %s", d2.raw)
	}
	// UPSERT, REPLACE and REMOVE.
	n.do("POST", sys+"cursor", map[string]any{
		"query": "UPSERT {_key: 'i8'} INSERT {_key: 'i8'} UPDATE {visits: (OLD.visits || 0) + 1} IN items RETURN NEW",
	}).must(t, http.StatusCreated)
	d = n.do("GET", sys+"document/items/i8", nil).must(t, http.StatusOK)
	if num(d.body["visits"]) != 1 || d.str("_rev") == rev {
		t.Fatalf("i8 after upsert: %s", d.raw)
	}
	n.do("POST", sys+"cursor", map[string]any{"query": "REPLACE 'i1' WITH {only: true} IN items"}).must(t, http.StatusCreated)
	d = n.do("GET", sys+"document/items/i1", nil).must(t, http.StatusOK)
	if d.body["only"] != true || d.body["n"] != nil {
		t.Fatalf("i1 after replace: %s", d.raw)
	}
	r = n.do("POST", sys+"cursor", map[string]any{"query": "FOR d IN items FILTER d.n > 2000 REMOVE d IN items RETURN OLD._key", "count": true}).must(t, http.StatusCreated)
	// Only the updated even documents passed 2000: i22 and i24.
	if num(r.body["count"]) != 2 || jsonString(r.body["result"]) != `["i22","i24"]` {
		t.Fatalf("remove: %s", r.raw)
	}
	if c := n.count("items"); c != 23 {
		t.Fatalf("count after removing 2: %d", c)
	}
	// A refused write (insert of an existing key) fails the query and
	// writes nothing of its chunk.
	n.do("POST", sys+"cursor", map[string]any{"query": "FOR k IN ['new1', 'i3'] INSERT {_key: k} INTO items"}).mustError(t, http.StatusConflict, 1210)
	n.do("GET", sys+"document/items/new1", nil).must(t, http.StatusNotFound)
	// With ignoreErrors the valid one is written.
	n.do("POST", sys+"cursor", map[string]any{"query": "FOR k IN ['new1', 'i3'] INSERT {_key: k} INTO items OPTIONS {ignoreErrors: true}"}).must(t, http.StatusCreated)
	n.do("GET", sys+"document/items/new1", nil).must(t, http.StatusOK)
}

// TestAQLBadInput: errors in ArangoDB's shape; nothing is written.
func TestAQLBadInput(t *testing.T) {
	n := startNode(t)
	n.createCollection("items", nil)
	for _, tc := range []struct {
		body          map[string]any
		status, errNo int
		msg           string
	}{
		{map[string]any{"query": "FOR d IN items FILTER RETURN d"}, 400, 1501, "at position 1:"},
		{map[string]any{"query": "FOR d IN items RETURN NOPE(d)"}, 400, 1540, "NOPE"},
		{map[string]any{"query": "FOR d IN nosuch RETURN d"}, 404, 1203, "nosuch"},
		{map[string]any{"query": "INSERT {a: 1} INTO nosuch"}, 404, 1203, "nosuch"},
		{map[string]any{"query": "FOR d IN items FILTER d.a == @a RETURN d"}, 400, 1551, "'a'"},
		{map[string]any{"query": "RETURN 1", "bindVars": map[string]any{"x": 1}}, 400, 1552, "'x'"},
		{map[string]any{"query": "FOR d IN @@c RETURN d", "bindVars": map[string]any{"@c": 1}}, 400, 1553, "@c"},
		{map[string]any{"query": "INSERT 'x' INTO items"}, 400, 1227, "object"},
		{map[string]any{"query": "INSERT {_key: 'a b/'} INTO items"}, 400, 1221, ""},
		{map[string]any{"query": "INSERT {} INTO items OPTIONS {waitForSync: true, bogus: 1}"}, 400, 10, "bogus"},
		{map[string]any{"query": "FOR v IN 1..2 OUTBOUND 'items/a' GRAPH 'g' RETURN v"}, 501, 9, "graph"},
		{map[string]any{"query": "FOR d IN items RETURN d", "bindVars": []any{1}}, 400, 10, "object"},
		{map[string]any{"query": "INSERT {} INTO items RETURN NEW", "count": "yes"}, 400, 10, "count"},
	} {
		r := n.do("POST", sys+"cursor", tc.body).mustError(t, tc.status, tc.errNo)
		if !strings.Contains(r.str("errorMessage"), tc.msg) {
			t.Errorf("%v: message %q lacks %q", tc.body, r.str("errorMessage"), tc.msg)
		}
	}
	if c := n.count("items"); c != 0 {
		t.Fatalf("bad queries wrote %d documents", c)
	}
}

// canonJSON re-encodes a JSON text with numbers as float64 and sorted
// object names.
func canonJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return fmt.Sprint(jsonString(v))
}

// TestSavedAQLQuery: a restql saved query may be AQL (Macrometa's C8QL);
// its stored parameters are defaults and it runs through a cursor.
func TestSavedAQLQuery(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 40)
	n.do("POST", sys+"restql", map[string]any{"query": map[string]any{
		"name": "adults", "value": "FOR p IN people FILTER IS_NUMBER(p.age) && p.age >= @min SORT p._key RETURN p._key",
		"parameter": map[string]any{"min": 80},
	}}).must(t, http.StatusCreated)
	r := n.do("POST", sys+"restql/execute/adults", map[string]any{"batchSize": 2}).must(t, http.StatusCreated)
	sqlRows, _ := queryAll(t, n, "SELECT _key FROM people WHERE age >= 80 ORDER BY _key", nil, 100)
	var got []string
	for {
		for _, row := range r.body["result"].([]any) {
			got = append(got, jsonString(map[string]any{"_key": row}))
		}
		if r.body["hasMore"] != true {
			break
		}
		r = n.do("PUT", sys+"restql/fetch/"+r.str("id"), nil).must(t, http.StatusOK)
	}
	if len(sqlRows) < 3 || !slices.Equal(got, sqlRows) {
		t.Fatalf("saved AQL answered %v, SQL %v", got, sqlRows)
	}
	r = n.do("POST", sys+"restql/execute/adults", map[string]any{"bindVars": map[string]any{"min": 1000}}).must(t, http.StatusCreated)
	if len(r.body["result"].([]any)) != 0 {
		t.Fatalf("with min 1000: %s", r.raw)
	}
	// A saved AQL query is checked when saved: syntax and parameters.
	n.do("POST", sys+"restql", map[string]any{"query": map[string]any{"name": "bad", "value": "FOR p IN people RETURN"}}).mustError(t, http.StatusBadRequest, 1501)
	n.do("POST", sys+"restql", map[string]any{"query": map[string]any{"name": "bad", "value": "FOR p IN people RETURN p", "parameter": map[string]any{"x": 1}}}).mustError(t, http.StatusBadRequest, 1552)
}
