package e2e

import (
	"net/http"
	"testing"
)

// TestAQLWritesMergeAcrossRegions: a document updated with AQL in one
// region while an HTTP PATCH changes another attribute in the other region
// (partitioned) ends with both in both regions: AQL writes are CRDT ops
// like any other. Rows inserted with AQL replicate, and an AQL query
// answers the same in both regions.
func TestAQLWritesMergeAcrossRegions(t *testing.T) {
	regions := []string{"eu-west", "us-east"}
	f := newFabric(t, regions)
	us, eu := "us-east", "eu-west"
	f.must(http.StatusOK, us, "POST", sys+"collection", map[string]any{"name": "users"})
	for _, r := range regions {
		f.eventually(r+" has users", func() bool { return f.do(r, "GET", sys+"collection/users", nil).status == http.StatusOK })
	}
	f.must(http.StatusCreated, us, "POST", sys+"cursor", map[string]any{
		"query": "FOR i IN 1..20 INSERT {_key: CONCAT('u', i), n: i} INTO users",
	})
	f.sameEverywhere("users", "u1", regions...)

	f.Partition(true)
	f.must(http.StatusCreated, us, "POST", sys+"cursor", map[string]any{
		"query": "FOR u IN users FILTER u._key == 'u1' UPDATE u WITH {city: 'Paris', n: u.n + 100} IN users RETURN NEW",
	})
	f.must(http.StatusCreated, eu, "PATCH", sys+"document/users/u1", map[string]any{"zip": "75001"})
	if d := f.doc(eu, "users", "u1"); d["city"] != nil {
		t.Fatalf("eu sees us's AQL write across the partition: %v", d)
	}
	f.Partition(false)
	d := f.sameEverywhere("users", "u1", regions...)
	if d["city"] != "Paris" || d["zip"] != "75001" || d["n"] != 101.0 {
		t.Fatalf("merged u1: %v", d)
	}
	count := func(region string) any {
		a := f.must(http.StatusCreated, region, "POST", sys+"cursor", map[string]any{
			"query": "FOR u IN users COLLECT WITH COUNT INTO n RETURN n",
		})
		return a.body["result"].([]any)[0]
	}
	f.eventually("20 users everywhere", func() bool { return count(us) == 20.0 && count(eu) == 20.0 })
}
