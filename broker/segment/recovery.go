package segment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"go.uber.org/zap"
)

// scanReadAheadBytes is the read size of recovery scans.
const scanReadAheadBytes = 1 << 20

// recover loads every segment of the directory, repairing what it can.
// Under FsyncInterval and FsyncNever a sealed segment is synced behind the
// writer (roll), so a crash can leave one damaged or short with later
// segments after it: the log is then cut there, as a tail is (the later
// segments are removed), and recovery starts over. Under FsyncAlways every
// sealed segment was durable before the next was created, and a damaged
// one is an error.
func (l *Log) recover() error {
	for {
		// Each cut removes at least one segment: this ends.
		cut, err := l.recoverOnce()
		if err == nil {
			return nil
		}
		for _, s := range l.segs {
			s.release()
		}
		l.segs, l.active = nil, nil
		if cut == nil || l.opts.Fsync == FsyncAlways {
			return err
		}
		l.logger.Warn("cutting the log at a sealed segment that was not synced before a crash",
			zap.String("segment", logName(l.dir, cut.tailBase)), zap.Int("laterSegments", len(cut.later)), zap.Error(err))
		for i := len(cut.later) - 1; i >= 0; i-- { // newest first: what stays is a prefix
			base := cut.later[i]
			if rerr := l.fs.Remove(logName(l.dir, base)); rerr != nil {
				return errors.Join(err, rerr)
			}
			if rerr := l.fs.Remove(indexName(l.dir, base)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				return errors.Join(err, rerr)
			}
		}
		if rerr := l.fs.SyncDir(l.dir); rerr != nil {
			return errors.Join(err, rerr)
		}
		l.m.truncations.Add(1)
	}
}

// logCut is where recoverOnce found the log must end: tailBase becomes the
// last segment, the segments in later are removed.
type logCut struct {
	tailBase uint64
	later    []uint64
}

// recoverOnce loads the segments once. A sealed segment that is damaged,
// or that ends before the next one starts, fails it with the cut that
// would make that segment the tail (any other failure has no cut).
func (l *Log) recoverOnce() (*logCut, error) {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var bases []uint64 // sorted: the names are, and have a fixed width
	haveLog := map[uint64]bool{}
	for _, name := range names {
		if base, ok := parseName(name, logSuffix); ok {
			bases = append(bases, base)
			haveLog[base] = true
		}
	}
	for _, name := range names {
		if base, ok := parseName(name, indexSuffix); ok && !haveLog[base] {
			l.logger.Info("removing index without a segment", zap.String("file", name))
			if err := l.fs.Remove(indexName(l.dir, base)); err != nil {
				return nil, err
			}
		}
	}
	if len(bases) == 0 {
		s, err := l.createSegment(l.opts.BaseOffset)
		if err != nil {
			return nil, err
		}
		l.segs = []*segment{s}
		l.active = s
		l.end.Store(s.next)
		return nil, nil
	}
	cutAt := func(i int) *logCut {
		return &logCut{tailBase: bases[i], later: bases[i+1:]}
	}
	repaired := false
	for i, base := range bases {
		s := newSegment(l.dir, base)
		l.segs = append(l.segs, s)
		var fixed bool
		if i == len(bases)-1 {
			fixed, err = l.recoverTail(s)
		} else {
			fixed, err = l.recoverSealed(s)
			if errors.Is(err, ErrCorrupt) {
				return cutAt(i), err
			}
		}
		if err != nil {
			return nil, err
		}
		repaired = repaired || fixed
		if i > 0 && s.base != l.segs[i-1].next {
			var cut *logCut
			if s.base > l.segs[i-1].next {
				cut = cutAt(i - 1) // the one before lost its end
			}
			return cut, fmt.Errorf("%w: segment %s starts at %d but the one before ends at %d",
				ErrCorrupt, s.logPath, s.base, l.segs[i-1].next)
		}
	}
	l.active = l.segs[len(l.segs)-1]
	l.end.Store(l.active.next)
	if repaired {
		l.m.recoveries.Add(1)
	}
	l.logger.Info("opened log", zap.Int("segments", len(l.segs)),
		zap.Uint64("start", l.segs[0].base), zap.Uint64("end", l.active.next), zap.Bool("repaired", repaired))
	return nil, nil
}

// recoverSealed loads a segment that is not the last one. Its data was
// fsynced when the next segment was created, so only the index is checked:
// the batches after the last index entry are walked (headers only) to find
// the segment's end, and a missing or inconsistent index is rebuilt by
// checking every batch. A sealed segment that fails that check is an error.
func (l *Log) recoverSealed(s *segment) (repaired bool, err error) {
	if s.log, err = l.fs.OpenFile(s.logPath, os.O_RDONLY, 0); err != nil {
		return false, err
	}
	st, err := s.log.Stat()
	if err != nil {
		return false, err
	}
	size := st.Size()
	r := &chunkReader{f: s.log, path: s.logPath, limitBytes: size, readAheadBytes: scanReadAheadBytes}
	idx, idxErr := l.readIndex(s.idxPath, size)
	var entries []indexEntry
	if idxErr == nil {
		entries, idxErr = decodeIndex(idx, size)
	}
	res := scanResult{next: s.base, maxTime: math.MinInt64, lastPos: -1}
	if idxErr == nil && len(entries) > 0 {
		last := entries[len(entries)-1]
		res = scan(r, s.base, s.base+uint64(last.relOffset), int64(last.position), last.maxTimeBefore,
			entries, int64(last.position), l.opts.IndexIntervalBytes, false)
		if res.err != nil && !errors.Is(res.err, ErrCorrupt) {
			return false, res.err
		}
		if res.err != nil {
			idxErr = fmt.Errorf("index disagrees with the segment: %w", res.err)
		}
	}
	if idxErr != nil {
		l.logger.Warn("rebuilding segment index", zap.String("segment", s.logPath), zap.Error(idxErr))
		res = scan(r, s.base, s.base, 0, math.MinInt64, nil, -1, l.opts.IndexIntervalBytes, true)
		if res.err != nil && !errors.Is(res.err, ErrCorrupt) {
			return false, res.err
		}
		if res.err != nil {
			return false, fmt.Errorf("%w: sealed segment %s is damaged at position %d: %w",
				ErrCorrupt, s.logPath, res.goodPos, res.err)
		}
		if err := l.writeIndexFile(s, res.entries); err != nil {
			l.logger.Warn("cannot write rebuilt index", zap.String("index", s.idxPath), zap.Error(err))
		}
		l.m.indexRebuilds.Add(1)
		repaired = true
	} else {
		s.idxBytes.Store(int64(len(idx)))
	}
	s.next, s.size, s.entries, s.maxTime, s.lastEntryPos = res.next, res.goodPos, res.entries, res.maxTime, res.lastPos
	return repaired, nil
}

// recoverTail loads the last segment, the only one a crash can tear: every
// batch is checked, the file is cut after the last good one, and the index
// is rebuilt from the scan.
func (l *Log) recoverTail(s *segment) (repaired bool, err error) {
	if s.log, err = l.fs.OpenFile(s.logPath, os.O_RDWR, 0); err != nil {
		return false, err
	}
	st, err := s.log.Stat()
	if err != nil {
		return false, err
	}
	size := st.Size()
	r := &chunkReader{f: s.log, path: s.logPath, limitBytes: size, readAheadBytes: scanReadAheadBytes}
	res := scan(r, s.base, s.base, 0, math.MinInt64, nil, -1, l.opts.IndexIntervalBytes, true)
	if res.err != nil && !errors.Is(res.err, ErrCorrupt) {
		return false, res.err // a read error is no reason to cut the log
	}
	if res.err != nil {
		if zeros(r, res.goodPos) {
			// Preallocated space the log had not reached yet.
			l.logger.Info("dropping preallocated space", zap.String("segment", s.logPath),
				zap.Int64("position", res.goodPos), zap.Int64("bytes", size-res.goodPos))
		} else {
			l.logger.Warn("truncating segment tail", zap.String("segment", s.logPath),
				zap.Int64("position", res.goodPos), zap.Int64("droppedBytes", size-res.goodPos),
				zap.Uint64("end", res.next), zap.Error(res.err))
			l.m.truncations.Add(1)
			l.m.truncatedBytes.Add(uint64(size - res.goodPos))
			repaired = true
		}
		if err := s.log.Truncate(res.goodPos); err != nil {
			return false, err
		}
		if err := s.log.Sync(); err != nil {
			return false, err
		}
	}
	s.allocEnd = res.goodPos
	s.next, s.size, s.entries, s.maxTime, s.lastEntryPos = res.next, res.goodPos, res.entries, res.maxTime, res.lastPos

	old, oldErr := l.readIndex(s.idxPath, size)
	if oldErr == nil && bytes.Equal(old, encodeIndex(res.entries)) {
		s.idxBytes.Store(int64(len(old)))
	} else {
		if res.goodPos > 0 {
			l.logger.Warn("rebuilt segment index", zap.String("segment", s.logPath), zap.NamedError("indexError", oldErr))
			l.m.indexRebuilds.Add(1)
			repaired = true
		}
		if err := l.writeIndexFile(s, res.entries); err != nil {
			return false, err
		}
	}
	s.idx, err = l.fs.OpenFile(s.idxPath, os.O_RDWR|os.O_APPEND, 0)
	return repaired, err
}

// zeros reports whether every byte of r from pos on is zero.
func zeros(r *chunkReader, pos int64) bool {
	for pos < r.limitBytes {
		b, err := r.at(pos, min(r.limitBytes-pos, scanReadAheadBytes))
		if err != nil {
			return false
		}
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		pos += int64(len(b))
	}
	return true
}

// readIndex returns an index file's contents, refusing one too large to
// belong to a segment of logBytes.
func (l *Log) readIndex(path string, logBytes int64) ([]byte, error) {
	f, err := l.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if maxBytes := (logBytes/batchHeaderBytes + 1) * indexEntryBytes; st.Size() > maxBytes {
		return nil, fmt.Errorf("%w: index %s of %d bytes for a segment of %d", ErrCorrupt, path, st.Size(), logBytes)
	}
	b := make([]byte, st.Size())
	if n, err := f.ReadAt(b, 0); n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// writeIndexFile replaces s's index file with entries.
func (l *Log) writeIndexFile(s *segment, entries []indexEntry) error {
	f, err := l.fs.OpenFile(s.idxPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	b := encodeIndex(entries)
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		s.idxBytes.Store(int64(len(b)))
	}
	return werr
}

// createSegment creates the files of an empty segment starting at base and
// makes their names durable.
func (l *Log) createSegment(base uint64) (*segment, error) {
	s := newSegment(l.dir, base)
	var err error
	if s.log, err = l.fs.OpenFile(s.logPath, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644); err != nil {
		return nil, err
	}
	if s.idx, err = l.fs.OpenFile(s.idxPath, os.O_CREATE|os.O_TRUNC|os.O_RDWR|os.O_APPEND, 0o644); err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		s.release()
		l.fs.Remove(s.logPath)
		l.fs.Remove(s.idxPath)
		return nil, err
	}
	return s, nil
}
