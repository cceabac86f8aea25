package shell

import (
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/replicator"
)

// TestHeldPublishesKeepTheirOrder: a publish held while the region joins
// is created before one that arrives after the engine stopped joining but
// before the loop's turn released the held ones. Created at once, the
// later one overtook it: an added region's backfill end arrived before its
// streams part, which was then skipped as late (CI,
// TestPinnedFabricListChanges: "pb's sequence 561 after 0").
func TestHeldPublishesKeepTheirOrder(t *testing.T) {
	eng, err := replicator.New(replicator.Config{Self: "a", Regions: []string{"a", "b"}, JoinTimeout: time.Millisecond}, replicator.Restore{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Shell{engine: eng, joining: true, log: zap.NewNop(), records: records{fs: vfs.OS(), dir: t.TempDir()}}
	now := time.Now()
	eng.Tick(now) // the join starts
	if !eng.Joining() {
		t.Fatal("a region that starts with nothing must join")
	}
	var order []string
	pub := func(name string) *pubReq {
		return &pubReq{bodies: [][]byte{[]byte(name)}, opDone: func(_ replicator.Dot, err error) {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}}
	}
	first, second := pub("first"), pub("second")
	s.handlePub(first)
	if len(s.held) != 1 || len(s.own) != 0 {
		t.Fatalf("while joining: %d held, %d created", len(s.held), len(s.own))
	}
	eng.Tick(now.Add(time.Second)) // the join ends (JoinTimeout), no loop turn yet
	if eng.Joining() {
		t.Fatal("still joining after JoinTimeout")
	}
	s.handlePub(second)
	for _, o := range s.own {
		order = append(order, string(o.req.bodies[o.idx]))
		if o.seq != uint64(len(order)) {
			t.Errorf("%s has sequence %d, want %d", order[len(order)-1], o.seq, len(order))
		}
	}
	if len(order) != 2 || order[0] != "first" || order[1] != "second" || len(s.held) != 0 {
		t.Fatalf("created %v (%d still held), want [first second]", order, len(s.held))
	}
}
