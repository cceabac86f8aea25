package aql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/collections/query"
)

// memStore is an in-memory collection set for tests of the pure core: it
// reads along the access paths the planner picks (key order, index order)
// and records the intents a query hands to its writer.
type memStore struct {
	colls   map[string]map[string]map[string]any
	indexes map[string][]query.Index
	intents []Intent
	scans   []query.Access
	nextKey int
}

var errNoCollection = errors.New("memstore: collection or view not found")

func newStore() *memStore {
	return &memStore{colls: map[string]map[string]map[string]any{}, indexes: map[string][]query.Index{}}
}

func (m *memStore) add(coll string, docs ...string) {
	if m.colls[coll] == nil {
		m.colls[coll] = map[string]map[string]any{}
	}
	for _, d := range docs {
		v, err := query.DecodeObject([]byte(d))
		if err != nil {
			panic(err)
		}
		key := v["_key"].(string)
		v["_id"] = coll + "/" + key
		v["_rev"] = "r1"
		m.colls[coll][key] = v
	}
}

func (m *memStore) Indexes(c string) ([]query.Index, error) {
	if m.colls[c] == nil {
		return nil, fmt.Errorf("%w: %s", errNoCollection, c)
	}
	return m.indexes[c], nil
}

// sliceDocs yields documents in one reused buffer, as the store's
// iterator may: a document kept past the next call must be copied.
type sliceDocs struct {
	docs [][]byte
	pos  int
	buf  []byte
}

func (s *sliceDocs) Next() ([]byte, bool, error) {
	if s.pos >= len(s.docs) {
		return nil, false, nil
	}
	s.pos++
	s.buf = append(s.buf[:0], s.docs[s.pos-1]...)
	return s.buf, true, nil
}
func (s *sliceDocs) Close() error { return nil }

func (m *memStore) Scan(c string, a query.Access) (DocIter, error) {
	m.scans = append(m.scans, a)
	coll := m.colls[c]
	if coll == nil {
		return nil, fmt.Errorf("%w: %s", errNoCollection, c)
	}
	keys := make([]string, 0, len(coll))
	for k := range coll {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][]byte
	if a.Reverse && a.Kind != query.IndexRange {
		slices.Reverse(keys)
	}
	switch a.Kind {
	case query.FullScan, query.KeyRange:
		for _, k := range keys {
			if a.Lo != nil && k < string(a.Lo) || a.Hi != nil && k >= string(a.Hi) {
				continue
			}
			out = append(out, query.AppendJSON(nil, coll[k]))
		}
	case query.IndexRange:
		type entry struct {
			enc []byte
			doc []byte
		}
		var es []entry
		for _, k := range keys {
			v, ok := query.ValueAt(coll[k], a.Index.Path)
			if !ok {
				continue
			}
			enc := append(query.AppendKey(nil, v), k...)
			if bytes.Compare(enc, a.Lo) < 0 || a.Hi != nil && bytes.Compare(enc, a.Hi) >= 0 {
				continue
			}
			es = append(es, entry{enc, query.AppendJSON(nil, coll[k])})
		}
		slices.SortFunc(es, func(x, y entry) int { return bytes.Compare(x.enc, y.enc) })
		for _, e := range es {
			out = append(out, e.doc)
		}
	}
	return &sliceDocs{docs: out}, nil
}

func (m *memStore) ScanLatest(c string, a query.Access) (DocIter, error) { return m.Scan(c, a) }

// Write applies intents to the maps the way the service's write path does
// (insert of an existing key refused, update merges, remove deletes).
func (m *memStore) Write(c string, ins []Intent, ignoreErrors bool) ([]Outcome, error) {
	coll := m.colls[c]
	out := make([]Outcome, len(ins))
	for i, in := range ins {
		m.intents = append(m.intents, in)
		key := in.Key
		if in.Kind == WriteInsert && key == "" {
			m.nextKey++
			key = fmt.Sprintf("k%d", m.nextKey)
		}
		old := coll[key]
		o := Outcome{Key: key, Rev: "r2"}
		if old != nil {
			o.Old = query.AppendJSON(nil, old)
		}
		kind := in.Kind
		if kind == WriteInsert && old != nil {
			switch in.Overwrite {
			case OverwriteReplace:
				kind = WriteReplace
			case OverwriteUpdate:
				kind = WriteUpdate
			case OverwriteIgnore:
				out[i] = o
				continue
			default:
				out[i] = Outcome{Err: fmt.Errorf("unique constraint violated: %s", key)}
				continue
			}
		}
		if kind != WriteInsert && old == nil {
			out[i] = Outcome{Err: fmt.Errorf("document not found: %s", key)}
			continue
		}
		var next map[string]any
		switch kind {
		case WriteRemove:
			delete(coll, key)
			out[i] = o
			continue
		case WriteUpdate:
			next = map[string]any{}
			for k, v := range old {
				next[k] = v
			}
			for k, v := range in.Doc {
				if v == nil && !in.KeepNull {
					delete(next, k)
					continue
				}
				next[k] = v
			}
		default:
			next = map[string]any{}
			for k, v := range in.Doc {
				next[k] = v
			}
		}
		next["_key"], next["_id"], next["_rev"] = key, c+"/"+key, "r2"
		coll[key] = next
		o.New = query.AppendJSON(nil, next)
		out[i] = o
	}
	return out, nil
}

// run runs a query and returns its rows as one JSON array.
func run(t *testing.T, m *memStore, text string, params map[string]any) (string, error) {
	t.Helper()
	q, err := Parse(text)
	if err != nil {
		return "", err
	}
	rows, err := q.Run(Options{Params: params, Source: m, Writer: m, Now: time.UnixMilli(1700000000000), Seed: 1})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	for {
		r, ok, err := rows.Next()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.Write(r)
	}
	b.WriteByte(']')
	return b.String(), nil
}

// canon re-encodes JSON so that equal values compare equal as strings.
func canon(t *testing.T, s string) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	n, _ := query.NormalizeValue(v)
	return string(query.AppendJSON(nil, n))
}

func usersStore() *memStore {
	m := newStore()
	m.add("users",
		`{"_key":"ann","name":"Ann","age":31,"city":"Paris","tags":["a","b"],"address":{"zip":"75001"}}`,
		`{"_key":"bob","name":"Bob","age":25,"city":"Lyon","tags":["b"]}`,
		`{"_key":"cat","name":"Cat","age":40,"city":"Paris","tags":[]}`,
		`{"_key":"dan","name":"Dan","city":"Nice"}`,
		`{"_key":"eve","name":"Eve","age":"x","city":"Lyon"}`,
	)
	m.add("orders",
		`{"_key":"o1","user":"ann","total":10}`,
		`{"_key":"o2","user":"ann","total":5}`,
		`{"_key":"o3","user":"bob","total":7}`,
		`{"_key":"o4","user":"zed","total":1}`,
	)
	m.add("empty")
	return m
}
