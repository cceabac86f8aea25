package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// doc builds a document state holding value, expiring at exp (ms).
func doc(t *testing.T, key, value string, seq, exp uint64) *collections.Doc {
	t.Helper()
	d := collections.NewDoc("c", key)
	op := collections.Op{Collection: "c", Key: key, Kind: collections.KindInsert, Value: []byte(value),
		Dot: collections.Dot{Region: "r", Seq: seq}, ExpiresAt: exp}
	if _, err := d.Apply(&op); err != nil {
		t.Fatal(err)
	}
	return d
}

func keysOf(t *testing.T, it *DocIter) []string {
	t.Helper()
	defer it.Close()
	var out []string
	for {
		_, ok, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, it.Key())
	}
}

func TestDocsIndexesAndExpiry(t *testing.T) {
	s := openStore(t)
	c := &CollectionInfo{ID: 7, Name: "c", Indexes: []IndexInfo{{ID: 1, Name: "n", Field: "n"}}}
	b := s.NewBatch()
	vals := map[string]string{"a": `{"n":3}`, "b": `{"n":1}`, "c": `{"n":"x"}`, "d": `{"m":1}`, "e": `{"n":2}`}
	exp := map[string]uint64{"e": 500}
	seq := uint64(0)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		seq++
		if err := b.PutDoc(c, k, nil, doc(t, k, vals[k], seq, exp[k])); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetApplied(c.ID, collections.Vector{{Region: "r", Seq: seq}}, 42); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Close()

	if v, hlc, err := s.Applied(c.ID); err != nil || v.Get("r") != 5 || hlc != 42 {
		t.Fatalf("applied %v %d %v", v, hlc, err)
	}
	r, found, err := s.Rendered(c.ID, "e")
	if err != nil || !found || r.ExpiresAt != 500 || r.Visible(500) || !r.Visible(499) || string(r.JSON[:8]) != `{"_key":` {
		t.Fatalf("rendered e: %+v %v %v", r, found, err)
	}
	snap := s.Snapshot()
	defer snap.Close()
	scan := func(a query.Access, now uint64) []string {
		it, err := snap.Docs(c.ID, a, now)
		if err != nil {
			t.Fatal(err)
		}
		return keysOf(t, it)
	}
	numbers := query.Access{Kind: query.IndexRange, Index: query.Index{ID: 1}, Lo: []byte{0x04}, Hi: []byte{0x05}}
	cases := []struct {
		a    query.Access
		now  uint64
		want []string
	}{
		{query.Access{Kind: query.FullScan}, 0, []string{"a", "b", "c", "d", "e"}},
		{query.Access{Kind: query.FullScan}, 500, []string{"a", "b", "c", "d"}},
		{query.Access{Kind: query.FullScan, Reverse: true}, 0, []string{"e", "d", "c", "b", "a"}},
		{query.Access{Kind: query.KeyRange, Lo: []byte("b"), Hi: []byte("d")}, 0, []string{"b", "c"}},
		{numbers, 0, []string{"b", "e", "a"}},
		{numbers, 600, []string{"b", "a"}},
		{query.Access{Kind: query.IndexRange, Index: query.Index{ID: 1}, Lo: []byte{0x05}, Hi: []byte{0x06}}, 0, []string{"c"}},
	}
	for _, tc := range cases {
		if got := scan(tc.a, tc.now); !slices.Equal(got, tc.want) {
			t.Errorf("%+v at %d: %v, want %v", tc.a, tc.now, got, tc.want)
		}
	}
	if keys, err := s.Expired(c.ID, 499, 10); err != nil || len(keys) != 0 {
		t.Fatalf("expired at 499: %v %v", keys, err)
	}
	if keys, err := s.Expired(c.ID, 500, 10); err != nil || !slices.Equal(keys, []string{"e"}) {
		t.Fatalf("expired at 500: %v %v", keys, err)
	}

	// Updating a document moves its index entry; deleting removes it.
	old, _ := s.Doc(c.ID, "b")
	next := old.Clone()
	op := collections.Op{Collection: "c", Key: "b", Kind: collections.KindSet, Path: []string{"n"}, Value: []byte("9"),
		Dot: collections.Dot{Region: "r", Seq: 6}, Context: collections.Vector{{Region: "r", Seq: 5}}}
	if _, err := next.Apply(&op); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch()
	if err := b.PutDoc(c, "b", old, next); err != nil {
		t.Fatal(err)
	}
	oldA, _ := s.Doc(c.ID, "a")
	if err := b.PutDoc(c, "a", oldA, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	snap2 := s.Snapshot()
	defer snap2.Close()
	it, _ := snap2.Docs(c.ID, numbers, 0)
	if got := keysOf(t, it); !slices.Equal(got, []string{"e", "b"}) {
		t.Fatalf("after update and delete: %v", got)
	}
	// The older snapshot still sees what it saw.
	if got := scan(numbers, 0); !slices.Equal(got, []string{"b", "e", "a"}) {
		t.Fatalf("snapshot changed: %v", got)
	}

	// A new index is built from the documents; dropping it removes it.
	ix := IndexInfo{ID: 2, Name: "m", Field: "m"}
	if err := s.BuildIndex(c, ix); err != nil {
		t.Fatal(err)
	}
	snap3 := s.Snapshot()
	it, _ = snap3.Docs(c.ID, query.Access{Kind: query.IndexRange, Index: query.Index{ID: 2}, Lo: []byte{0x01}, Hi: []byte{0x08}}, 0)
	if got := keysOf(t, it); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("built index: %v", got)
	}
	snap3.Close()
	if err := s.DropCollection(*c); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Rendered(c.ID, "b"); found {
		t.Fatal("document survived its collection")
	}
	if keys, _ := s.Expired(c.ID, 1000, 10); len(keys) != 0 {
		t.Fatal("expiry entries survived their collection")
	}
}

func TestMetadata(t *testing.T) {
	s := openStore(t)
	id1, _ := s.AllocateID()
	id2, _ := s.AllocateID()
	if id1 == id2 {
		t.Fatal("ids repeat")
	}
	for i, name := range []string{"b", "a"} {
		if err := s.CreateCollection(CollectionInfo{ID: uint64(i + 1), Tenant: "t", Fabric: "f", Name: name}, uint64(10*i)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Collections()
	if err != nil || len(cs) != 2 || cs[0].Name != "a" {
		t.Fatalf("collections %+v %v", cs, err)
	}
	if p, err := s.Position(2); err != nil || p != 10 {
		t.Fatalf("position %d %v", p, err)
	}
	for i := range 3 {
		if err := s.PutSavedQuery("t", fmt.Sprint("f", i%2), SavedQuery{Name: fmt.Sprint("q", i), Value: "SELECT * FROM a"}); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := s.SavedQueries("t", "f0")
	if err != nil || len(qs) != 2 {
		t.Fatalf("saved queries %v %v", qs, err)
	}
	if err := s.DeleteSavedQuery("t", "f0", "q1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete from the wrong fabric: %v", err)
	}
	if err := s.DeleteSavedQuery("t", "f1", "q1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SavedQuery("t", "f1", "q1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted query: %v", err)
	}
}
