package segment

import (
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// TestPreallocationWritesNoZerosUnderData: a commit larger than the room
// preallocated ahead of it writes its data, then zeros past its end only.
// Zeros written under the data before it were copied for nothing: the data
// overwrote them before any fdatasync, so the disk never saw them, but the
// copy cost as much CPU as the data's own.
func TestPreallocationWritesNoZerosUnderData(t *testing.T) {
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(onlyLogs)
	inj.NoSpaceAfter(1 << 40) // counts the bytes written, fails none
	l := openLog(t, vfs.NewFaulty(inner, inj), Options{Fsync: FsyncAlways})
	before, _ := inj.SpaceLeft()
	for _, n := range []int{10, 3000, 2, 2500} { // the large ones outrun the preallocation
		recs := make([]Record, n)
		for i := range recs {
			recs[i] = rec(i, 1024)
		}
		if _, err := l.Append(recs); err != nil {
			t.Fatal(err)
		}
	}
	size := l.Size()
	if err := l.Close(); err != nil { // after the last preallocation
		t.Fatal(err)
	}
	after, _ := inj.SpaceLeft()
	written := before - after
	// Each commit may leave up to maxPreallocBytes of zeros past its end,
	// which the next one overwrites (on disk, after they were synced).
	if limit := size + 4*maxPreallocBytes; written > limit {
		t.Fatalf("the log wrote %d bytes for %d bytes of records, want at most %d", written, size, limit)
	}
	t.Logf("%d bytes written for %d bytes of records", written, size)
}
