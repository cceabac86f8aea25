package segment

import (
	"errors"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// TestSyncMakesNeverDurable: under FsyncNever a power cut loses what was
// appended since the last Sync and keeps everything before it, across a
// roll too; Sync with nothing new is free; Sync after Close fails.
func TestSyncMakesNeverDurable(t *testing.T) {
	fsys := vfs.NewMem()
	l := openLog(t, fsys, Options{Fsync: FsyncNever, SegmentMaxBytes: 4 << 10})
	appendN := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			if _, err := l.Append([]Record{rec(i, 200)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(0, 50) // several segments: the sealed ones are synced by the roll
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	before := l.Metrics().Fsyncs
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := l.Metrics().Fsyncs; got != before {
		t.Errorf("a Sync with nothing appended since the last fsynced %d times", got-before)
	}
	appendN(50, 3)
	crashed := fsys.CrashClone(func(int) int { return 0 })
	c := openLog(t, crashed, Options{Fsync: FsyncNever})
	if c.EndOffset() != 50 {
		t.Errorf("after a power cut: end %d, want the 50 synced records", c.EndOffset())
	}
	c.Close()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	c = openLog(t, fsys.CrashClone(func(int) int { return 0 }), Options{Fsync: FsyncNever})
	if c.EndOffset() != 53 {
		t.Errorf("after Sync and a power cut: end %d, want 53", c.EndOffset())
	}
	c.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v", err)
	}
}
