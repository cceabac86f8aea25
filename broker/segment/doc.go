// Package segment owns the append-only segment log that every persistent
// stream stands on: the on-disk batch format, segment files with their sparse
// offset indexes, group commit with a configurable fsync policy, crash
// recovery, reads, time lookups, retention and trimming (DeleteBelow: whole
// segments below an offset its owner no longer needs).
//
// A log is a directory of segment files named by their base offset
// (%020d.log), each with a sparse index beside it (%020d.index). Records are
// written in CRC32C-protected batches (batch.go); the codec and the index
// format are pure code, the rest is a thin shell over broker/vfs.
//
// Durability. With FsyncAlways (the default) Append returns, and records
// become readable, only after the batch holding them was fsynced; one writer
// goroutine commits everything queued with one write and one fdatasync
// (group commit). The active segment is then preallocated with zeros ahead
// of its end and written in place, so that fdatasync flushes data only: on
// ext4 an fsync after an append also commits the journal and runs several
// times slower (without a journal it allocates blocks and writes the inode,
// still slower). Preallocated space is cut off when a segment is sealed or
// closed, and recovery drops an all-zero tail without counting it as
// damage. With FsyncInterval and FsyncNever records are acknowledged and
// readable once written to the OS, and nothing is preallocated.
//
// Recovery. Under FsyncAlways sealed segments were fsynced before the next
// one was created, so Open only checks their indexes (walking the batch
// headers after the last index entry) and rebuilds a missing or
// inconsistent one by checking every batch; a damaged sealed segment fails
// Open. Under FsyncInterval and FsyncNever a rolled segment is synced behind
// the writer (seal.go), so a crash can leave a sealed segment damaged or
// short: the log is cut there and the later segments removed, as a torn
// tail is. The tail segment is checked batch by batch (CRC and every field)
// and cut after the last good batch. A read error fails Open: it never
// causes a cut.
//
// Failures. A failed write (including a full disk) is undone by truncating
// the segment back to the end of the last good batch; the affected callers
// get the error and later appends go on. If that truncation fails, or an
// fsync fails (after which the kernel may have dropped dirty pages, so what
// is on disk is unknown), the log is marked failed: every later Append
// returns ErrFailed until the log is reopened, which recovers it from disk.
// Reads keep serving what was acknowledged.
//
// Truncation. Truncate removes a closed log's records from an offset on, for
// a replica whose log diverged from its leader's (log shipping inside a
// region). It writes a checksummed marker naming the cut before it removes
// or cuts anything, and Open completes a truncation whose marker it finds,
// so a crash leaves the whole log or exactly the records below the offset.
//
// Payloads stored elsewhere. A record appended with PayloadRef is stored
// without its payload's bytes (their length is kept): its owner keeps the
// payload as operation (Origin, OriginSeq) - a geo-replicated node's
// journals - and every Read and ReadFunc fills it back through
// Options.ResolvePayloads, checking its length, so readers see whole
// records; ReadStored returns records as stored.
package segment
