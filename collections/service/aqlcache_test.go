package service

import (
	"fmt"
	"testing"
)

// TestAQLCacheBound: the cache answers the same query for the same text,
// keeps at most aqlCacheEntries, and keeps no errors.
func TestAQLCacheBound(t *testing.T) {
	var c aqlCache
	q1, err := c.parse("RETURN 1")
	if err != nil {
		t.Fatal(err)
	}
	if q2, _ := c.parse("RETURN 1"); q2 != q1 {
		t.Fatal("the same text parsed twice")
	}
	if _, err := c.parse("RETURN"); err == nil || len(c.m) != 1 {
		t.Fatalf("bad query: %v, %d entries", err, len(c.m))
	}
	for i := range aqlCacheEntries + 10 {
		if _, err := c.parse(fmt.Sprintf("RETURN %d", i+2)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) != aqlCacheEntries || len(c.order) != aqlCacheEntries {
		t.Fatalf("%d entries (%d in order), want %d", len(c.m), len(c.order), aqlCacheEntries)
	}
	if _, ok := c.m["RETURN 1"]; ok {
		t.Fatal("the oldest entry is still there")
	}
}
