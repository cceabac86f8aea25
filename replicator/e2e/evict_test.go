package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/causeway/causeway/replicator/shell"
)

// TestEvictRegion evicts a region that went away: it no longer pins causal
// stability, the eviction survives a restart, and replication between the
// others goes on.
func TestEvictRegion(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	f.publish("us-east", "e", "east", 0, 10)
	f.waitCount("e", 10)
	f.Stop("ap-south")
	f.publish("us-east", "e", "east", 10, 10)
	f.waitCount("e", 20, "us-east", "eu-west")
	for _, r := range []string{"us-east", "eu-west"} {
		resp, err := http.Post(f.Server(r).URL()+"/_api/replication/regions/ap-south/evict", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: evict: %s", r, resp.Status)
		}
	}
	if err := f.Server("us-east").Repl.Evict("nowhere"); err == nil {
		t.Fatal("evicted an unknown region")
	}
	f.Stop("us-east")
	f.Start("us-east")
	f.publish("eu-west", "e", "west", 0, 5)
	f.waitCount("e", 25, "us-east", "eu-west")
	st, err := f.Server("us-east").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Evicted, []string{"ap-south"}) || len(st.Peers) != 1 || st.Peers[0].Peer != "eu-west" {
		t.Fatalf("after restart: evicted %v, peers %+v", st.Evicted, st.Peers)
	}
	// Stability is no longer pinned at what ap-south had (10 of us-east's).
	for _, r := range []string{"us-east", "eu-west"} {
		f.waitStatus(r, func(st shell.Status) bool { return st.Stable["us-east"] == 20 && st.Stable["eu-west"] == 5 })
	}
}
