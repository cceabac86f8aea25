package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// testKind is a kind of op only this test uses (every node's collections
// service registers shell.KindCollectionOp).
const testKind shell.Kind = 9

// TestRegisteredKindReplicates replicates ops of a registered kind (what
// collections will use): each region's apply function sees every op once,
// local ones included, in each origin's order.
func TestRegisteredKindReplicates(t *testing.T) {
	f := newFabric(t, threeRegions, nil)
	var mu sync.Mutex
	seen := map[string][]string{} // region -> "origin:seq:payload"
	changed := make(chan struct{}, 100)
	for _, r := range threeRegions {
		err := f.Server(r).Repl.RegisterKind(testKind, func(origin string, seq uint64, payload []byte) error {
			mu.Lock()
			seen[r] = append(seen[r], fmt.Sprintf("%s:%d:%s", origin, seq, payload))
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Server("us-east").Repl.RegisterKind(shell.KindStreamMessage, func(string, uint64, []byte) error { return nil }); err == nil {
		t.Fatal("registered the stream message kind")
	}
	done := make(chan replicator.Dot, 10)
	for i := range 5 {
		f.Server("eu-west").Repl.PublishOp(testKind, []byte(fmt.Sprintf("op%d", i)), func(d replicator.Dot, err error) {
			if err != nil {
				t.Error(err)
			}
			done <- d
		})
	}
	for i := range 5 {
		if d := <-done; d.Origin != "eu-west" || d.Seq != uint64(i+1) {
			t.Fatalf("dot %v", d)
		}
	}
	f.waitStatus("us-east", func(st shell.Status) bool { return st.Delivered["eu-west"] == 5 })
	f.waitStatus("ap-south", func(st shell.Status) bool { return st.Delivered["eu-west"] == 5 })
	deadline := time.After(waitTimeout)
	for {
		mu.Lock()
		ok := len(seen["us-east"]) == 5 && len(seen["ap-south"]) == 5 && len(seen["eu-west"]) == 5
		mu.Unlock()
		if ok {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("applied: %v", seen)
		}
	}
	for _, r := range threeRegions {
		for i, s := range seen[r] {
			if want := fmt.Sprintf("eu-west:%d:op%d", i+1, i); s != want {
				t.Fatalf("%s: op %d is %q, want %q", r, i, s, want)
			}
		}
	}
}
