package segment

import (
	"fmt"

	"go.uber.org/zap"
)

// Trimming. A log whose owner knows that a prefix of it is no longer
// needed (a collection's op log once its ops are in the view and causally
// stable) deletes the whole segments lying below an offset. Like retention
// it removes only a prefix, never the active segment, and keeps reads in
// flight working; a segment that holds the offset itself stays whole.

// WholeSegmentsBelow returns the StartOffset DeleteBelow(offset) would
// leave: the base of the oldest segment that holds a record at or past
// offset, or of the active segment (StartOffset itself when nothing would
// go).
func (l *Log) WholeSegmentsBelow(offset uint64) uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[l.countBelowLocked(offset)].base
}

// countBelowLocked counts the oldest segments whose records all lie below
// offset, the active segment excluded. Callers hold mu.
func (l *Log) countBelowLocked(offset uint64) int {
	n := 0
	for n < len(l.segs)-1 && l.segs[n].next <= offset {
		n++
	}
	return n
}

// DeleteBelow deletes the oldest whole segments whose records all lie below
// offset (the active segment never) and returns how many it removed;
// StartOffset moves up to at most offset. It is crash-safe: segments are
// removed oldest first and each removal is made durable before the next,
// so a crash at any point leaves a log that opens, starting at one of the
// segment bases between the old StartOffset and the new one. On an error
// the segments already detached are gone from the running log, and those
// whose files could not be removed come back at the next Open.
func (l *Log) DeleteBelow(offset uint64) (removedSegments int, err error) {
	l.deleteMu.Lock()
	defer l.deleteMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	victims, start := l.detachOldestLocked(l.countBelowLocked(offset))
	l.mu.Unlock()
	if len(victims) == 0 {
		return 0, nil
	}
	removed, err := l.removeSegments(victims)
	l.logger.Info("trim deleted segments", zap.Int("segments", removed),
		zap.Uint64("below", offset), zap.Uint64("start", start))
	if err != nil {
		return removed, fmt.Errorf("segment: delete below %d: %w", offset, err)
	}
	return removed, nil
}
