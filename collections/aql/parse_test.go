package aql

import (
	"strings"
	"testing"

	"github.com/causeway/causeway/collections/query"
)

// TestParseErrors checks each bad query fails with ArangoDB's number.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		q       string
		num     int
		status  int
		message string
	}{
		{"", NumQueryEmpty, 400, "empty"},
		{"FOR u IN", NumQueryParse, 400, "at position 1:9"},
		{"FOR u IN users", NumQueryParse, 400, "must end with RETURN"},
		{"RETURN 1 +", NumQueryParse, 400, "unexpected end of query string"},
		{"FOR u IN users FILTER u.a == RETURN u", NumQueryParse, 400, "at position 1:"},
		{"FOR u IN users RETURN u\nFILTER u", NumQueryParse, 400, "position 2:1"},
		{"RETURN 1 RETURN 2", NumQueryParse, 400, "after RETURN"},
		{"RETURN 'abc", NumQueryParse, 400, "syntax error"},
		{"RETURN NOSUCH(1)", NumFunctionUnknown, 400, "usage of unknown function 'NOSUCH()'"},
		{"RETURN LENGTH(1, 2)", NumFunctionArgCount, 400, "LENGTH"},
		{"LET a = 1 LET a = 2 RETURN a", NumVariableRedeclared, 400, "'a'"},
		{"FOR v, e IN 1..2 OUTBOUND 'a/b' GRAPH 'g' RETURN v", NumNotImplemented, 501, "graph traversals"},
		{"FOR d IN view SEARCH d.a == 1 RETURN d", NumNotImplemented, 501, "search views"},
		{"RETURN SLEEP(1)", NumNotImplemented, 501, "SLEEP"},
		{"RETURN OLD", NumVariableUnknown, 400, "OLD"},
		{"INSERT {} INTO users FOR u IN users RETURN u", NumAccessAfterModify, 400, "access after data-modification"},
		{"FOR u IN users COLLECT AGGREGATE s = 1 + 1 RETURN s", NumQueryParse, 400, "aggregate"},
		{"RETURN 1e999", NumNumberOutOfRange, 400, "out of range"},
		{"RETURN 'a' =~ '('", NumInvalidRegex, 400, "regular expression"},
		{"FOR u IN `bad name!` RETURN u", NumCollectionNotFound, 400, "bad name!"},
		{strings.Repeat("RETURN ", 1) + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), NumResourceLimit, 400, "deep"},
	} {
		_, err := Parse(tc.q)
		status, num, ok := Codes(err)
		if !ok || num != tc.num || status != tc.status || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("Parse(%q) = %v (status %d, errorNum %d), want %d/%d containing %q", tc.q, err, status, num, tc.status, tc.num, tc.message)
		}
	}
}

// TestBindErrors checks parameters: missing 1551, undeclared 1552, a
// collection parameter that is not a name 1553, an unknown collection
// the Source's error.
func TestBindErrors(t *testing.T) {
	m := usersStore()
	for _, tc := range []struct {
		q      string
		params map[string]any
		num    int
	}{
		{"RETURN @a", nil, NumBindMissing},
		{"RETURN 1", map[string]any{"a": 1}, NumBindUndeclared},
		{"FOR d IN @@c RETURN d", map[string]any{"@c": 5}, NumBindType},
		{"FOR d IN @@c RETURN d", map[string]any{"c": "users"}, NumBindMissing},
		{"FOR u IN users LIMIT @n RETURN u", map[string]any{"n": -1}, NumNumberOutOfRange},
		{"FOR x IN 5 RETURN x", nil, NumArrayExpected},
		{"INSERT 5 INTO users", nil, NumDocumentTypeBad},
		{"REMOVE 5 IN users", nil, NumDocumentHandleBad},
		{"INSERT {} INTO users OPTIONS {bogus: true}", nil, NumBadParameter},
		{"INSERT {} INTO users OPTIONS {keepNull: 1}", nil, NumBadParameter},
		{"RETURN FAIL('no')", nil, 1569},
	} {
		_, err := run(t, m, tc.q, tc.params)
		_, num, ok := Codes(err)
		if !ok || num != tc.num {
			t.Errorf("%s %v: %v, want errorNum %d", tc.q, tc.params, err, tc.num)
		}
	}
	if _, err := run(t, m, "FOR d IN nosuch RETURN d", nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown collection: %v", err)
	}
	// A name that is no variable is a collection, as in ArangoDB (COLLECT
	// hides the variables before it).
	for _, q := range []string{"RETURN x", "FOR u IN users COLLECT c = u.city RETURN u"} {
		if _, err := run(t, m, q, nil); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("%s: %v, want collection not found", q, err)
		}
	}
	if len(m.intents) != 0 {
		t.Errorf("bad queries wrote %d intents", len(m.intents))
	}
}

// TestAccessPaths checks FILTER terms reach the planner: _key ranges,
// index ranges (only with a lower bound), joins per outer row, and that
// rows are the same with and without the index.
func TestAccessPaths(t *testing.T) {
	for _, tc := range []struct {
		q      string
		access string // Kind of the first scan of users
		index  bool
	}{
		{`FOR u IN users FILTER u._key == "bob" RETURN u`, "primary-key-range", false},
		{`FOR u IN users FILTER u._key >= "b" && u._key < "d" RETURN u`, "primary-key-range", false},
		{`FOR u IN users FILTER u.age == 31 RETURN u`, "index-range", true},
		{`FOR u IN users FILTER 30 < u.age RETURN u`, "index-range", true},
		{`FOR u IN users FILTER u.age < 30 RETURN u`, "full-scan", true},
		{`FOR u IN users FILTER u.age == null RETURN u`, "full-scan", true},
		{`FOR u IN users FILTER u.age == 31 || u.age == 25 RETURN u`, "full-scan", true},
		{`FOR u IN users LET a = u.age FILTER a == 31 RETURN u`, "full-scan", true},
		{`FOR u IN users LIMIT 10 FILTER u.age == 31 RETURN u`, "full-scan", true},
		{`FOR o IN orders FOR u IN users FILTER u._key == o.user RETURN u`, "primary-key-range", false},
		{`FOR u IN users FILTER u.age == @a RETURN u`, "index-range", true},
	} {
		var rows [2]string
		for i, withIndex := range []bool{false, true} {
			m := usersStore()
			if withIndex {
				m.indexes["users"] = []query.Index{{ID: 1, Name: "by_age", Path: []string{"age"}}}
			}
			var params map[string]any
			if strings.Contains(tc.q, "@a") {
				params = map[string]any{"a": 31}
			}
			out, err := run(t, m, tc.q, params)
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			rows[i] = canon(t, out)
			var kinds []string
			for _, a := range m.scans {
				kinds = append(kinds, a.Kind.String())
			}
			if withIndex == tc.index || !tc.index {
				// the scan of users is the last kind seen (orders is scanned first in the join)
				got := kinds[len(kinds)-1]
				if got != tc.access {
					t.Errorf("%s (index %v): access %v, want %s", tc.q, withIndex, kinds, tc.access)
				}
			}
		}
		if rows[0] != rows[1] {
			t.Errorf("%s: rows differ with the index:\n%s\n%s", tc.q, rows[0], rows[1])
		}
	}
}

// TestExplain shows the index a FILTER uses and a join's per-row lookup.
func TestExplain(t *testing.T) {
	m := usersStore()
	m.indexes["users"] = []query.Index{{ID: 1, Name: "by_age", Path: []string{"age"}}}
	q, err := Parse(`FOR o IN orders FOR u IN users FILTER u._key == o.user FOR v IN users FILTER v.age == @a RETURN [o, u, v]`)
	if err != nil {
		t.Fatal(err)
	}
	e, err := q.Explain(map[string]any{"a": 30}, m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range e.Nodes {
		s := n.Type
		if n.Access != nil {
			s += ":" + n.Access.Access + ":" + n.Access.Index
		}
		if n.PerOuterRow {
			s += ":per-row"
		}
		got = append(got, s)
	}
	want := "SingletonNode EnumerateCollectionNode:full-scan: IndexNode:primary-key-range::per-row FilterNode IndexNode:index-range:by_age FilterNode ReturnNode"
	if strings.Join(got, " ") != want {
		t.Fatalf("plan\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestSortByKeyStreams: a SORT on the first loop's _key reads the
// collection in key order (reversed for DESC) and stops with the LIMIT;
// when the loop reads an index instead, the rows are sorted.
func TestSortByKeyStreams(t *testing.T) {
	for _, tc := range []struct {
		q        string
		index    bool
		want     string
		reverse  bool
		maxDocs  int
		wantKind string
	}{
		{`FOR u IN users SORT u._key DESC LIMIT 2 RETURN u._key`, false, `["eve","dan"]`, true, 3, "full-scan"},
		{`FOR u IN users FILTER u.city != "Nice" LET n = u.name SORT u._key LIMIT 3 RETURN n`, false, `["Ann","Bob","Cat"]`, false, 4, "full-scan"},
		{`FOR u IN users FILTER u._key > "b" SORT u._key DESC RETURN u._key`, false, `["eve","dan","cat","bob"]`, true, 5, "primary-key-range"},
		{`FOR u IN users FILTER u.age >= 25 SORT u._key RETURN u._key`, true, `["ann","bob","cat","eve"]`, false, 5, "index-range"},
		{`FOR u IN users FILTER u.age >= 25 SORT u._key DESC LIMIT 1 RETURN u._key`, true, `["eve"]`, false, 5, "index-range"},
		{`FOR o IN orders FOR u IN users FILTER u._key == o.user SORT u._key DESC, o._key RETURN o._key`, false, `["o3","o1","o2"]`, false, 100, ""},
	} {
		m := usersStore()
		if tc.index {
			m.indexes["users"] = []query.Index{{ID: 1, Name: "by_age", Path: []string{"age"}}}
		}
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := q.Run(Options{Source: m, Writer: m})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			r, ok, err := rows.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, string(r))
		}
		if s := "[" + strings.Join(got, ",") + "]"; s != tc.want {
			t.Errorf("%s: %s, want %s", tc.q, s, tc.want)
		}
		if rows.Scanned() > tc.maxDocs {
			t.Errorf("%s: read %d documents, want at most %d", tc.q, rows.Scanned(), tc.maxDocs)
		}
		if tc.wantKind != "" && (m.scans[0].Kind.String() != tc.wantKind || m.scans[0].Reverse != tc.reverse) {
			t.Errorf("%s: scan %v reverse %v, want %s reverse %v", tc.q, m.scans[0].Kind, m.scans[0].Reverse, tc.wantKind, tc.reverse)
		}
	}
}
