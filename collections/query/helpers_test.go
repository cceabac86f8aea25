package query

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"testing"
)

// memSource holds documents in memory and serves every access path, as the
// store does over Pebble.
type memSource struct {
	docs map[string][]byte // key -> JSON
}

func newMemSource(t testing.TB, docs ...string) *memSource {
	t.Helper()
	s := &memSource{docs: map[string][]byte{}}
	for _, d := range docs {
		m, err := decodeObject([]byte(d))
		if err != nil {
			t.Fatalf("bad test doc %s: %v", d, err)
		}
		s.docs[m["_key"].(string)] = []byte(d)
	}
	return s
}

type sliceIter struct {
	docs [][]byte
	i    int
}

func (it *sliceIter) Next() ([]byte, bool, error) {
	if it.i >= len(it.docs) {
		return nil, false, nil
	}
	it.i++
	return it.docs[it.i-1], true, nil
}

// iter returns the documents the access path reads.
func (s *memSource) iter(a Access) DocIter {
	keys := make([]string, 0, len(s.docs))
	for k := range s.docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][]byte
	switch a.Kind {
	case FullScan, KeyRange:
		for _, k := range keys {
			if (a.Lo == nil || k >= string(a.Lo)) && (a.Hi == nil || k < string(a.Hi)) {
				out = append(out, s.docs[k])
			}
		}
	case IndexRange:
		type entry struct {
			enc []byte
			key string
		}
		var entries []entry
		for _, k := range keys {
			m, _ := decodeObject(s.docs[k])
			v, ok := valueAt(m, a.Index.Path)
			if !ok {
				continue
			}
			enc := append(AppendKey(nil, v), k...)
			entries = append(entries, entry{enc, k})
		}
		slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.enc, y.enc) })
		for _, e := range entries {
			if bytes.Compare(e.enc, a.Lo) >= 0 && (a.Hi == nil || bytes.Compare(e.enc, a.Hi) < 0) {
				out = append(out, s.docs[e.key])
			}
		}
	}
	if a.Reverse {
		slices.Reverse(out)
	}
	return &sliceIter{docs: out}
}

// run parses, binds, plans and runs a query; it returns the rows.
func run(t testing.TB, src *memSource, text string, params Params, indexes []Index) ([]string, *Plan, error) {
	t.Helper()
	q, err := Parse(text)
	if err != nil {
		return nil, nil, err
	}
	b, err := q.Bind(params)
	if err != nil {
		return nil, nil, err
	}
	p := b.Plan(indexes)
	rows := p.Run(src.iter(p.Access()), 0)
	var out []string
	for {
		row, ok, err := rows.Next()
		if err != nil {
			return nil, p, err
		}
		if !ok {
			return out, p, nil
		}
		out = append(out, string(row))
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
