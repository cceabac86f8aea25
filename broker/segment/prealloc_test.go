package segment

import (
	"syscall"
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

// TestNearlyFullDiskTakesCommitsThatFit: on a disk with room for a
// commit's data but not for the zeros preallocated past it, the commit is
// taken (the zeros only speed up later fdatasyncs) and survives a reopen
// and a crash; the next commit that does not fit is refused and the log
// goes on once there is room again.
func TestNearlyFullDiskTakesCommitsThatFit(t *testing.T) {
	big := make([]Record, 2000) // outruns any room preallocated ahead (at most 1 MiB)
	for i := range big {
		big[i] = rec(10+i, 1024)
	}
	opts := Options{Fsync: FsyncAlways}
	// The bytes the big commit's data takes, measured on a log of its own.
	probe := openLog(t, vfs.NewMem(), opts)
	appendN(t, probe, 0, 10, 1024)
	sizeBefore := probe.Size()
	if _, err := probe.Append(big); err != nil {
		t.Fatal(err)
	}
	dataBytes := probe.Size() - sizeBefore
	probe.Close()

	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(onlyLogs)
	l := openLog(t, vfs.NewFaulty(inner, inj), opts)
	want := appendN(t, l, 0, 10, 1024)
	inj.NoSpaceAfter(dataBytes + 100)
	first, err := l.Append(big)
	if err != nil {
		t.Fatalf("a commit whose data fits was refused: %v", err)
	}
	for i := range big {
		r := big[i]
		r.Offset = first + uint64(i)
		want = append(want, r)
	}
	if l.Metrics().Failed {
		t.Fatal("the log failed")
	}
	_, err = l.Append([]Record{rec(5000, 1024)})
	mustErr(t, err, syscall.ENOSPC)
	if err := sameRecords(readAll(t, l), want); err != nil {
		t.Fatal(err)
	}
	inj.Reset()
	want = append(want, appendN(t, l, len(want), 10, 1024)...)
	reopenExact(t, l, inner, opts, want)
}
