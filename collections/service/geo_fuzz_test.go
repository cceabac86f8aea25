package service

import (
	"bytes"
	"errors"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// FuzzReplPayload feeds replicated payloads (what a peer ships) to the
// decoder: it never panics, refuses garbage with ErrCorruptPayload, and
// what it accepts encodes back to the same bytes.
func FuzzReplPayload(f *testing.F) {
	op := collections.Op{Collection: "users", Key: "ann", Kind: collections.KindSet, Path: []string{"a", "b"},
		Value: []byte(`{"x":[1,2]}`), Dot: collections.Dot{Region: "eu", Seq: 7}, HLC: 99,
		Context: collections.Vector{{Region: "us", Seq: 3}}}
	bin, err := op.AppendBinary(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(appendOpPayload(nil, "_mm", "_system", bin))
	for _, m := range []*MetaEvent{
		{Type: MetaCreateCollection, Tenant: "_mm", Fabric: "_system", Collection: "users", Spec: &CollectionSpec{Name: "users", Type: 2}, CreatedAt: 5},
		{Type: MetaDropCollection, Tenant: "t", Fabric: "f", Collection: "users"},
		{Type: MetaCreateIndex, Tenant: "t", Fabric: "f", Collection: "users", Index: "by_a", Field: "a.b"},
		{Type: MetaSaveQuery, Tenant: "t", Fabric: "f", Query: &store.SavedQuery{Name: "q", Value: "SELECT * FROM users"}},
		{Type: MetaAck, Tenant: "t", Fabric: "f", Collection: "users", Known: map[string]uint64{"us": 4, "eu": 1}},
	} {
		p, err := appendMetaPayload(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte{1, 2, '{', '}'})
	f.Add([]byte{1, 1, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeReplPayload(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptPayload) {
				t.Fatalf("error %v is not ErrCorruptPayload", err)
			}
			return
		}
		var again []byte
		if p.Op != nil {
			bin, err := p.Op.AppendBinary(nil)
			if err != nil {
				t.Fatalf("accepted op does not encode: %v", err)
			}
			again = appendOpPayload(nil, p.Tenant, p.Fabric, bin)
			if !bytes.Equal(again, b) {
				t.Fatalf("op payload re-encodes differently")
			}
			return
		}
		if p.Meta == nil {
			t.Fatal("accepted payload with neither op nor event")
		}
		again, err = appendMetaPayload(nil, p.Meta)
		if err != nil {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		if _, err := decodeReplPayload(again); err != nil {
			t.Fatalf("re-encoded event refused: %v", err)
		}
	})
}

// FuzzSnapshot feeds snapshot streams (what a peer serves) to the loader:
// it never panics, and refuses garbage with an error.
func FuzzSnapshot(f *testing.F) {
	dir := f.TempDir()
	st, err := store.Open(dir, 1<<20, zap.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	var good bytes.Buffer
	fw := frameWriter{w: &good}
	fw.json('H', snapshotHeader{Version: 1, Region: "us", ReplApplied: map[string]uint64{"us": 3}})
	fw.json('C', snapshotCollection{Info: store.CollectionInfo{ID: 1, Tenant: "_mm", Fabric: "_system", Name: "users", Type: 2, NextIndexID: 1}, Applied: map[string]uint64{"us": 1}, HLC: 9})
	d := collections.NewDoc("users", "ann")
	if _, err := d.Apply(&collections.Op{Collection: "users", Key: "ann", Kind: collections.KindInsert, Value: []byte(`{"a":1}`), Dot: collections.Dot{Region: "us", Seq: 1}}); err != nil {
		f.Fatal(err)
	}
	fw.frame('D', append([]byte{3, 'a', 'n', 'n'}, d.AppendBinary(nil)...))
	fw.json('Q', snapshotQuery{Tenant: "_mm", Fabric: "_system", Query: store.SavedQuery{Name: "q", Value: "SELECT * FROM users"}})
	fw.json('E', snapshotEnd{Collections: 1, Documents: 1})
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := st.Wipe(); err != nil {
			t.Fatal(err)
		}
		_, _, _ = loadSnapshot(st, bytes.NewReader(b))
	})
}
