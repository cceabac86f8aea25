package segment

import (
	"errors"
	"fmt"
	"io/fs"

	"go.uber.org/zap"
)

// EnforceRetention deletes whole oldest segments while the log is larger
// than RetentionBytes or while their newest record is older than
// RetentionAge before nowMs (Unix milliseconds). The active segment is never
// deleted, and only a prefix of the log goes, so StartOffset just moves up.
// Reads in flight on a deleted segment finish normally.
func (l *Log) EnforceRetention(nowMs int64) (removedSegments int, err error) {
	l.deleteMu.Lock()
	defer l.deleteMu.Unlock()
	cutoff := nowMs - l.opts.RetentionAge.Milliseconds()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	var total int64
	for _, s := range l.segs {
		total += s.size + s.idxBytes.Load()
	}
	n := 0
	for ; n < len(l.segs)-1; n++ {
		s := l.segs[n]
		bySize := l.opts.RetentionBytes > 0 && total > l.opts.RetentionBytes
		byAge := l.opts.RetentionAge > 0 && s.maxTime < cutoff
		if !bySize && !byAge {
			break
		}
		total -= s.size + s.idxBytes.Load()
	}
	victims, start := l.detachOldestLocked(n)
	l.mu.Unlock()
	if len(victims) == 0 {
		return 0, nil
	}
	removed, err := l.removeSegments(victims)
	l.logger.Info("retention deleted segments", zap.Int("segments", removed),
		zap.Uint64("start", start), zap.Int64("bytes", total))
	if err != nil {
		return removed, fmt.Errorf("segment: retention: %w", err)
	}
	return removed, nil
}

// detachOldestLocked takes the n oldest segments out of the log (never the
// active one) and returns them with the new StartOffset. Callers hold mu
// and deleteMu, and then remove the victims' files with removeSegments.
func (l *Log) detachOldestLocked(n int) (victims []*segment, start uint64) {
	n = min(n, len(l.segs)-1)
	if n > 0 {
		victims = append(victims, l.segs[:n]...)
		clear(l.segs[:n])
		l.segs = l.segs[n:]
	}
	return victims, l.segs[0].base
}

// removeSegments deletes the files of detached segments, oldest first,
// syncing the directory after each segment so that no removal becomes
// durable before the removals of the segments below it: a crash at any
// point leaves a contiguous log (an index without its segment is removed
// by Open). It stops at the first failure; the files of the segments not
// removed stay and come back, contiguous with the rest, at the next Open.
// Every victim's reference is released (reads in flight keep theirs).
func (l *Log) removeSegments(victims []*segment) (removed int, err error) {
	for _, s := range victims {
		if err == nil {
			for _, path := range []string{s.logPath, s.idxPath} {
				if rerr := l.fs.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
					err = rerr
				}
			}
			if err == nil {
				err = l.fs.SyncDir(l.dir)
			}
			if err == nil {
				removed++
			}
		}
		s.release()
	}
	l.m.segmentsDeleted.Add(uint64(removed))
	return removed, err
}
