package segment

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// bases returns the base offsets of l's segments.
func bases(l *Log) []uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]uint64, len(l.segs))
	for i, s := range l.segs {
		out[i] = s.base
	}
	return out
}

func TestDeleteBelow(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 1000}
	l := openLog(t, fsys, opts)
	want := appendN(t, l, 0, 100, 50)
	segs := bases(l)
	if len(segs) < 5 {
		t.Fatalf("only %d segments", len(segs))
	}
	for _, tc := range []struct {
		name      string
		offset    uint64
		wantStart uint64
	}{
		{"below the start", 0, 0},
		{"inside the first segment", segs[1] - 1, 0},
		{"at a boundary", segs[2], segs[2]},
		{"inside a later segment", segs[3] + 1, segs[3]},
		{"again, lower", segs[1], segs[3]},
		{"past the end: the active segment stays", 1 << 40, segs[len(segs)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.StartOffset()
			if got := l.WholeSegmentsBelow(tc.offset); got != tc.wantStart {
				t.Fatalf("WholeSegmentsBelow(%d) = %d, want %d", tc.offset, got, tc.wantStart)
			}
			removed, err := l.DeleteBelow(tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			start := l.StartOffset()
			if start != tc.wantStart || (removed > 0) != (start > before) {
				t.Fatalf("DeleteBelow(%d) removed %d: start %d, want %d", tc.offset, removed, start, tc.wantStart)
			}
			if start > 0 {
				_, err := l.Read(start-1, 1, 1)
				mustErr(t, err, ErrOffsetOutOfRange)
			}
			if err := sameRecords(readAll(t, l), want[start:]); err != nil {
				t.Fatal(err)
			}
			names, _ := fsys.ReadDir(testDir)
			if n := l.Metrics().Segments; len(names) != 2*n {
				t.Fatalf("files %v for %d segments", names, n)
			}
		})
	}
	if m := l.Metrics(); m.SegmentsDeleted != uint64(len(segs)-1) || m.Segments != 1 {
		t.Fatalf("metrics %+v after deleting %d segments", m, len(segs)-1)
	}
	// Appends go on, and a reopen (after a crash too) sees the same log.
	want = append(want, appendN(t, l, 100, 10, 50)...)
	start := l.StartOffset()
	reopenExact(t, l, fsys, opts, want[start:])
}

// crashFS takes a crash image of inner just before the crashAt-th removal
// or directory sync (counting from 1), then fails every change.
type crashFS struct {
	vfs.FS
	inner   *vfs.MemFS
	crashAt int

	mu      sync.Mutex
	ops     int
	crashed *vfs.MemFS
}

func (c *crashFS) step() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed != nil {
		return vfs.ErrInjected
	}
	c.ops++
	if c.ops == c.crashAt {
		c.crashed = c.inner.CrashClone(nil)
		return vfs.ErrInjected
	}
	return nil
}

func (c *crashFS) Remove(name string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.Remove(name)
}

func (c *crashFS) SyncDir(dir string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.SyncDir(dir)
}

// TestDeleteBelowCrash crashes DeleteBelow at every removal and directory
// sync: the crash image always opens as a contiguous log starting at a
// segment base between the old start and the requested offset, with every
// record from there on.
func TestDeleteBelowCrash(t *testing.T) {
	opts := Options{SegmentMaxBytes: 1000}
	for crashAt := 1; ; crashAt++ {
		inner := vfs.NewMem()
		cfs := &crashFS{FS: inner, inner: inner}
		l := openLog(t, cfs, opts)
		want := appendN(t, l, 0, 60, 50)
		segs := bases(l)
		below := segs[len(segs)-2] // every sealed segment but the last
		cfs.mu.Lock()
		cfs.crashAt = cfs.ops + crashAt
		cfs.mu.Unlock()
		_, err := l.DeleteBelow(below)
		cfs.mu.Lock()
		img := cfs.crashed
		cfs.mu.Unlock()
		if img == nil {
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			if crashAt < 3 {
				t.Fatalf("DeleteBelow finished after %d steps", crashAt-1)
			}
			return
		}
		if !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("crash at step %d: DeleteBelow returned %v", crashAt, err)
		}
		// The running log still serves what it kept.
		if err := sameRecords(readAll(t, l), want[l.StartOffset():]); err != nil {
			t.Fatalf("crash at step %d: running log: %v", crashAt, err)
		}
		l.Close()
		r, err := Open(img, testDir, opts)
		if err != nil {
			t.Fatalf("crash at step %d: the crash image does not open: %v", crashAt, err)
		}
		start := r.StartOffset()
		ok := false
		for _, b := range segs {
			ok = ok || (b == start && b <= below)
		}
		if !ok || r.EndOffset() != 60 {
			t.Fatalf("crash at step %d: log [%d, %d), want a start among %v up to %d", crashAt, start, r.EndOffset(), segs, below)
		}
		if err := sameRecords(readAll(t, r), want[start:]); err != nil {
			t.Fatalf("crash at step %d: %v", crashAt, err)
		}
		// Trimming the reopened log finishes the job.
		if _, err := r.DeleteBelow(below); err != nil || r.StartOffset() != below {
			t.Fatalf("crash at step %d: DeleteBelow after reopen: start %d, %v", crashAt, r.StartOffset(), err)
		}
		r.Close()
	}
}

// failRemoveFS fails removals of one file.
type failRemoveFS struct {
	vfs.FS
	name string
}

func (f failRemoveFS) Remove(name string) error {
	if name == f.name {
		return fmt.Errorf("remove %s: %w", name, vfs.ErrInjected)
	}
	return f.FS.Remove(name)
}

// TestDeleteBelowRemoveFails: a removal that fails stops the deletion; the
// running log goes on from its new start, and the files left behind come
// back, contiguous, at the next Open, to be deleted again.
func TestDeleteBelowRemoveFails(t *testing.T) {
	inner := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 1000}
	l0 := openLog(t, inner, opts)
	want := appendN(t, l0, 0, 60, 50)
	segs := bases(l0)
	l0.Close()
	l := openLog(t, failRemoveFS{FS: inner, name: logName(testDir, segs[1])}, opts)
	below := segs[3]
	removed, err := l.DeleteBelow(below)
	if !errors.Is(err, vfs.ErrInjected) || removed != 1 {
		t.Fatalf("DeleteBelow = %d, %v; want 1 segment removed and the injected error", removed, err)
	}
	if l.StartOffset() != below {
		t.Fatalf("running log starts at %d, want %d", l.StartOffset(), below)
	}
	want = append(want, appendN(t, l, 60, 5, 50)...)
	if err := sameRecords(readAll(t, l), want[below:]); err != nil {
		t.Fatal(err)
	}
	l.Close()
	r := openLog(t, inner, opts)
	defer r.Close()
	if r.StartOffset() != segs[1] {
		t.Fatalf("reopened log starts at %d, want %d (the segment whose removal failed)", r.StartOffset(), segs[1])
	}
	if err := sameRecords(readAll(t, r), want[segs[1]:]); err != nil {
		t.Fatal(err)
	}
	if n, err := r.DeleteBelow(below); err != nil || n != 2 || r.StartOffset() != below {
		t.Fatalf("second DeleteBelow = %d, %v, start %d", n, err, r.StartOffset())
	}
}

func TestDeleteBelowClosed(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{})
	l.Close()
	if _, err := l.DeleteBelow(10); !errors.Is(err, ErrClosed) {
		t.Fatalf("DeleteBelow on a closed log: %v", err)
	}
}
