package segment

import "fmt"

// Sync makes every record appended before the call durable, whatever the
// log's fsync policy. A log whose durability another log provides (a
// geo-replicated stream under FsyncNever: its records are re-derived from
// the replication journal after a crash) is synced this way before the
// journal's watermark moves past its records. Calls are serialized; one
// that finds the records it covers already synced by another returns at
// once. Safe beside the writer: the fsync runs on the caller's goroutine.
func (l *Log) Sync() error {
	end := l.end.Load()
	if l.syncedEnd.Load() >= end {
		return nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.syncedEnd.Load() >= end {
		return nil
	}
	l.mu.RLock()
	if l.closed || len(l.segs) == 0 {
		l.mu.RUnlock()
		return fmt.Errorf("segment: sync %s: %w", l.dir, ErrClosed)
	}
	// Records below end are in the active segment or in a sealed one,
	// which the writer fsynced when it rolled it, or which the seal in
	// flight syncs (seal.go: at most one; an earlier one has ended).
	end = l.end.Load()
	s := l.segs[len(l.segs)-1]
	s.refs.Add(1)
	l.mu.RUnlock()
	defer s.release()
	l.waitSealed()
	if err := l.failure(); err != nil {
		return fmt.Errorf("segment: sync %s: %w", l.dir, err)
	}
	if err := l.syncFile(s.log); err != nil {
		l.markFailed(fmt.Errorf("fsync %s: %w", s.logPath, err))
		return fmt.Errorf("segment: sync %s: %w", s.logPath, err)
	}
	for {
		cur := l.syncedEnd.Load()
		if cur >= end || l.syncedEnd.CompareAndSwap(cur, end) {
			return nil
		}
	}
}
