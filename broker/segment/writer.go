package segment

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/vfs"
)

// run is the writer goroutine: it commits queued appends in groups and, with
// FsyncInterval, starts an fsync of the active segment on a ticker. That
// fsync runs beside the writer (syncBehind), not on it: flushing a second
// of appends takes tens of milliseconds, and every append arriving
// meanwhile used to wait for it.
func (l *Log) run() {
	defer close(l.writerDone)
	var tick <-chan time.Time
	if l.opts.Fsync == FsyncInterval {
		t := time.NewTicker(l.opts.FsyncInterval)
		defer t.Stop()
		tick = t.C
	}
	var behind chan struct{} // closed when the interval fsync in flight ends; nil if none
	for {
		group, closing := l.takeGroup()
		if len(group) > 0 {
			l.commit(group)
			// The group's array is reused: answered requests must not stay
			// reachable from it (each holds its records and its caller's
			// callback, and through those whatever the caller keeps).
			clear(group)
			// Let the callers just answered queue their next appends, so
			// that they join the next group rather than the one after it.
			for i := 0; i < yieldsAfterCommitMax && l.queued() < len(group); i++ {
				runtime.Gosched()
			}
			continue
		}
		if closing {
			if behind != nil {
				<-behind
				behind = nil
			}
			l.closeErr = l.finalSync()
			return
		}
		select {
		case <-l.wake:
		case <-tick:
			if behind != nil && !isClosed(behind) {
				continue // the last interval's fsync is still running
			}
			behind = nil
			if l.dirty && l.failure() == nil {
				behind = l.syncBehind(l.active)
			}
		}
	}
}

// syncBehind fsyncs s on its own goroutine while the writer goes on
// committing, holding a reference so that s's files stay open; the
// returned channel closes when it is done. A failure fails the log. Only
// the interval policy uses it: nothing waits for that fsync.
func (l *Log) syncBehind(s *segment) chan struct{} {
	s.refs.Add(1)
	l.dirty = false // appends committed from now on set it again
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.release()
		if err := l.syncFile(s.log); err != nil {
			l.markFailed(err)
		}
	}()
	return done
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sync fsyncs f, counting it.
func (l *Log) sync(f vfs.File) error {
	err := l.syncFile(f)
	if err == nil && f == l.active.log {
		l.dirty = false
	}
	return err
}

// syncFile fsyncs f and counts it; safe beside the writer.
func (l *Log) syncFile(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	l.m.fsyncs.Add(1)
	l.m.fsyncNanos.Add(uint64(time.Since(start)))
	return err
}

// batcher is the writer's reusable encoding state for one commit.
type batcher struct {
	group   []*appendReq
	buf     []byte       // encoded batches not yet written
	batch   []Record     // records of the batch being filled
	entries []indexEntry // index entries of this commit
	idx     []byte       // their encoding
}

// commitState tracks one commit in progress on segment s.
type commitState struct {
	s          *segment
	start      int64  // file position where the commit starts
	pos        int64  // file position where w.buf starts
	next       uint64 // offset of the first record of w.batch
	batchBytes int
	maxTime    int64
	lastEntry  int64
	batches    int
}

// commit writes a group as batches with one write (more only when the group
// exceeds MaxBatchBytes), fsyncs per policy, publishes the records and
// answers every caller.
func (l *Log) commit(group []*appendReq) {
	if err := l.failure(); err != nil {
		finishAll(group, err)
		return
	}
	total := 0
	for _, r := range group {
		total += r.bytes
	}
	if s := l.active; s.size > 0 && s.size+int64(total) > l.opts.SegmentMaxBytes {
		if err := l.roll(); err != nil {
			finishAll(group, fmt.Errorf("segment: append: roll segment: %w", err))
			return
		}
	}
	s := l.active
	c := commitState{s: s, start: s.size, pos: s.size, next: s.next, maxTime: s.maxTime, lastEntry: s.lastEntryPos}
	w := &l.w
	w.buf, w.batch, w.entries = w.buf[:0], w.batch[:0], w.entries[:0]
	var err error
	for _, req := range group {
		req.first = c.next + uint64(len(w.batch))
		for i := range req.recs {
			n := req.recs[i].storedSize()
			if len(w.batch) > 0 && c.batchBytes+n > batchTargetBytes {
				if err = l.flushBatch(&c); err != nil {
					break
				}
			}
			w.batch = append(w.batch, req.recs[i])
			c.batchBytes += n
		}
		if err != nil {
			break
		}
	}
	if err == nil && len(w.batch) > 0 {
		err = l.flushBatch(&c)
	}
	if err == nil && len(w.buf) > 0 {
		err = l.write(&c)
	}
	clear(w.batch) // drop references to the callers' records
	if err != nil {
		err = fmt.Errorf("segment: append: write %s: %w", s.logPath, err)
		l.m.writeErrors.Add(1)
		l.undo(s, err)
		finishAll(group, err)
		return
	}
	l.dirty = true
	if l.opts.Fsync == FsyncAlways {
		if err := l.sync(s.log); err != nil {
			err = fmt.Errorf("segment: append: fsync %s: %w", s.logPath, err)
			l.m.writeErrors.Add(1)
			l.markFailed(err)
			l.undo(s, err)
			finishAll(group, err)
			return
		}
	}
	l.publish(&c)
	l.writeIndex(s)
	appended := c.next - group[0].first
	l.m.appendedRecords.Add(appended)
	l.m.appendedBytes.Add(uint64(c.pos - c.start))
	l.m.batches.Add(uint64(c.batches))
	l.m.commits.Add(1)
	for _, req := range group {
		req.finish(req.first, nil)
	}
	l.preallocateAhead(s, c.pos-c.start)
	if cap(w.buf) > 2*l.opts.MaxBatchBytes {
		w.buf = nil // do not pin the memory of one huge append
	}
}

// flushBatch encodes w.batch as one batch at the end of w.buf, adding an
// index entry when due, and writes w.buf once it reaches MaxBatchBytes.
func (l *Log) flushBatch(c *commitState) error {
	w := &l.w
	pos := c.pos + int64(len(w.buf))
	if needIndexEntry(pos, c.lastEntry, l.opts.IndexIntervalBytes) {
		w.entries = append(w.entries, indexEntry{
			relOffset: uint32(c.next - c.s.base), position: uint32(pos), maxTimeBefore: c.maxTime,
		})
		c.lastEntry = pos
	}
	w.buf = appendBatch(w.buf, c.next, w.batch)
	for i := range w.batch {
		c.maxTime = max(c.maxTime, w.batch[i].PublishTime)
	}
	c.next += uint64(len(w.batch))
	c.batches++
	clear(w.batch)
	w.batch = w.batch[:0]
	c.batchBytes = 0
	if len(w.buf) >= l.opts.MaxBatchBytes {
		return l.write(c)
	}
	return nil
}

// write stores w.buf at the end of the segment's log.
func (l *Log) write(c *commitState) error {
	w := &l.w
	end := c.pos + int64(len(w.buf))
	n, err := c.s.log.WriteAt(w.buf, c.pos)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return err
	}
	c.pos = end
	if end > c.s.allocEnd {
		// The data grew the file: zeros go past it, not under it (zeros
		// the data then overwrote, before any fdatasync, were only copied).
		c.s.allocEnd = end
		if l.opts.Fsync == FsyncAlways {
			// The zeros only make later fdatasyncs cheaper: a disk with room
			// for the data but not for them (nearly full) still takes the
			// commit, whose fdatasync then writes the inode too.
			if err := l.preallocate(c.s, end); err != nil {
				l.rate.Warn(l.logger, "preallocation failed", "preallocation failed",
					zap.String("segment", c.s.logPath), zap.Error(err))
			}
		}
	}
	w.buf = w.buf[:0]
	return nil
}

// undo cuts s back to its last published size after a failed commit. If
// that fails too, the file holds bytes a later append would follow, so the
// log is failed.
func (l *Log) undo(s *segment, cause error) {
	l.rate.Error(l.logger, "append failed", "append failed", zap.String("segment", s.logPath), zap.Error(cause))
	if err := s.log.Truncate(s.size); err != nil {
		l.markFailed(fmt.Errorf("%w; truncating back to %d: %w", cause, s.size, err))
	}
	s.allocEnd = s.size
}

// publish makes a commit visible to readers and wakes Changed waiters.
func (l *Log) publish(c *commitState) {
	s := c.s
	l.mu.Lock()
	s.next, s.size, s.maxTime = c.next, c.pos, c.maxTime
	s.entries = append(s.entries, l.w.entries...)
	l.end.Store(c.next)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	s.lastEntryPos = c.lastEntry
}

// writeIndex appends the commit's index entries to the index file, unsynced:
// the index is rebuilt from the log when it does not match. After a failed
// write the segment keeps its index in memory only.
func (l *Log) writeIndex(s *segment) {
	if len(l.w.entries) == 0 || s.idx == nil {
		return
	}
	w := &l.w
	w.idx = w.idx[:0]
	for _, e := range w.entries {
		w.idx = appendIndexEntry(w.idx, e)
	}
	n, err := s.idx.Write(w.idx)
	s.idxBytes.Add(int64(n))
	if err != nil {
		l.logger.Warn("index write failed; the index will be rebuilt on open",
			zap.String("index", s.idxPath), zap.Error(err))
		s.idx.Close()
		s.idx = nil
	}
}

// roll seals the active segment (fsyncing it whatever the policy) and starts
// a new one at its end offset.
func (l *Log) roll() error {
	old := l.active
	if err := l.trim(old); err != nil {
		l.markFailed(fmt.Errorf("truncate %s: %w", old.logPath, err))
		return err
	}
	idx := old.idx
	old.idx = nil // closed by seal, before old can leave the list, where release may close it
	if l.opts.Fsync == FsyncAlways {
		// Every commit was synced: this flushes nothing but metadata.
		if err := l.seal(old, idx); err != nil {
			return err
		}
	} else {
		l.sealBehind(old, idx)
	}
	s, err := l.createSegment(old.next)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.segs = append(l.segs, s)
	l.mu.Unlock()
	l.active = s
	l.dirty = false
	l.m.segmentsRolled.Add(1)
	return nil
}

// finalSync flushes the active segment when the log closes.
func (l *Log) finalSync() error {
	l.waitSealed()
	if l.failure() != nil {
		return nil
	}
	s := l.active
	if s.idx != nil {
		if err := s.idx.Sync(); err != nil {
			l.logger.Warn("index fsync failed", zap.String("index", s.idxPath), zap.Error(err))
		}
	}
	if err := l.trim(s); err != nil {
		return fmt.Errorf("segment: close: truncate %s: %w", s.logPath, err)
	}
	if l.dirty {
		if err := l.sync(s.log); err != nil {
			return fmt.Errorf("segment: close: fsync %s: %w", s.logPath, err)
		}
	}
	return nil
}

func finishAll(group []*appendReq, err error) {
	for _, req := range group {
		req.finish(0, err)
	}
}
