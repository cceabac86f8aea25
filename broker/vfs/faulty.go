package vfs

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// ErrInjected is the error of an injected write or sync failure.
var ErrInjected = errors.New("vfs: injected fault")

// Injector decides, deterministically, which writes, syncs and reads of a
// faulty FS fail.
// Its methods are safe to call while the FS is in use; counts start from the
// moment a fault is armed. The zero value injects nothing.
type Injector struct {
	mu sync.Mutex

	filter func(name string) bool // nil = every file

	failWriteIn      int // the failWriteIn-th matching write from now fails; 0 = off
	failWriteTorn    int // bytes of that write stored before it fails
	noSpace          bool
	noSpaceLeftBytes int64 // bytes that still fit while noSpace is set
	failSyncIn       int   // the failSyncIn-th matching sync from now fails; 0 = off
	failReadIn       int   // the failReadIn-th matching read from now fails; 0 = off

	writes, syncs, injected int
}

// SetFilter restricts faults (and counts) to the files whose name match
// returns true for; nil means every file. Directory syncs always count.
func (i *Injector) SetFilter(match func(name string) bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.filter = match
}

// FailWrite arms one failure: the nth write from now (1 = the next) stores
// its first tornBytes bytes (0 for none, clamped to the write's length) and
// returns ErrInjected.
func (i *Injector) FailWrite(nth int, tornBytes int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failWriteIn, i.failWriteTorn = nth, max(tornBytes, 0)
}

// NoSpaceAfter fills the disk: from now on only bytes more bytes can be
// written; the write that crosses the limit stores the part that fits and
// returns ENOSPC, as does every later write until Reset.
func (i *Injector) NoSpaceAfter(bytes int64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.noSpace, i.noSpaceLeftBytes = true, max(bytes, 0)
}

// FailSync arms one failure: the nth Sync or SyncDir from now (1 = the next)
// returns ErrInjected without syncing anything.
func (i *Injector) FailSync(nth int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failSyncIn = nth
}

// FailRead arms one failure: the nth ReadAt from now (1 = the next) returns
// ErrInjected without reading.
func (i *Injector) FailRead(nth int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failReadIn = nth
}

// Reset disarms every fault; the counters keep counting.
func (i *Injector) Reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.failWriteIn, i.failWriteTorn, i.noSpace, i.failSyncIn, i.failReadIn = 0, 0, false, 0, 0
}

// Writes returns how many matching writes were attempted.
func (i *Injector) Writes() int { i.mu.Lock(); defer i.mu.Unlock(); return i.writes }

// Syncs returns how many matching syncs were attempted.
func (i *Injector) Syncs() int { i.mu.Lock(); defer i.mu.Unlock(); return i.syncs }

// Injected returns how many faults were injected so far.
func (i *Injector) Injected() int { i.mu.Lock(); defer i.mu.Unlock(); return i.injected }

func (i *Injector) matches(name string) bool { return i.filter == nil || i.filter(name) }

// onWrite decides the fate of a write of n bytes: how many bytes to store
// and the error to return after storing them.
func (i *Injector) onWrite(name string, n int) (int, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.matches(name) {
		return n, nil
	}
	i.writes++
	if i.failWriteIn > 0 {
		i.failWriteIn--
		if i.failWriteIn == 0 {
			i.injected++
			return min(i.failWriteTorn, n), pathErr("write", name, ErrInjected)
		}
	}
	if i.noSpace {
		if int64(n) > i.noSpaceLeftBytes {
			keep := int(i.noSpaceLeftBytes)
			i.noSpaceLeftBytes = 0
			i.injected++
			return keep, pathErr("write", name, syscall.ENOSPC)
		}
		i.noSpaceLeftBytes -= int64(n)
	}
	return n, nil
}

// WriteFate is the fate of a write of n bytes to name on a file system
// other than this package's (Pebble's, see internal/pebblekv): how many
// bytes to store, and the error to return after storing them.
func (i *Injector) WriteFate(name string, n int) (int, error) { return i.onWrite(name, n) }

// SyncFate is the fate of a sync of name on another file system.
func (i *Injector) SyncFate(name string) error { return i.onSync(name, false) }

// SpaceLeft returns the bytes that still fit while NoSpaceAfter is armed
// (limited false when it is not).
func (i *Injector) SpaceLeft() (bytes int64, limited bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.noSpaceLeftBytes, i.noSpace
}

// onRead reports whether a read of name fails.
func (i *Injector) onRead(name string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.matches(name) || i.failReadIn == 0 {
		return nil
	}
	if i.failReadIn--; i.failReadIn == 0 {
		i.injected++
		return pathErr("read", name, ErrInjected)
	}
	return nil
}

// onSync reports whether a sync of name fails.
func (i *Injector) onSync(name string, dir bool) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !dir && !i.matches(name) {
		return nil
	}
	i.syncs++
	if i.failSyncIn > 0 {
		i.failSyncIn--
		if i.failSyncIn == 0 {
			i.injected++
			return pathErr("sync", name, ErrInjected)
		}
	}
	return nil
}

// NewFaulty wraps inner so that inj decides which writes and syncs fail.
func NewFaulty(inner FS, inj *Injector) FS { return &faultyFS{inner: inner, inj: inj} }

type faultyFS struct {
	inner FS
	inj   *Injector
}

type faultyFile struct {
	File
	name string
	inj  *Injector
}

func (f *faultyFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, name: name, inj: f.inj}, nil
}

func (f *faultyFS) Remove(name string) error                    { return f.inner.Remove(name) }
func (f *faultyFS) RemoveAll(name string) error                 { return f.inner.RemoveAll(name) }
func (f *faultyFS) Rename(oldname, newname string) error        { return f.inner.Rename(oldname, newname) }
func (f *faultyFS) MkdirAll(dir string, perm os.FileMode) error { return f.inner.MkdirAll(dir, perm) }
func (f *faultyFS) ReadDir(dir string) ([]string, error)        { return f.inner.ReadDir(dir) }
func (f *faultyFS) Stat(name string) (os.FileInfo, error)       { return f.inner.Stat(name) }

func (f *faultyFS) SyncDir(dir string) error {
	if err := f.inj.onSync(dir, true); err != nil {
		return err
	}
	return f.inner.SyncDir(dir)
}

func (f *faultyFile) Write(p []byte) (int, error) {
	keep, ferr := f.inj.onWrite(f.name, len(p))
	if ferr == nil {
		return f.File.Write(p)
	}
	if keep > 0 {
		n, err := f.File.Write(p[:keep])
		if err != nil {
			return n, err
		}
	}
	return keep, ferr
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	keep, ferr := f.inj.onWrite(f.name, len(p))
	if ferr == nil {
		return f.File.WriteAt(p, off)
	}
	if keep > 0 {
		n, err := f.File.WriteAt(p[:keep], off)
		if err != nil {
			return n, err
		}
	}
	return keep, ferr
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.inj.onRead(f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *faultyFile) Sync() error {
	if err := f.inj.onSync(f.name, false); err != nil {
		return err
	}
	return f.File.Sync()
}
