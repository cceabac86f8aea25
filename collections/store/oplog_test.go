package store

import "testing"

func TestOpLogBase(t *testing.T) {
	s := openStore(t)
	c := CollectionInfo{ID: 3, Tenant: "t", Fabric: "f", Name: "c"}
	if base, err := s.OpLogBase(c.ID); err != nil || base != 0 {
		t.Fatalf("OpLogBase of an unknown collection = %d, %v", base, err)
	}
	if err := s.CreateCollection(c, 42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPosition(c.ID, 50); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if base, err := s.OpLogBase(c.ID); err != nil || base != 42 {
		t.Fatalf("OpLogBase = %d, %v; want 42 (the position the collection was created at)", base, err)
	}
	if pos, err := s.Position(c.ID); err != nil || pos != 50 {
		t.Fatalf("Position = %d, %v", pos, err)
	}
	if err := s.DropCollection(c); err != nil {
		t.Fatal(err)
	}
	if base, err := s.OpLogBase(c.ID); err != nil || base != 0 {
		t.Fatalf("OpLogBase after drop = %d, %v", base, err)
	}
}
