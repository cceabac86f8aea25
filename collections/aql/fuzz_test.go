package aql

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: no input makes the parser or compiler panic, and every
// failure is an *Error with a number.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"FOR u IN users FILTER u.age >= 30 SORT u.age DESC LIMIT 1, 2 RETURN {n: u.name}",
		"FOR u IN @@c COLLECT c = u.city AGGREGATE n = SUM(u.x) INTO g WITH COUNT INTO k RETURN [c, n, g, k]",
		"LET xs = (FOR x IN 1..3 RETURN x) RETURN xs[*].a[0]",
		"UPSERT {a: 1} INSERT {a: 1} UPDATE {b: OLD.b + 1} IN c OPTIONS {keepNull: false} RETURN NEW",
		"FOR d IN c REMOVE d IN c RETURN OLD",
		"RETURN 1 ? 'a' : \"b\" // c\n /* d */",
		"RETURN {`a b`: 1, [x]: 2, @p: 3}",
		"FOR x IN [1, 2] FILTER x NOT IN [2] && x =~ '^1' RETURN DISTINCT x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if _, _, ok := Codes(err); !ok {
				t.Fatalf("Parse(%q): error without a number: %v", s, err)
			}
			return
		}
		if q == nil {
			t.Fatalf("Parse(%q): nil query and nil error", s)
		}
	})
}

// FuzzRun runs whatever parses over a small store with tight bounds (rows
// held, loop iterations): a query ends with rows or an error, never a
// panic, and a failed query's error has a number or comes from the store.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"FOR u IN users FILTER u.age > 20 SORT u.name LIMIT 2 RETURN MERGE(u, {x: u.tags[*]})",
		"FOR o IN orders COLLECT k = o.user INTO g RETURN {k, n: LENGTH(g), t: SUM(g[*].o.total)}",
		"FOR x IN 1..10 LET y = (FOR z IN 1..x RETURN z * 2) RETURN [x, y, x / (x - 5)]",
		"FOR u IN users UPDATE u WITH {seen: true} IN users RETURN [OLD, NEW]",
		"UPSERT {_key: 'zz'} INSERT {_key: 'zz', n: 1} UPDATE {n: OLD.n + 1} IN orders RETURN NEW",
		"RETURN [CONCAT('a', 1), SUBSTRING('hello', -3, 2), SPLIT('a,b,c', ',', 2), DATE_ISO8601(DATE_NOW())]",
		"FOR d IN users REMOVE d IN users OPTIONS {ignoreErrors: true}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		m := usersStore()
		steps := 0
		rows, err := q.Run(Options{Source: m, Writer: m, MaxMemoryRows: 2000, Check: func() error {
			steps++
			if steps > 200 {
				return errFuzzBudget
			}
			return nil
		}})
		if err != nil {
			return
		}
		for n := 0; n < 5000; n++ {
			_, ok, err := rows.Next()
			if err != nil {
				if _, _, numbered := Codes(err); !numbered && err != errFuzzBudget && !errors.Is(err, errNoCollection) && !strings.Contains(err.Error(), "not found") && !strings.Contains(err.Error(), "unique constraint") {
					t.Fatalf("%q: error without a number: %v", s, err)
				}
				return
			}
			if !ok {
				return
			}
		}
		rows.Close()
	})
}

var errFuzzBudget = errors.New("fuzz: step budget spent")
