package segment

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// truncLog writes n records in appends of 1-7 records to a log with small
// segments, so that cuts fall at batch starts, inside batches and at
// segment bases; it returns the records written.
func truncLog(t *testing.T, fsys vfs.FS, dir string, n int) []Record {
	t.Helper()
	l, err := Open(fsys, dir, Options{SegmentMaxBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var all []Record
	for len(all) < n {
		k := min(1+len(all)%7, n-len(all))
		recs := make([]Record, k)
		for i := range recs {
			recs[i] = Record{Payload: []byte(fmt.Sprintf("record %d %0200d", len(all)+i, 0)), PublishTime: int64(len(all) + i)}
		}
		if _, err := l.Append(recs); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return all
}

// checkLog opens the log and checks it holds exactly want's first n
// records, and that the next append gets offset n.
func checkLog(t *testing.T, fsys vfs.FS, dir string, want []Record, n int) {
	t.Helper()
	l, err := Open(fsys, dir, Options{SegmentMaxBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.EndOffset() != uint64(n) {
		t.Fatalf("end %d, want %d", l.EndOffset(), n)
	}
	for off := uint64(0); off < uint64(n); {
		recs, err := l.Read(off, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if string(r.Payload) != string(want[r.Offset].Payload) || r.Offset != off {
				t.Fatalf("offset %d holds %q", r.Offset, r.Payload)
			}
			off++
		}
	}
	first, err := l.Append([]Record{{Payload: []byte("after"), PublishTime: 1}})
	if err != nil || first != uint64(n) {
		t.Fatalf("append after truncation: offset %d, %v; want %d", first, err, n)
	}
}

func TestTruncate(t *testing.T) {
	const n = 100
	for _, offset := range []uint64{0, 1, 2, 3, 7, 20, 21, 50, 98, 99, 100, 150} {
		t.Run(fmt.Sprint(offset), func(t *testing.T) {
			fsys := vfs.NewMem()
			recs := truncLog(t, fsys, "/log", n)
			if err := Truncate(fsys, "/log", offset, Options{SegmentMaxBytes: 4 << 10}); err != nil {
				t.Fatal(err)
			}
			checkLog(t, fsys, "/log", recs, int(min(offset, n)))
		})
	}
}

func TestTruncateBelowStartRefused(t *testing.T) {
	fsys := vfs.NewMem()
	truncLog(t, fsys, "/log", 100)
	l, err := Open(fsys, "/log", Options{SegmentMaxBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.DeleteBelow(60); err != nil {
		t.Fatal(err)
	}
	start := l.StartOffset()
	l.Close()
	if start == 0 {
		t.Fatal("no segment was deleted")
	}
	if err := Truncate(fsys, "/log", start-1, Options{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("truncate below the start: %v", err)
	}
}

// powerCutFS fails every mutating operation from the nth on, after taking the
// power-cut view of the filesystem just before it.
type powerCutFS struct {
	*vfs.MemFS
	n, ops  int
	crashed *vfs.MemFS
}

var errPowerCut = errors.New("crash")

func (c *powerCutFS) op() error {
	c.ops++
	if c.ops == c.n {
		c.crashed = c.MemFS.CrashClone(nil)
	}
	if c.ops >= c.n {
		return errPowerCut
	}
	return nil
}

func (c *powerCutFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
		if err := c.op(); err != nil {
			return nil, err
		}
	}
	f, err := c.MemFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &powerCutFile{File: f, fs: c}, nil
}
func (c *powerCutFS) Remove(name string) error {
	if err := c.op(); err != nil {
		return err
	}
	return c.MemFS.Remove(name)
}
func (c *powerCutFS) Rename(a, b string) error {
	if err := c.op(); err != nil {
		return err
	}
	return c.MemFS.Rename(a, b)
}
func (c *powerCutFS) SyncDir(dir string) error {
	if err := c.op(); err != nil {
		return err
	}
	return c.MemFS.SyncDir(dir)
}

type powerCutFile struct {
	vfs.File
	fs *powerCutFS
}

func (f *powerCutFile) Write(p []byte) (int, error) {
	if err := f.fs.op(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}
func (f *powerCutFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.op(); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}
func (f *powerCutFile) Truncate(size int64) error {
	if err := f.fs.op(); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
func (f *powerCutFile) Sync() error {
	if err := f.fs.op(); err != nil {
		return err
	}
	return f.File.Sync()
}

// TestTruncateCrash cuts the power before each mutating step of a
// truncation: reopened, the log holds every record or exactly those below
// the offset, never anything else.
func TestTruncateCrash(t *testing.T) {
	const n = 100
	for _, offset := range []uint64{0, 21, 50, 99} {
		for step := 1; ; step++ {
			mem := vfs.NewMem()
			recs := truncLog(t, mem, "/log", n)
			c := &powerCutFS{MemFS: mem, n: step}
			err := Truncate(c, "/log", offset, Options{SegmentMaxBytes: 4 << 10})
			if c.crashed == nil {
				if err != nil {
					t.Fatalf("offset %d, no crash: %v", offset, err)
				}
				checkLog(t, mem, "/log", recs, int(offset))
				break
			}
			l, err := Open(c.crashed, "/log", Options{SegmentMaxBytes: 4 << 10})
			if err != nil {
				t.Fatalf("offset %d, crash before step %d: reopen: %v", offset, step, err)
			}
			end := l.EndOffset()
			l.Close()
			if end != n && end != offset {
				t.Fatalf("offset %d, crash before step %d: the log ends at %d", offset, step, end)
			}
			checkLog(t, c.crashed, "/log", recs, int(end))
		}
	}
}

func FuzzDecodeMarker(f *testing.F) {
	f.Add(marker{base: 7, cutPos: 100, prefix: []byte("abc")}.encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMarker(b)
		if err != nil {
			return
		}
		if string(m.encode()) != string(b) {
			t.Fatalf("round trip differs")
		}
	})
}
