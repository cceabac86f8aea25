package segment

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/vfs"
)

// appendReq is one Append or AppendAsync call waiting for the writer.
type appendReq struct {
	recs  []Record
	bytes int    // encoded size estimate, batch headers included
	first uint64 // assigned by the writer
	done  func(first uint64, err error)
	ch    chan appendResult // for Append, cap 1
}

type appendResult struct {
	first uint64
	err   error
}

func (r *appendReq) finish(first uint64, err error) {
	if r.done != nil {
		r.done(first, err)
		return
	}
	r.ch <- appendResult{first, err}
}

// Append assigns consecutive offsets to recs (their Offset fields are
// ignored), writes them and returns the first offset once they are durable
// per the fsync policy, which is also when Read starts returning them.
// Concurrent calls are committed together by one writer goroutine. recs
// must not be modified until Append returns.
func (l *Log) Append(recs []Record) (first uint64, err error) {
	req := &appendReq{recs: recs, ch: make(chan appendResult, 1)}
	if err := l.enqueue(req); err != nil {
		return 0, err
	}
	res := <-req.ch
	return res.first, res.err
}

// AppendAsync is Append without waiting: done runs on the writer goroutine
// once the records are durable (or failed), so it must be quick and must not
// call Append. Invalid input and a closed or failed log call done at once
// on the caller's goroutine. Calls from one goroutine get increasing
// offsets in call order. recs must not be modified until done runs. It
// blocks only while the append queue holds queuedBatchesMax*MaxBatchBytes.
func (l *Log) AppendAsync(recs []Record, done func(first uint64, err error)) {
	req := &appendReq{recs: recs, done: done}
	if err := l.enqueue(req); err != nil {
		done(0, err)
	}
}

// enqueue checks req and queues it for the writer, waiting while the queue
// is full.
func (l *Log) enqueue(req *appendReq) error {
	if len(req.recs) == 0 {
		return fmt.Errorf("segment: append of no records: %w", ErrInvalidArgument)
	}
	total := 0
	for i := range req.recs {
		n := req.recs[i].Size()
		if n > l.opts.MaxRecordBytes {
			return fmt.Errorf("segment: append: record %d is %d bytes, limit %d: %w", i, n, l.opts.MaxRecordBytes, ErrRecordTooLarge)
		}
		total += n
	}
	total += batchHeaderBytes * (1 + total/batchTargetBytes)
	if total > maxAppendBytes {
		return fmt.Errorf("segment: append of %d bytes, limit %d: %w", total, maxAppendBytes, ErrRecordTooLarge)
	}
	req.bytes = total
	maxQueuedBytes := queuedBatchesMax * l.opts.MaxBatchBytes
	l.qmu.Lock()
	for {
		if l.qclosed {
			l.qmu.Unlock()
			return ErrClosed
		}
		if l.failErr != nil {
			err := l.failErr
			l.qmu.Unlock()
			return err
		}
		if l.queuedBytes == 0 || l.queuedBytes+total <= maxQueuedBytes {
			break
		}
		l.qspace.Wait()
	}
	l.queue = append(l.queue, req)
	l.queuedBytes += total
	l.qmu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// run is the writer goroutine: it commits queued appends in groups and, with
// FsyncInterval, fsyncs on a ticker.
func (l *Log) run() {
	defer close(l.writerDone)
	var tick <-chan time.Time
	if l.opts.Fsync == FsyncInterval {
		t := time.NewTicker(l.opts.FsyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		group, closing := l.takeGroup()
		if len(group) > 0 {
			l.commit(group)
			// Let the callers just answered queue their next appends, so
			// that they join the next group rather than the one after it.
			for i := 0; i < yieldsAfterCommitMax && l.queued() < len(group); i++ {
				runtime.Gosched()
			}
			continue
		}
		if closing {
			l.closeErr = l.finalSync()
			return
		}
		select {
		case <-l.wake:
		case <-tick:
			if l.dirty && l.failure() == nil {
				if err := l.sync(l.active.log); err != nil {
					l.markFailed(err)
				}
			}
		}
	}
}

// takeGroup dequeues the next group: the oldest request plus those after it
// that fit in MaxBatchBytes. With an empty queue it reports whether the log
// is closing.
func (l *Log) takeGroup() (group []*appendReq, closing bool) {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	if len(l.queue) == 0 {
		return nil, l.qclosed
	}
	n, bytes := 0, 0
	for n < len(l.queue) && (n == 0 || bytes+l.queue[n].bytes <= l.opts.MaxBatchBytes) {
		bytes += l.queue[n].bytes
		n++
	}
	group = append(l.w.group[:0], l.queue[:n]...)
	l.w.group = group
	rest := copy(l.queue, l.queue[n:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	l.queuedBytes -= bytes
	l.qspace.Broadcast()
	return group, false
}

// queued returns how many appends wait in the queue.
func (l *Log) queued() int {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return len(l.queue)
}

// failure returns the error that failed the log, nil if it has not.
func (l *Log) failure() error {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return l.failErr
}

// markFailed fails the log: every later append gets ErrFailed.
func (l *Log) markFailed(cause error) {
	l.qmu.Lock()
	if l.failErr == nil {
		l.failErr = fmt.Errorf("%w: %w", ErrFailed, cause)
		l.logger.Error("log failed, appends refused until reopened", zap.Error(cause))
	}
	l.qmu.Unlock()
	l.qspace.Broadcast()
}

// sync fsyncs f, counting it.
func (l *Log) sync(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	l.m.fsyncs.Add(1)
	l.m.fsyncNanos.Add(uint64(time.Since(start)))
	if err == nil && f == l.active.log {
		l.dirty = false
	}
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
			n := req.recs[i].Size()
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
	if l.opts.Fsync == FsyncAlways && end > c.s.allocEnd {
		if err := l.preallocate(c.s, end); err != nil {
			return err
		}
	}
	n, err := c.s.log.WriteAt(w.buf, c.pos)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return err
	}
	c.pos = end
	c.s.allocEnd = max(c.s.allocEnd, end)
	w.buf = w.buf[:0]
	return nil
}

// preallocate extends s's file with zeros past end, by as much as it holds
// already (within [minPreallocBytes, maxPreallocBytes] and, past need, the
// segment's size limit). Overwriting blocks that were written and synced
// makes fdatasync a pure data flush: on ext4 an fsync after an append costs
// a journal commit and runs several times slower.
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
		l.logger.Warn("preallocation failed", zap.String("segment", s.logPath), zap.Error(err))
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

// undo cuts s back to its last published size after a failed commit. If
// that fails too, the file holds bytes a later append would follow, so the
// log is failed.
func (l *Log) undo(s *segment, cause error) {
	l.logger.Error("append failed", zap.String("segment", s.logPath), zap.Error(cause))
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
	if err := l.sync(old.log); err != nil {
		l.markFailed(fmt.Errorf("fsync %s: %w", old.logPath, err))
		return err
	}
	if old.idx != nil {
		if err := old.idx.Sync(); err != nil {
			l.logger.Warn("index fsync failed", zap.String("index", old.idxPath), zap.Error(err))
		}
		old.idx.Close() // before old can leave the list, where release may close it
		old.idx = nil
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
