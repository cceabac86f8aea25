package aql

import (
	"testing"
)

// TestExecutor runs one query per construct over the users and orders
// collections and compares the rows.
func TestExecutor(t *testing.T) {
	for _, tc := range []struct {
		name, q string
		params  map[string]any
		want    string
	}{
		{"full scan in key order", `FOR u IN users RETURN u._key`, nil, `["ann","bob","cat","dan","eve"]`},
		{"filter and sort", `FOR u IN users FILTER u.age >= 30 && IS_NUMBER(u.age) SORT u.age DESC RETURN u.name`, nil, `["Cat","Ann"]`},
		{"strings sort above numbers", `FOR u IN users FILTER u.age > 30 RETURN u._key`, nil, `["ann","cat","eve"]`},
		{"missing is null, null is below numbers", `FOR u IN users FILTER u.age < 26 RETURN u._key`, nil, `["bob","dan"]`},
		{"sort asc then desc", `FOR u IN users SORT u.city ASC, u.name DESC RETURN u.name`, nil, `["Eve","Bob","Dan","Cat","Ann"]`},
		{"limit count", `FOR u IN users LIMIT 2 RETURN u._key`, nil, `["ann","bob"]`},
		{"limit offset, count", `FOR u IN users SORT u._key LIMIT 1, 2 RETURN u._key`, nil, `["bob","cat"]`},
		{"limit with bind", `FOR u IN users LIMIT @o, @n RETURN u._key`, map[string]any{"o": 3, "n": 5}, `["dan","eve"]`},
		{"let", `FOR u IN users LET n = LENGTH(u.tags) FILTER n > 0 RETURN {k: u._key, n}`, nil, `[{"k":"ann","n":2},{"k":"bob","n":1}]`},
		{"return object and nested attribute", `FOR u IN users FILTER u._key == "ann" RETURN {name: u.name, zip: u.address.zip, z2: u["address"]["zip"], t0: u.tags[0], tl: u.tags[-1]}`, nil, `[{"name":"Ann","t0":"a","tl":"b","z2":"75001","zip":"75001"}]`},
		{"return distinct", `FOR u IN users RETURN DISTINCT u.city`, nil, `["Paris","Lyon","Nice"]`},
		{"collect with count", `FOR u IN users COLLECT city = u.city WITH COUNT INTO n RETURN {city, n}`, nil, `[{"city":"Lyon","n":2},{"city":"Nice","n":1},{"city":"Paris","n":2}]`},
		{"collect aggregate", `FOR o IN orders COLLECT user = o.user AGGREGATE total = SUM(o.total), n = LENGTH(1), hi = MAX(o.total) RETURN [user, total, n, hi]`, nil, `[["ann",15,2,10],["bob",7,1,7],["zed",1,1,1]]`},
		{"collect into projection", `FOR o IN orders COLLECT user = o.user INTO totals = o.total RETURN {user, totals}`, nil, `[{"totals":[10,5],"user":"ann"},{"totals":[7],"user":"bob"},{"totals":[1],"user":"zed"}]`},
		{"collect into variables", `FOR o IN orders FILTER o.user == "bob" COLLECT user = o.user INTO g RETURN g[*].o._key`, nil, `[["o3"]]`},
		{"collect with count only", `FOR u IN users COLLECT WITH COUNT INTO n RETURN n`, nil, `[5]`},
		{"collect count of nothing", `FOR u IN empty COLLECT WITH COUNT INTO n RETURN n`, nil, `[0]`},
		{"collect aggregate without groups", `FOR o IN orders COLLECT AGGREGATE s = SUM(o.total), a = AVG(o.total) RETURN [s, a]`, nil, `[[23,5.75]]`},
		{"subquery", `FOR u IN users FILTER u._key IN ["ann","bob"] LET spent = SUM((FOR o IN orders FILTER o.user == u._key RETURN o.total)) RETURN {k: u._key, spent}`, nil, `[{"k":"ann","spent":15},{"k":"bob","spent":7}]`},
		{"join on key", `FOR o IN orders FOR u IN users FILTER u._key == o.user SORT o._key RETURN [o._key, u.name]`, nil, `[["o1","Ann"],["o2","Ann"],["o3","Bob"]]`},
		{"array loop", `FOR x IN [3, 1, 2] SORT x RETURN x`, nil, `[1,2,3]`},
		{"attribute array loop", `FOR u IN users FOR t IN u.tags RETURN CONCAT(u._key, ":", t)`, nil, `["ann:a","ann:b","bob:b"]`},
		{"range and arithmetic", `FOR x IN 1..5 FILTER x % 2 == 1 RETURN x * 10 / 4`, nil, `[2.5,7.5,12.5]`},
		{"bind collection", `FOR d IN @@c FILTER d.total > @min RETURN d._key`, map[string]any{"@c": "orders", "min": 6}, `["o1","o3"]`},
		{"in and not in", `FOR x IN 1..6 FILTER x IN [1,2,3,4] AND x NOT IN [2] RETURN x`, nil, `[1,3,4]`},
		{"like and regex", `FOR u IN users FILTER u.name LIKE "_a%" OR u.name =~ "^E" RETURN u._key`, nil, `["cat","dan","eve"]`},
		{"not like", `FOR u IN users FILTER u.name NOT LIKE "%a%" RETURN u._key`, nil, `["ann","bob","eve"]`},
		{"ternary and logic values", `RETURN [1 ? "y" : "n", 0 ?: "d", null || "x", 1 && 2, !0, NOT 1]`, nil, `[["y","d","x",2,true,false]]`},
		{"division by zero is null", `RETURN [1 / 0, 5 % 0]`, nil, `[[null,null]]`},
		{"expansion", `RETURN [{a: 1}, {a: 2}][*].a`, nil, `[[1,2]]`},
		{"object shorthand and computed names", `LET a = 1 LET k = "z" RETURN {a, [k]: 2, "q r": 3}`, nil, `[{"a":1,"q r":3,"z":2}]`},
		{"collection as value", `RETURN LENGTH(orders)`, nil, `[4]`},
		{"document function", `RETURN [DOCUMENT("users/bob").name, DOCUMENT(users, "cat").age, LENGTH(DOCUMENT(users, ["ann", "nobody"]))]`, nil, `[["Bob",40,1]]`},
		{"comparison operators", `RETURN [1 == 1.0, "1" == 1, null < false, [1] < [1, 0], {a: 1} == {a: 1}, 2 != 3]`, nil, `[[true,false,true,true,true,true]]`},
		{"string functions", `RETURN [LOWER("AbC"), UPPER("a"), SUBSTRING("hello", 1, 3), CONTAINS("hello", "ll"), LIKE("Abc", "a%", true), SPLIT("a,b", ","), TRIM("  x "), CONCAT_SEPARATOR("-", "a", null, 1), TO_STRING(12)]`, nil, `[["abc","A","ell",true,true,["a","b"],"x","a-1","12"]]`},
		{"number functions", `RETURN [ABS(-2), FLOOR(2.7), CEIL(2.1), ROUND(2.5), SQRT(9), POW(2, 10), TO_NUMBER("4.5"), TO_NUMBER("x"), TO_BOOL(""), SUM([1, 2, null]), AVG([1, 2]), MIN([3, null, 1]), MAX([3, 9])]`, nil, `[[2,2,3,3,3,1024,4.5,0,false,3,1.5,1,9]]`},
		{"type functions", `RETURN [IS_NULL(null), IS_STRING("a"), IS_NUMBER(1), IS_ARRAY([]), IS_OBJECT({}), TYPENAME(1), TYPENAME("a"), TYPENAME(null), NOT_NULL(null, 2), FIRST_DOCUMENT(1, {a: 1}).a]`, nil, `[[true,true,true,true,true,"number","string","null",2,1]]`},
		{"array functions", `RETURN [LENGTH([1, 2]), COUNT([1]), FIRST([1, 2]), LAST([1, 2]), NTH([1, 2], 1), PUSH([1], 2), APPEND([1], [2, 3]), UNIQUE([1, 1, 2]), SORTED([3, 1, 2]), FLATTEN([1, [2, [3]]]), FLATTEN([1, [2, [3]]], 2), SORTED_UNIQUE([2, 1, 2])]`, nil, `[[2,1,1,2,2,[1,2],[1,2,3],[1,2],[1,2,3],[1,2,[3]],[1,2,3],[1,2]]]`},
		{"object functions", `RETURN [MERGE({a: 1}, {b: 2}), KEEP({a: 1, b: 2}, "a"), UNSET({a: 1, b: 2}, "a"), HAS({a: null}, "a"), ATTRIBUTES({b: 1, a: 2}), VALUES({b: 1, a: 2}), ZIP(["x", "y"], [1, 2])]`, nil, `[[{"a":1,"b":2},{"a":1},{"b":2},true,["a","b"],[2,1],{"x":1,"y":2}]]`},
		{"date functions", `RETURN [DATE_NOW(), DATE_ISO8601(0), DATE_TIMESTAMP("1970-01-02T00:00:00Z"), DATE_ISO8601(2024, 2, 29)]`, nil, `[[1700000000000,"1970-01-01T00:00:00.000Z",86400000,"2024-02-29T00:00:00.000Z"]]`},
		{"sorted whole documents and sub-objects are kept intact", `FOR u IN users FILTER u.age != null LET a = u.address SORT u.name DESC RETURN [u._key, u.name, a, u.tags[0]]`, nil, `[["eve","Eve",null,null],["cat","Cat",null,null],["bob","Bob",null,"b"],["ann","Ann",{"zip":"75001"},"a"]]`},
		{"sorted documents returned whole", `FOR u IN users SORT u._key DESC LIMIT 2 RETURN u`, nil, `[{"_id":"users/eve","_key":"eve","_rev":"r1","age":"x","city":"Lyon","name":"Eve"},{"_id":"users/dan","_key":"dan","_rev":"r1","city":"Nice","name":"Dan"}]`},
		{"nested loops over one collection", `FOR a IN orders FOR b IN orders FILTER a.user == b.user && a._key < b._key RETURN [a._key, b._key]`, nil, `[["o1","o2"]]`},
		{"sort with limit keeps the top rows", `FOR x IN 1..5000 SORT x DESC LIMIT 2, 3 RETURN x`, nil, `[4998,4997,4996]`},
		{"sort is stable, also when cut", `FOR x IN 1..3000 SORT x % 2 LIMIT 3 RETURN x`, nil, `[2,4,6]`},
		{"keywords are case-insensitive", `for u in users filter u.age == 25 return u._key`, nil, `["bob"]`},
		{"comments", "FOR u IN users /* all */ FILTER u._key == 'dan' // one\n RETURN u.city", nil, `["Nice"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, usersStore(), tc.q, tc.params)
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			if canon(t, got) != canon(t, tc.want) {
				t.Fatalf("%s\n got %s\nwant %s", tc.q, got, tc.want)
			}
		})
	}
}

// TestWrites runs each data modification and checks the rows, the intents
// the writer received and the collection after.
func TestWrites(t *testing.T) {
	for _, tc := range []struct {
		name, q string
		want    string // rows
		after   string // FOR d IN orders SORT d._key RETURN [d._key, d.total, d.note]
	}{
		{"insert returns NEW", `INSERT {_key: "o9", total: 3} INTO orders RETURN NEW.total`, `[3]`,
			`[["o1",10,null],["o2",5,null],["o3",7,null],["o4",1,null],["o9",3,null]]`},
		{"insert from a loop", `FOR i IN 1..2 INSERT {_key: CONCAT("n", i), total: i} INTO orders`, `[]`,
			`[["n1",1,null],["n2",2,null],["o1",10,null],["o2",5,null],["o3",7,null],["o4",1,null]]`},
		{"update with", `FOR o IN orders FILTER o.user == "ann" UPDATE o WITH {note: "x"} IN orders RETURN [OLD.note, NEW.note]`, `[[null,"x"],[null,"x"]]`,
			`[["o1",10,"x"],["o2",5,"x"],["o3",7,null],["o4",1,null]]`},
		{"update by key", `UPDATE "o3" WITH {total: 70} IN orders RETURN NEW.total`, `[70]`,
			`[["o1",10,null],["o2",5,null],["o3",70,null],["o4",1,null]]`},
		{"replace", `REPLACE {_key: "o4"} WITH {total: 2} IN orders RETURN NEW`, `[{"_id":"orders/o4","_key":"o4","_rev":"r2","total":2}]`,
			`[["o1",10,null],["o2",5,null],["o3",7,null],["o4",2,null]]`},
		{"remove returns OLD", `FOR o IN orders FILTER o.total < 6 REMOVE o IN orders RETURN OLD._key`, `["o2","o4"]`,
			`[["o1",10,null],["o3",7,null]]`},
		{"upsert updates the match", `UPSERT {user: "bob"} INSERT {user: "bob", total: 0} UPDATE {total: OLD.total + 1} IN orders RETURN NEW.total`, `[8]`,
			`[["o1",10,null],["o2",5,null],["o3",8,null],["o4",1,null]]`},
		{"upsert inserts, then finds what it inserted", `FOR i IN 1..2 UPSERT {_key: "u1"} INSERT {_key: "u1", total: 1} UPDATE {total: OLD.total + 1} IN orders RETURN NEW.total`, `[1,2]`,
			`[["o1",10,null],["o2",5,null],["o3",7,null],["o4",1,null],["u1",2,null]]`},
		{"ignoreErrors skips a refused insert", `FOR k IN ["o1", "z"] INSERT {_key: k, total: 0} INTO orders OPTIONS {ignoreErrors: true} RETURN NEW._key`, `["z"]`,
			`[["o1",10,null],["o2",5,null],["o3",7,null],["o4",1,null],["z",0,null]]`},
		{"overwriteMode update", `INSERT {_key: "o1", note: "n"} INTO orders OPTIONS {overwriteMode: "update"} RETURN NEW`, `[{"_id":"orders/o1","_key":"o1","_rev":"r2","note":"n","total":10,"user":"ann"}]`,
			`[["o1",10,"n"],["o2",5,null],["o3",7,null],["o4",1,null]]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := usersStore()
			got, err := run(t, m, tc.q, nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			if canon(t, got) != canon(t, tc.want) {
				t.Fatalf("%s\n got %s\nwant %s", tc.q, got, tc.want)
			}
			after, err := run(t, m, `FOR d IN orders SORT d._key RETURN [d._key, d.total, d.note]`, nil)
			if err != nil {
				t.Fatal(err)
			}
			if canon(t, after) != canon(t, tc.after) {
				t.Fatalf("after %s\n got %s\nwant %s", tc.q, after, tc.after)
			}
		})
	}
}

// TestWriteOptionsReachIntents checks keepNull and mergeObjects go to the
// writer, and a refused write without ignoreErrors fails the query.
func TestWriteOptionsReachIntents(t *testing.T) {
	m := usersStore()
	if _, err := run(t, m, `UPDATE "o1" WITH {note: null} IN orders OPTIONS {keepNull: false, mergeObjects: false}`, nil); err != nil {
		t.Fatal(err)
	}
	in := m.intents[len(m.intents)-1]
	if in.Kind != WriteUpdate || in.Key != "o1" || in.KeepNull || in.MergeObjects {
		t.Fatalf("intent %+v", in)
	}
	if _, err := run(t, m, `INSERT {_key: "o1"} INTO orders`, nil); err == nil {
		t.Fatal("insert of an existing key without ignoreErrors succeeded")
	}
}
