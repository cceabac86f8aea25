package segment

import (
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// EnforceRetention deletes whole oldest segments while the log is larger
// than RetentionBytes or while their newest record is older than
// RetentionAge before nowMs (Unix milliseconds). The active segment is never
// deleted, and only a prefix of the log goes, so StartOffset just moves up.
// Reads in flight on a deleted segment finish normally.
func (l *Log) EnforceRetention(nowMs int64) (removedSegments int, err error) {
	l.retentionMu.Lock()
	defer l.retentionMu.Unlock()
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
	var victims []*segment
	for len(l.segs) > 1 {
		s := l.segs[0]
		bySize := l.opts.RetentionBytes > 0 && total > l.opts.RetentionBytes
		byAge := l.opts.RetentionAge > 0 && s.maxTime < cutoff
		if !bySize && !byAge {
			break
		}
		victims = append(victims, s)
		total -= s.size + s.idxBytes.Load()
		l.segs[0] = nil
		l.segs = l.segs[1:]
	}
	start := l.segs[0].base
	l.mu.Unlock()
	if len(victims) == 0 {
		return 0, nil
	}

	var errs []error
	for _, s := range victims {
		for _, path := range []string{s.logPath, s.idxPath} {
			if err := l.fs.Remove(path); err != nil {
				errs = append(errs, err)
			}
		}
		s.release()
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		errs = append(errs, err)
	}
	l.m.segmentsDeleted.Add(uint64(len(victims)))
	l.logger.Info("retention deleted segments", zap.Int("segments", len(victims)),
		zap.Uint64("start", start), zap.Int64("bytes", total))
	if err := errors.Join(errs...); err != nil {
		return len(victims), fmt.Errorf("segment: retention: %w", err)
	}
	return len(victims), nil
}
