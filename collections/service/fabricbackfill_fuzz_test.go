package service

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"github.com/causeway/causeway/collections/store"
)

// FuzzFabricChunk: a collections chunk of a geo-fabric's backfill, from a
// peer, parses into the fabric's own collections, documents and saved
// queries, or is refused with ErrCorruptSnapshot; never a panic.
func FuzzFabricChunk(f *testing.F) {
	head, _ := json.Marshal(snapshotCollection{Info: store.CollectionInfo{ID: 7, Tenant: "_mm", Fabric: "eu", Name: "docs", NextIndexID: 1},
		Applied: map[string]uint64{"a": 3}, HLC: 9})
	var good bytes.Buffer
	fw := frameWriter{w: &good}
	fw.frame('C', head)
	fw.frame('D', binary.AppendUvarint(nil, 2))
	query, _ := json.Marshal(snapshotQuery{Tenant: "_mm", Fabric: "eu", Query: store.SavedQuery{Name: "q"}})
	fw.frame('Q', query)
	f.Add(good.Bytes())
	f.Add([]byte{2, 'C', '{'})
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		parts, queries, err := parseFabricChunk("_mm", "eu", chunk)
		if err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v is not ErrCorruptSnapshot", err)
			}
			return
		}
		for _, p := range parts {
			if p.head.Info.Tenant != "_mm" || p.head.Info.Fabric != "eu" {
				t.Fatalf("collection %+v of another fabric", p.head.Info)
			}
			for _, d := range p.docs {
				if d.doc.Collection() != p.head.Info.Name || d.doc.Key() != d.key {
					t.Fatalf("document %s under %s", d.doc.ID(), p.head.Info.Name)
				}
			}
		}
		for _, q := range queries {
			if q.Tenant != "_mm" || q.Fabric != "eu" {
				t.Fatalf("saved query of %s/%s", q.Tenant, q.Fabric)
			}
		}
	})
}
