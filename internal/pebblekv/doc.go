// Package pebblekv opens a Pebble database that survives a full disk.
//
// Pebble treats a failed WAL write as fatal: it calls its Logger's Fatalf
// (the default exits the process), and a database whose WAL failed must not
// be written again (the next memtable rotation panics with a mutex held).
// A DB here therefore:
//
//   - gives Pebble a Logger whose Fatalf never exits: on the commit path it
//     panics with a private value that the write turns back into an error;
//     elsewhere (a flush or compaction) it marks the store failed and
//     returns;
//   - refuses writes (ErrWritesRefused, wrapping the cause, e.g. ENOSPC)
//     from the first failure on, or while the disk has less than
//     Options.ReserveBytes free, without touching Pebble; reads go on;
//   - opens read-only when it cannot open for writing (a node restarted on a
//     full disk serves reads and says why writes are refused, once);
//   - probes the disk in the background and, when space is back, closes and
//     reopens the database (the WAL replay decides what a failed write left:
//     its outcome is unknown, so callers answer it as retryable), after
//     which writes resume by themselves.
//
// Reads, iterators, snapshots and batches hold a reference on the open
// database; a reopen waits (bounded) for them to be closed.
//
// Every store of a node (the broker's metadata: registry, cursors, API keys;
// collections; SPOT) opens through here, and Health reports its state for
// /health.
package pebblekv
