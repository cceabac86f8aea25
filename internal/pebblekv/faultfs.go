package pebblekv

import (
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"

	bvfs "github.com/causeway/causeway/broker/vfs"
)

// FaultFS returns inner (nil: the disk) with its writes and syncs decided
// by inj, the injector of the broker's faulty file system: a test fills the
// disk of every store and log of a node with one injector. Free space (for
// the reserve check) is what inj leaves while NoSpaceAfter is armed.
func FaultFS(inner vfs.FS, inj *bvfs.Injector) vfs.FS {
	if inner == nil {
		inner = vfs.Default
	}
	return &faultFS{FS: inner, inj: inj}
}

type faultFS struct {
	vfs.FS
	inj *bvfs.Injector
}

func (f *faultFS) wrap(name string, file vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, name: name, inj: f.inj}, nil
}

func (f *faultFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, c)
	return f.wrap(name, file, err)
}

func (f *faultFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	file, err := f.FS.OpenReadWrite(name, c, opts...)
	return f.wrap(name, file, err)
}

func (f *faultFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.ReuseForWrite(oldname, newname, c)
	return f.wrap(newname, file, err)
}

func (f *faultFS) GetDiskUsage(path string) (vfs.DiskUsage, error) {
	u, err := f.FS.GetDiskUsage(path)
	if left, limited := f.inj.SpaceLeft(); limited {
		u.AvailBytes = uint64(left)
		err = nil
	}
	return u, err
}

func (f *faultFS) Unwrap() vfs.FS { return f.FS }

type faultFile struct {
	vfs.File
	name string
	inj  *bvfs.Injector
}

func (f *faultFile) Write(p []byte) (int, error) {
	keep, ferr := f.inj.WriteFate(f.name, len(p))
	if ferr == nil {
		return f.File.Write(p)
	}
	if keep > 0 {
		if n, err := f.File.Write(p[:keep]); err != nil {
			return n, err
		}
	}
	return keep, ferr
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	keep, ferr := f.inj.WriteFate(f.name, len(p))
	if ferr == nil {
		return f.File.WriteAt(p, off)
	}
	if keep > 0 {
		if n, err := f.File.WriteAt(p[:keep], off); err != nil {
			return n, err
		}
	}
	return keep, ferr
}

func (f *faultFile) Preallocate(off, n int64) error {
	if left, limited := f.inj.SpaceLeft(); limited && n > left {
		return &syscallErr{op: "fallocate", name: f.name, err: syscall.ENOSPC}
	}
	return f.File.Preallocate(off, n)
}

func (f *faultFile) Sync() error {
	if err := f.inj.SyncFate(f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) SyncData() error {
	if err := f.inj.SyncFate(f.name); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *faultFile) SyncTo(length int64) (bool, error) {
	if err := f.inj.SyncFate(f.name); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}

// syscallErr is an *os.PathError look-alike for injected errors.
type syscallErr struct {
	op, name string
	err      error
}

func (e *syscallErr) Error() string { return e.op + " " + e.name + ": " + e.err.Error() }
func (e *syscallErr) Unwrap() error { return e.err }
