package segment

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

// gatedFS holds every Sync of a segment log file while its gate is shut.
type gatedFS struct {
	vfs.FS
	mu      sync.Mutex
	gate    chan struct{} // nil: syncs pass
	waiting chan struct{} // signalled when a sync starts waiting
}

func (g *gatedFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &gatedFile{File: f, fs: g}, nil
}

func (g *gatedFS) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedFS) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

type gatedFile struct {
	vfs.File
	fs *gatedFS
}

func (f *gatedFile) Sync() error {
	f.fs.mu.Lock()
	gate := f.fs.gate
	f.fs.mu.Unlock()
	if gate != nil {
		select {
		case f.fs.waiting <- struct{}{}:
		default:
		}
		<-gate
	}
	return f.File.Sync()
}

// TestIntervalSyncDoesNotHoldAppends: with FsyncInterval, the ticker's
// fsync runs beside the writer, so appends keep completing while it takes
// its time; Close waits for it and fsyncs what came after.
func TestIntervalSyncDoesNotHoldAppends(t *testing.T) {
	fsys := &gatedFS{FS: vfs.NewMem(), waiting: make(chan struct{}, 1)}
	opts := Options{Fsync: FsyncInterval, FsyncInterval: time.Millisecond}
	l := openLog(t, fsys, opts)
	fsys.shut()
	t.Cleanup(fsys.open)
	want := appendN(t, l, 0, 1, 100) // dirty: the next tick syncs
	select {
	case <-fsys.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("no interval fsync started")
	}
	// The interval fsync is stuck; appends must not wait for it.
	done := make(chan error, 1)
	var more []Record
	go func() {
		for i := 1; i <= 20; i++ {
			r := rec(i, 100)
			off, err := l.Append([]Record{r})
			if err != nil {
				done <- err
				return
			}
			r.Offset = off
			more = append(more, r)
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, more...)
	case <-time.After(10 * time.Second):
		t.Fatal("appends wait for the interval fsync")
	}
	if m := l.Metrics(); m.Failed {
		t.Fatal("log failed")
	}
	fsys.open()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := openLog(t, fsys.FS, opts)
	defer r.Close()
	if err := sameRecords(readAll(t, r), want); err != nil {
		t.Fatal(err)
	}
}
