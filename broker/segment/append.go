package segment

import (
	"fmt"

	"go.uber.org/zap"
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
		r := &req.recs[i]
		if n := r.Size(); n > l.opts.MaxRecordBytes {
			return fmt.Errorf("segment: append: record %d is %d bytes, limit %d: %w", i, n, l.opts.MaxRecordBytes, ErrRecordTooLarge)
		}
		if r.PayloadRef && (r.Origin == "" || r.OriginSeq == 0) {
			return fmt.Errorf("segment: append: record %d references its payload without an origin: %w", i, ErrInvalidArgument)
		}
		total += r.storedSize()
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
