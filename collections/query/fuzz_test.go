package query

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzQueryPlan drives query text (and a JSON object of named parameters)
// through parse, bind, plan and run over a few documents: nothing may
// panic, and every failure must be one of the package's errors.
func FuzzQueryPlan(f *testing.F) {
	for _, q := range []string{
		"SELECT * FROM c WHERE x > 1 AND o.z = 'a' ORDER BY x DESC LIMIT 2",
		"SELECT x, COUNT(*) AS n, SUM(y) FROM c WHERE NOT (y IS NULL) GROUP BY x ORDER BY n",
		"SELECT _key FROM c WHERE _key BETWEEN 'a' AND 'k' AND x IN (1, 'b', TRUE)",
		"SELECT `o.z` AS z FROM c u WHERE u.x LIKE 'a%' OR y <> @p LIMIT ?, ?",
		"SELECT * FROM c WHERE x = @p AND y >= @q",
		"SELEC * FORM",
	} {
		f.Add(q, `{"p":1,"q":"a"}`)
	}
	indexes := []Index{{ID: 1, Name: "x", Path: []string{"x"}}, {ID: 2, Name: "oz", Path: []string{"o", "z"}}}
	src := newMemSource(f,
		`{"_key":"a","x":1,"y":"b","o":{"z":"a"}}`,
		`{"_key":"b","x":"b","y":2.5}`,
		`{"_key":"c","x":null,"o":{"z":[1]}}`,
	)
	known := []error{ErrSyntax, ErrUnsupported, ErrBindMissing, ErrBindUnused, ErrBindType, ErrTooManyRows}
	f.Fuzz(func(t *testing.T, text, params string) {
		q, err := Parse(text)
		if err != nil {
			checkKnown(t, err, known)
			return
		}
		var named map[string]any
		_ = json.Unmarshal([]byte(params), &named)
		positional := make([]any, q.positional)
		for i := range positional {
			positional[i] = float64(i)
		}
		b, err := q.Bind(Params{Named: named, Positional: positional})
		if err != nil {
			checkKnown(t, err, known)
			return
		}
		p := b.Plan(indexes)
		_ = p.Explain()
		rows := p.Run(src.iter(p.Access()), 100)
		for {
			row, ok, err := rows.Next()
			if err != nil {
				checkKnown(t, err, known)
				return
			}
			if !ok {
				return
			}
			if !json.Valid(row) {
				t.Fatalf("%s: invalid row %s", text, row)
			}
		}
	})
}

func checkKnown(t *testing.T, err error, known []error) {
	t.Helper()
	for _, k := range known {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("unexpected error kind: %v", err)
}
