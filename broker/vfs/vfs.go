package vfs

import (
	"io"
	"os"
)

// File is an open file. Write writes at the file position (at the end when
// the file was opened with os.O_APPEND); WriteAt writes at an offset and is
// refused on files opened with os.O_APPEND. ReadAt may be called
// concurrently with the writes.
type File interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	io.Closer
	// Sync makes the file's data durable (fdatasync on Linux).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Stat describes the file.
	Stat() (os.FileInfo, error)
}

// FS is a filesystem. Names use the host's path separator.
type FS interface {
	// OpenFile opens name with the os.O_* flags and permission perm.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything below it; a missing name is not
	// an error.
	RemoveAll(name string) error
	// Rename renames oldname to newname, replacing newname if it exists.
	Rename(oldname, newname string) error
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm os.FileMode) error
	// ReadDir returns the names of dir's entries, sorted.
	ReadDir(dir string) ([]string, error)
	// Stat describes a file or directory.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the creations, removals and renames of dir's entries
	// durable.
	SyncDir(dir string) error
}
