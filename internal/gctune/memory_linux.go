package gctune

import (
	"os"

	"golang.org/x/sys/unix"
)

// usableMemory is the machine's memory, or the process's cgroup limit when
// lower (v2, then v1); 0 when unknown.
func usableMemory() int64 {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		return 0
	}
	total := int64(info.Totalram) * int64(info.Unit)
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			if limit, ok := parseCgroupLimit(string(b)); ok && limit < total {
				total = limit
			}
		}
	}
	return total
}
