package shell

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/causeway/causeway/broker/vfs"
)

// joinMarkFile exists in the replication directory while the region is
// joining (replicator.Engine.Joining). A region that crashes while it gets
// its own ops back has some of them journaled, so its journals no longer
// look fresh; the marker makes the next start join again instead of
// numbering new ops after a partial history.
const joinMarkFile = "joining"

// hasJoinMark reports whether the marker exists.
func hasJoinMark(fsys vfs.FS, dir string) (bool, error) {
	_, err := fsys.Stat(filepath.Join(dir, joinMarkFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("shell: join marker: %w", err)
	}
}

// setJoinMark creates (on) or removes (off) the marker durably.
func setJoinMark(fsys vfs.FS, dir string, on bool) error {
	name := filepath.Join(dir, joinMarkFile)
	var err error
	if on {
		var f vfs.File
		if f, err = fsys.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			err = f.Close()
		}
	} else if err = fsys.Remove(name); errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err == nil {
		err = fsys.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("shell: join marker: %w", err)
	}
	return nil
}
