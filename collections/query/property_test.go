package query

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomValue returns a value drawn from a small domain, so that equal
// values, ties and type mixes are common.
func randomValue(r *rand.Rand) any {
	switch r.IntN(10) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2, 3, 4:
		return float64(r.IntN(7) - 2)
	case 5:
		return float64(r.IntN(7)) + 0.5
	case 6, 7, 8:
		return string(rune('a' + r.IntN(5)))
	}
	return []any{float64(r.IntN(2))}
}

func randomDoc(r *rand.Rand, key string) string {
	m := map[string]any{"_key": key}
	for _, name := range []string{"x", "y"} {
		if r.IntN(5) > 0 {
			m[name] = randomValue(r)
		}
	}
	if r.IntN(3) > 0 {
		m["o"] = map[string]any{"z": randomValue(r)}
	}
	return string(appendJSON(nil, m))
}

func literal(r *rand.Rand) string {
	switch v := randomValue(r).(type) {
	case nil:
		return "NULL"
	case bool:
		return strings.ToUpper(fmt.Sprint(v))
	case float64:
		return fmt.Sprint(v)
	case string:
		return "'" + v + "'"
	}
	return "1"
}

var propPaths = []string{"x", "y", "o.z", "_key"}
var propOps = []string{"=", "<", "<=", ">", ">=", "!="}

func randomTerm(r *rand.Rand, depth int) string {
	if depth > 0 && r.IntN(4) == 0 {
		op := " AND "
		if r.IntN(2) == 0 {
			op = " OR "
		}
		return "(" + randomTerm(r, depth-1) + op + randomTerm(r, depth-1) + ")"
	}
	p := propPaths[r.IntN(len(propPaths))]
	switch r.IntN(8) {
	case 0:
		return "NOT " + randomTerm(r, depth-1)
	case 1:
		return p + " IS NULL"
	case 2:
		return p + " BETWEEN " + literal(r) + " AND " + literal(r)
	case 3:
		return p + " IN (" + literal(r) + ", " + literal(r) + ")"
	}
	if p == "_key" && r.IntN(2) == 0 {
		return fmt.Sprintf("_key %s 'k%02d'", propOps[r.IntN(len(propOps))], r.IntN(40))
	}
	return p + " " + propOps[r.IntN(len(propOps))] + " " + literal(r)
}

func randomQuery(r *rand.Rand) string {
	var b strings.Builder
	agg := r.IntN(5) == 0
	if agg {
		b.WriteString("SELECT x, COUNT(*) AS n, SUM(y), MIN(o.z), MAX(y) FROM c")
	} else if r.IntN(2) == 0 {
		b.WriteString("SELECT * FROM c")
	} else {
		b.WriteString("SELECT _key, x, o.z FROM c")
	}
	if r.IntN(6) > 0 {
		b.WriteString(" WHERE " + randomTerm(r, 2))
		for r.IntN(2) == 0 {
			b.WriteString(" AND " + randomTerm(r, 1))
		}
	}
	if agg {
		b.WriteString(" GROUP BY x")
		if r.IntN(2) == 0 {
			b.WriteString(" ORDER BY n DESC")
		}
	} else if r.IntN(3) > 0 {
		p := propPaths[r.IntN(len(propPaths))]
		b.WriteString(" ORDER BY " + p)
		if r.IntN(2) == 0 {
			b.WriteString(" DESC")
		}
	}
	if r.IntN(3) == 0 {
		fmt.Fprintf(&b, " LIMIT %d", r.IntN(10))
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, " OFFSET %d", r.IntN(5))
		}
	}
	return b.String()
}

// TestIndexesChangeNoResult runs random queries over random documents with
// and without indexes: the rows must be identical (as sequences when the
// order is fully defined, as multisets otherwise).
func TestIndexesChangeNoResult(t *testing.T) {
	seed := uint64(rand.Int64())
	r := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	indexes := []Index{{ID: 1, Name: "x", Path: []string{"x"}}, {ID: 2, Name: "y", Path: []string{"y"}}, {ID: 3, Name: "oz", Path: []string{"o", "z"}}}
	rounds := 150
	if testing.Short() {
		rounds = 30
	}
	narrowed := 0
	for round := range rounds {
		var docs []string
		for i := range r.IntN(40) {
			docs = append(docs, randomDoc(r, fmt.Sprintf("k%02d", i)))
		}
		src := newMemSource(t, docs...)
		for range 20 {
			q := randomQuery(r)
			plain, _, err1 := run(t, src, q, Params{}, nil)
			indexed, plan, err2 := run(t, src, q, Params{}, indexes)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("seed %d round %d: %s: errors differ: %v / %v", seed, round, q, err1, err2)
			}
			if err1 != nil {
				continue
			}
			if plan.Access().Kind != FullScan {
				narrowed++
			}
			ordered := strings.Contains(q, "ORDER BY") || strings.Contains(q, "GROUP BY")
			if !ordered && strings.Contains(q, "LIMIT") {
				// Without ORDER BY, LIMIT picks rows in access order: only sizes agree.
				if len(plain) != len(indexed) {
					t.Fatalf("seed %d round %d: %s: %d rows without indexes, %d with (%+v)", seed, round, q, len(plain), len(indexed), plan.Explain())
				}
				continue
			}
			if !ordered {
				slices.Sort(plain)
				slices.Sort(indexed)
			}
			if !slices.Equal(plain, indexed) {
				t.Fatalf("seed %d round %d: %s\nplan %+v\nwithout indexes: %v\nwith indexes:    %v\ndocs: %v", seed, round, q, plan.Explain(), plain, indexed, docs)
			}
		}
	}
	if narrowed < rounds {
		t.Fatalf("seed %d: only %d queries used an index or key range: the test checks too little", seed, narrowed)
	}
	t.Logf("%d queries narrowed by an index or key range", narrowed)
}
