package service

import (
	"encoding/json"
	"testing"

	"github.com/causeway/causeway/collections/store"
)

// TestCursorNode: a cursor id made in a region of several nodes names its
// node; anything else names none (the cursor is looked up here).
func TestCursorNode(t *testing.T) {
	for _, tc := range []struct {
		id   string
		node uint64
		ok   bool
	}{
		{"n2-0123abcd", 2, true},
		{"n17-ff", 17, true},
		{"0123abcd", 0, false},                 // a region of one
		{"n0-ff", 0, false},                    // no node 0
		{"n-ff", 0, false},                     // no number
		{"nx2-ff", 0, false},                   // not a number
		{"n2", 0, false},                       // no separator
		{"n99999999999999999999-ff", 0, false}, // overflows
	} {
		node, ok := cursorNode(tc.id)
		if node != tc.node || ok != tc.ok {
			t.Errorf("cursorNode(%q) = %d, %v; want %d, %v", tc.id, node, ok, tc.node, tc.ok)
		}
	}
}

// TestDecodeCatalog: only a catalog description with an id is accepted.
func TestDecodeCatalog(t *testing.T) {
	good, _ := json.Marshal(store.CollectionInfo{ID: catalogID(), Tenant: "_mm", Fabric: "_system", Name: "orders", Catalog: true})
	if info, err := decodeCatalog(string(good)); err != nil || info.Name != "orders" {
		t.Fatalf("decodeCatalog(%s) = %+v, %v", good, info, err)
	}
	local, _ := json.Marshal(store.CollectionInfo{ID: 3, Name: "orders"})
	for _, bad := range []string{"", "{", "[]", `{"id":0,"catalog":true}`, string(local)} {
		if _, err := decodeCatalog(bad); err == nil {
			t.Errorf("decodeCatalog(%q) accepted", bad)
		}
	}
}

// TestCatalogID: catalog ids never meet the ids a node allocates itself
// (counting up from 1).
func TestCatalogID(t *testing.T) {
	seen := map[uint64]bool{}
	for range 1000 {
		id := catalogID()
		if id&(1<<62) == 0 || id>>63 != 0 || seen[id] {
			t.Fatalf("catalog id %x", id)
		}
		seen[id] = true
	}
}
