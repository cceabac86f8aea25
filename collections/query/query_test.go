package query

import (
	"errors"
	"strings"
	"testing"
)

var testDocs = []string{
	`{"_key":"a","name":"Ann","age":31,"city":"Paris","tags":["x"],"address":{"zip":"75001","geo":{"lat":48.8}},"active":true}`,
	`{"_key":"b","name":"Bob","age":25,"city":"Berlin","address":{"zip":"10115"},"active":false}`,
	`{"_key":"c","name":"Cid","age":"old","city":"Paris","active":true}`,
	`{"_key":"d","name":"Dee","age":40,"city":null}`,
	`{"_key":"e","name":"Eve","age":25.0,"city":"Rome","score":3}`,
}

func TestQueries(t *testing.T) {
	src := newMemSource(t, testDocs...)
	cases := []struct {
		name, q string
		params  Params
		want    string // rows joined by newline
	}{
		{"star", "SELECT * FROM users WHERE _key = 'b'", Params{}, testDocs[1]},
		{"project", "SELECT name, address.zip FROM users WHERE age > 30 ORDER BY name", Params{},
			`{"name":"Ann","address.zip":"75001"}` + "\n" + `{"name":"Dee","address.zip":null}`},
		{"alias and deep path", "SELECT u.name AS n, `address.geo.lat` AS lat FROM users u WHERE `address.geo.lat` >= 48 AND u.address.geo IS NOT NULL", Params{},
			`{"n":"Ann","lat":48.8}`},
		{"type mismatch is unknown", "SELECT name FROM users WHERE age < 100 ORDER BY _key", Params{},
			`{"name":"Ann"}` + "\n" + `{"name":"Bob"}` + "\n" + `{"name":"Dee"}` + "\n" + `{"name":"Eve"}`},
		{"not of unknown stays out", "SELECT name FROM users WHERE NOT (age < 100)", Params{}, ""},
		{"null never equals", "SELECT name FROM users WHERE city = NULL", Params{}, ""},
		{"is null covers missing", "SELECT name FROM users WHERE city IS NULL OR score IS NOT NULL ORDER BY name", Params{},
			`{"name":"Dee"}` + "\n" + `{"name":"Eve"}`},
		{"named params", "SELECT name FROM users WHERE city = @c AND age >= @min ORDER BY age DESC", Params{Named: map[string]any{"c": "Paris", "min": 0}},
			`{"name":"Ann"}`},
		{"positional params", "SELECT name FROM users WHERE city IN (?, ?) ORDER BY name LIMIT ?", Params{Positional: []any{"Rome", "Berlin", 1}},
			`{"name":"Bob"}`},
		{"between and like", "SELECT name FROM users WHERE age BETWEEN 25 AND 31 AND name LIKE '_o%' ", Params{}, `{"name":"Bob"}`},
		{"not in", "SELECT name FROM users WHERE city NOT IN ('Paris', 'Rome') ORDER BY name", Params{}, `{"name":"Bob"}`},
		{"bool literal and bare path", "SELECT name FROM users WHERE active = TRUE AND active ORDER BY name DESC", Params{},
			`{"name":"Cid"}` + "\n" + `{"name":"Ann"}`},
		{"is false", "SELECT name FROM users WHERE active IS FALSE", Params{}, `{"name":"Bob"}`},
		{"order total and ties by key", "SELECT _key FROM users ORDER BY age", Params{},
			`{"_key":"b"}` + "\n" + `{"_key":"e"}` + "\n" + `{"_key":"a"}` + "\n" + `{"_key":"d"}` + "\n" + `{"_key":"c"}`},
		{"order desc ties by key desc", "SELECT _key FROM users ORDER BY age DESC LIMIT 3 OFFSET 2", Params{},
			`{"_key":"a"}` + "\n" + `{"_key":"e"}` + "\n" + `{"_key":"b"}`},
		{"limit m, n", "SELECT _key FROM users ORDER BY _key LIMIT 1, 2", Params{}, `{"_key":"b"}` + "\n" + `{"_key":"c"}`},
		{"count", "SELECT COUNT(*) FROM users", Params{}, `{"COUNT(*)":5}`},
		{"count of nothing", "SELECT COUNT(*) AS n, SUM(age) AS s FROM users WHERE _key = 'zz'", Params{}, `{"n":0,"s":null}`},
		{"group by", "SELECT city, COUNT(*) AS n, AVG(age) AS a, MIN(name), MAX(age) FROM users GROUP BY city ORDER BY n DESC, city", Params{},
			`{"city":"Paris","n":2,"a":31,"MIN(name)":"Ann","MAX(age)":"old"}` + "\n" +
				`{"city":null,"n":1,"a":40,"MIN(name)":"Dee","MAX(age)":40}` + "\n" +
				`{"city":"Berlin","n":1,"a":25,"MIN(name)":"Bob","MAX(age)":25}` + "\n" +
				`{"city":"Rome","n":1,"a":25,"MIN(name)":"Eve","MAX(age)":25.0}`},
		{"group without order is by value", "SELECT city FROM users GROUP BY city", Params{},
			`{"city":null}` + "\n" + `{"city":"Berlin"}` + "\n" + `{"city":"Paris"}` + "\n" + `{"city":"Rome"}`},
		{"order by aggregate", "SELECT city, SUM(age) FROM users WHERE city IS NOT NULL GROUP BY city ORDER BY SUM(age) DESC LIMIT 1", Params{},
			`{"city":"Paris","SUM(age)":31}`},
		{"key range", "SELECT _key FROM users WHERE _key > 'b' AND _key <= 'd'", Params{}, `{"_key":"c"}` + "\n" + `{"_key":"d"}`},
		{"array equality", "SELECT _key FROM users WHERE tags = @t", Params{Named: map[string]any{"t": []any{"x"}}}, `{"_key":"a"}`},
		{"numbers compare by value", "SELECT _key FROM users WHERE age = 25 ORDER BY _key", Params{}, `{"_key":"b"}` + "\n" + `{"_key":"e"}`},
		{"negative literal", "SELECT _key FROM users WHERE age > -1 AND age < 26 ORDER BY _key", Params{}, `{"_key":"b"}` + "\n" + `{"_key":"e"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, indexes := range [][]Index{nil, {{ID: 1, Name: "age", Path: []string{"age"}}, {ID: 2, Name: "city", Path: []string{"city"}}}} {
				rows, _, err := run(t, src, tc.q, tc.params, indexes)
				if err != nil {
					t.Fatalf("%s: %v", tc.q, err)
				}
				if got := strings.Join(rows, "\n"); got != tc.want {
					t.Fatalf("%s (indexes %v):\ngot  %s\nwant %s", tc.q, indexes, got, tc.want)
				}
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	src := newMemSource(t, testDocs...)
	cases := []struct {
		q      string
		params Params
		want   error
	}{
		{"SELEC * FROM users", Params{}, ErrSyntax},
		{"SELECT * FROM users WHERE", Params{}, ErrSyntax},
		{"DELETE FROM users", Params{}, ErrUnsupported},
		{"SELECT * FROM a; SELECT * FROM b", Params{}, ErrUnsupported},
		{"SELECT * FROM a JOIN b", Params{}, ErrUnsupported},
		{"SELECT DISTINCT a FROM users", Params{}, ErrUnsupported},
		{"SELECT a + 1 FROM users", Params{}, ErrUnsupported},
		{"SELECT * FROM users WHERE a + 1 > 2", Params{}, ErrUnsupported},
		{"SELECT name, COUNT(*) FROM users", Params{}, ErrUnsupported},
		{"SELECT * FROM users GROUP BY city", Params{}, ErrUnsupported},
		{"SELECT * FROM users WHERE a IN (SELECT b FROM c)", Params{}, ErrUnsupported},
		{"SELECT * FROM users WHERE a = @@version", Params{}, ErrUnsupported},
		{"SELECT * FROM users WHERE a = @x", Params{}, ErrBindMissing},
		{"SELECT * FROM users WHERE a = ?", Params{}, ErrBindMissing},
		{"SELECT * FROM users WHERE a = @x", Params{Named: map[string]any{"x": 1, "y": 2}}, ErrBindUnused},
		{"SELECT * FROM users LIMIT ?", Params{Positional: []any{-1}}, ErrBindType},
		{"SELECT * FROM users LIMIT ?", Params{Positional: []any{"5"}}, ErrBindType},
		{"SELECT * FROM users LIMIT ?", Params{Positional: []any{1.5}}, ErrBindType},
		{"SELECT * FROM users LIMIT @n", Params{}, ErrSyntax},
		{"SELECT * FROM users WHERE a = @x", Params{Named: map[string]any{"x": struct{}{}}}, ErrBindType},
		{"SELECT * FROM users WHERE `a..b` = 1", Params{}, ErrUnsupported},
		{"SELECT x FROM users ORDER BY y", Params{}, nil},
		{"SELECT COUNT(*) FROM users GROUP BY city ORDER BY name", Params{}, ErrUnsupported},
		{strings.Repeat(" ", MaxQueryBytes+1), Params{}, ErrUnsupported},
	}
	for _, tc := range cases {
		_, _, err := run(t, src, tc.q, tc.params, nil)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%.60s: %v", tc.q, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%.60s: got %v, want %v", tc.q, err, tc.want)
		}
	}
}

func TestPlanChoosesAccess(t *testing.T) {
	indexes := []Index{{ID: 1, Name: "by_age", Path: []string{"age"}}, {ID: 2, Name: "by_city", Path: []string{"address", "city"}}}
	cases := []struct {
		q      string
		access AccessKind
		index  string
		sorted bool
	}{
		{"SELECT * FROM u", FullScan, "", false},
		{"SELECT * FROM u WHERE age > 5", IndexRange, "by_age", false},
		{"SELECT * FROM u WHERE age > 5 AND address.city = 'Paris'", IndexRange, "by_city", false},
		{"SELECT * FROM u WHERE age > 5 AND age < 9 AND address.city > 'P'", IndexRange, "by_age", false},
		{"SELECT * FROM u WHERE age > 5 OR address.city = 'Paris'", FullScan, "", false},
		{"SELECT * FROM u WHERE age != 5", FullScan, "", false},
		{"SELECT * FROM u WHERE age = NULL", FullScan, "", false},
		{"SELECT * FROM u WHERE name = 'x'", FullScan, "", false},
		{"SELECT * FROM u WHERE _key = 'x' AND age = 3", KeyRange, "", false},
		{"SELECT * FROM u WHERE 7 < age ORDER BY age DESC", IndexRange, "by_age", true},
		{"SELECT * FROM u ORDER BY _key DESC", FullScan, "", true},
		{"SELECT * FROM u ORDER BY age", FullScan, "", false},
		{"SELECT COUNT(*) FROM u WHERE age BETWEEN 1 AND 3", IndexRange, "by_age", false},
	}
	for _, tc := range cases {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		b, err := q.Bind(Params{})
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		p := b.Plan(indexes)
		e := p.Explain()
		if p.Access().Kind != tc.access || e.Index != tc.index || p.sorted != tc.sorted {
			t.Errorf("%s: got %+v, want access %s index %q sorted %v", tc.q, e, tc.access, tc.index, tc.sorted)
		}
	}
}

func TestLike(t *testing.T) {
	cases := []struct {
		s, p string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "a%", true}, {"abc", "%c", true}, {"abc", "%b%", true},
		{"abc", "a_c", true}, {"abc", "a_", false}, {"", "%", true}, {"", "_", false},
		{"a%c", `a\%c`, true}, {"abc", `a\%c`, false}, {"aXbXc", "a%b%c", true}, {"ab", "a%b%c", false},
		{"é", "_", true}, {"aaa", "%a%a%a%", true}, {"aa", "%a%a%a%", false}, {`a\`, `a\`, true},
	}
	for _, tc := range cases {
		if got := like(tc.s, tc.p, '\\'); got != tc.want {
			t.Errorf("like(%q, %q) = %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}

func TestAppendKeyOrder(t *testing.T) {
	// Scalars in increasing query order; their encodings must sort alike.
	vals := []any{nil, false, true, -1e300, -2.5, -1.0, 0.0, 1e-9, 1.0, 2.0, 1e300, "", "\x00", "\x00\x00", "a", "a\x00", "ab", "b"}
	for i := 1; i < len(vals); i++ {
		a, b := AppendKey(nil, vals[i-1]), AppendKey(nil, vals[i])
		if string(a) >= string(b) {
			t.Errorf("encoding of %#v (%x) does not sort below %#v (%x)", vals[i-1], a, vals[i], b)
		}
		if PrefixEnd(a) != nil && string(PrefixEnd(a)) > string(b) && compareTotal(vals[i-1], vals[i]) != 0 {
			t.Errorf("PrefixEnd(%#v) passes %#v", vals[i-1], vals[i])
		}
	}
	if string(AppendKey(nil, -0.0)) != string(AppendKey(nil, 0.0)) {
		t.Error("-0 and 0 encode differently")
	}
}
