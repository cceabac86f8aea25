package pebblekv

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// SpaceError says why a write to dir should be refused for want of space:
// the disk has less than reserve bytes free (0: DefaultReserveBytes, at
// most an eighth of the disk; negative: never). nil when there is room or
// the disk cannot be asked. fs nil is the disk. For stores outside this
// package (SPOT's Raft log, which ends the process on a failed write).
func SpaceError(fs vfs.FS, dir string, reserve int64) error {
	if reserve < 0 {
		return nil
	}
	if fs == nil {
		fs = vfs.Default
	}
	u, err := fs.GetDiskUsage(dir)
	if err != nil {
		return nil
	}
	r := uint64(reserve)
	if r == 0 {
		r = min(DefaultReserveBytes, u.TotalBytes/8)
	}
	if u.AvailBytes < r {
		return fmt.Errorf("%w: %d bytes free, %d reserved", ErrLowSpace, u.AvailBytes, r)
	}
	return nil
}
