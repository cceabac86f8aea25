package aql

import (
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
