package segment

import (
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// TestPreallocationWritesNoZerosUnderData: a commit that outruns the room
// preallocated ahead of it writes no zeros under its data (the data would
// overwrite them before any fdatasync: a copy for nothing), and one larger
// than maxPreallocBytes none past it either (see Log.preallocates).
func TestPreallocationWritesNoZerosUnderData(t *testing.T) {
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(onlyLogs)
	inj.NoSpaceAfter(1 << 40) // counts the bytes written, fails none
	l := openLog(t, vfs.NewFaulty(inner, inj), Options{Fsync: FsyncAlways})
	before, _ := inj.SpaceLeft()
	for _, n := range []int{10, 3000, 2500} { // the large ones outrun the preallocation
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
	// The small commit leaves zeros past its end (under 200 KiB here), the
	// large ones none.
	if limit := size + maxPreallocBytes/4; written > limit {
		t.Fatalf("the log wrote %d bytes for %d bytes of records, want at most %d", written, size, limit)
	}
	if written < size+minPreallocBytes {
		t.Fatalf("the log wrote %d bytes for %d bytes of records: the small commit preallocated nothing", written, size)
	}
	t.Logf("%d bytes written for %d bytes of records", written, size)
}
