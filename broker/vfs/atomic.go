package vfs

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data durably: it writes a temporary
// file beside it, fsyncs it, renames it over path and fsyncs the directory,
// so after a crash path holds either its old content or data, whole.
func WriteFileAtomic(fsys FS, path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return fmt.Errorf("vfs: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err == nil {
		err = fsys.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("vfs: write %s: %w", path, err)
	}
	return nil
}
