package e2e

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
)

// TestGlobalStreamRederivedAtItsOffsets: a global stream is appended
// without fsync (the replication journal makes each message durable once
// per region), so a power cut can lose the stream's tail past the applied
// watermark; the shell re-applies it from the journals. Consumers may have
// read that tail, so it must come back in the order it was first applied:
// the same message at every offset. Simulated here: three regions publish
// at once (remote ops interleave with own ones in an order only the
// arrival decides), then region a loses its watermark and all but the
// first records of its stream, and restarts.
func TestGlobalStreamRederivedAtItsOffsets(t *testing.T) {
	regions := []string{"a", "b", "c"}
	f := newFabric(t, regions, nil)
	const per = 400
	var wg sync.WaitGroup
	errs := make(chan error, len(regions))
	for _, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- publishRange(f.node(r), r, "s", r, 0, per)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.waitCount("s", per*len(regions))
	before := f.records("a", "s")
	f.Stop("a")
	dir := filepath.Join(f.Configs["a"].DataDir, "streams", streamName("s").Tenant, streamName("s").Fabric, "s", "p0")
	const kept = 97
	if err := segment.Truncate(vfs.OS(), dir, kept, segment.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.Configs["a"].DataDir, "repl", "applied.json")); err != nil {
		t.Fatal(err)
	}
	f.Start("a")
	f.waitCount("s", per*len(regions), "a")
	after := f.records("a", "s")
	if len(after) != len(before) {
		t.Fatalf("%d records after the restart, %d before", len(after), len(before))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.Offset != b.Offset || a.Origin != b.Origin || a.OriginSeq != b.OriginSeq || string(a.Payload) != string(b.Payload) {
			t.Fatalf("offset %d held %s:%d %q, after the restart %s:%d %q (at %d)", b.Offset, b.Origin, b.OriginSeq, b.Payload,
				a.Origin, a.OriginSeq, a.Payload, a.Offset)
		}
	}
}
