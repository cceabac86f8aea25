//go:build !linux

package gctune

// usableMemory is unknown off Linux: the node sets no memory limit there.
func usableMemory() int64 { return 0 }
