package e2e

import (
	"os"
	"testing"

	"github.com/causeway/causeway/replicator/shell"
)

// TestWipedRegionRejoins wipes ap-south's disk after every region
// published: on restart it joins, gets every message back (its own
// previous life's from its peers), and its new messages are numbered after
// them, so every region stores each message exactly once.
func TestWipedRegionRejoins(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	f.publish("us-east", "w", "east", 0, 100)
	f.publish("eu-west", "w", "west", 0, 100)
	f.publish("ap-south", "w", "south", 0, 100)
	f.waitCount("w", 300)
	f.Stop("ap-south")
	held := uint64(0) // ap-south's ops its peers have
	for _, r := range []string{"us-east", "eu-west"} {
		st, err := f.Server(r).Repl.Status()
		if err != nil {
			t.Fatal(err)
		}
		held = max(held, st.Delivered["ap-south"])
	}
	if err := os.RemoveAll(f.Configs["ap-south"].DataDir); err != nil {
		t.Fatal(err)
	}
	f.Start("ap-south")
	f.waitStatus("ap-south", func(st shell.Status) bool { return st.Joined })
	st, err := f.Server("ap-south").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if held < 100 || st.Engine.RecoveredOwnOps != held {
		t.Fatalf("ap-south joined with %v (recovered %d), its peers held %d of its ops", st.Delivered, st.Engine.RecoveredOwnOps, held)
	}
	f.waitCount("w", 300, "ap-south")

	f.publish("ap-south", "w", "south", 100, 50)
	f.publish("us-east", "w", "east", 100, 50)
	f.waitCount("w", 400)
	want := map[string][2]int{"east": {0, 150}, "west": {0, 100}, "south": {0, 150}}
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "w"), want)
	}
	for _, r := range []string{"us-east", "eu-west"} {
		st, err := f.Server(r).Repl.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Engine.PeerRegressions == 0 {
			t.Fatalf("%s never saw ap-south go back", r)
		}
	}
}
