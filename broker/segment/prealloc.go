package segment

import (
	"fmt"

	"go.uber.org/zap"
)

// preallocate extends s's file with zeros past end, by as much as it holds
// already (within [minPreallocBytes, maxPreallocBytes] and, past need, the
// segment's size limit). Overwriting blocks that were written and synced
// makes fdatasync a pure data flush: on ext4 an fsync after an append costs
// a journal commit and runs several times slower, and without a journal it
// allocates blocks and writes the inode (still ~15 % more CPU per message
// and ~15 % less throughput, README "The Kafka path").
func (l *Log) preallocate(s *segment, end int64) error {
	grow := min(max(end, minPreallocBytes), maxPreallocBytes)
	target := max(end, min(end+grow, l.opts.SegmentMaxBytes))
	if l.zeros == nil {
		l.zeros = make([]byte, zeroChunkBytes)
	}
	for pos := s.allocEnd; pos < target; {
		n := min(target-pos, zeroChunkBytes)
		if _, err := s.log.WriteAt(l.zeros[:n], pos); err != nil {
			return fmt.Errorf("preallocate: %w", err)
		}
		pos += n
		s.allocEnd = pos
	}
	return nil
}

// preallocateAhead keeps room for a few more commits like the last one,
// outside the next commit's path (the callers were answered already). A
// failure here is only logged: the next commit preallocates, or fails, on
// its own.
func (l *Log) preallocateAhead(s *segment, commitBytes int64) {
	if l.opts.Fsync != FsyncAlways {
		return
	}
	// Past SegmentMaxBytes the next commit rolls to a new segment anyway.
	target := min(s.size+min(2*commitBytes+minPreallocBytes, maxPreallocBytes), l.opts.SegmentMaxBytes)
	if s.allocEnd >= target {
		return
	}
	if err := l.preallocate(s, target); err != nil {
		l.rate.Warn(l.logger, "preallocation failed", "preallocation failed", zap.String("segment", s.logPath), zap.Error(err))
	}
}

// trim cuts preallocated space off s's file, leaving it at its log size.
func (l *Log) trim(s *segment) error {
	if s.allocEnd <= s.size {
		return nil
	}
	if err := s.log.Truncate(s.size); err != nil {
		return err
	}
	s.allocEnd = s.size
	l.dirty = true
	return nil
}
