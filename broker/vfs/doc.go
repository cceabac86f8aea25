// Package vfs is the seam between Causeway's storage code and the disk.
//
// Every file the segment log touches goes through the FS interface, so tests
// can swap the real disk (OS) for an in-memory filesystem that remembers which
// bytes were synced (NewMem, whose CrashClone shows the disk as it would be
// after a power cut) or wrap any FS in deterministic fault injection
// (NewFaulty: failed and torn writes, a full disk, failed fsyncs).
//
// The package owns nothing else: no caching, no buffering, no logging.
package vfs
