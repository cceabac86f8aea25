package segment

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/lograte"

	"github.com/causeway/causeway/broker/vfs"
)

// Log is an append-only log of records stored as segment files in one
// directory. All methods are safe for concurrent use.
type Log struct {
	fs     vfs.FS
	dir    string
	opts   Options
	logger *zap.Logger
	rate   *lograte.Limiter // repeated append failures (a full disk)
	m      counters

	mu      sync.RWMutex
	segs    []*segment    // oldest first; the last is the active one
	changed chan struct{} // closed when end advances or the log closes
	closed  bool          // reads refuse
	end     atomic.Uint64 // EndOffset, stored under mu

	qmu         sync.Mutex
	qspace      *sync.Cond // (qmu) the queue shrank, closed or failed
	queue       []*appendReq
	queuedBytes int
	qclosed     bool
	failErr     error         // (qmu) non-nil once the log failed
	wake        chan struct{} // cap 1: the queue is not empty
	writerDone  chan struct{}
	closeErr    error // set by the writer before writerDone closes

	// Owned by the writer goroutine (and Open before it starts).
	active *segment
	dirty  bool // written since the last fsync of active
	w      batcher
	zeros  []byte // zeroChunkBytes of zeros for preallocation

	sealMu  sync.Mutex
	sealing chan struct{} // (sealMu) closed when the last seal behind the writer ended; nil if none

	syncMu    sync.Mutex    // one Sync at a time
	syncedEnd atomic.Uint64 // every offset below it is durable through Sync

	deleteMu   sync.Mutex // one EnforceRetention or DeleteBelow at a time
	readerPool sync.Pool  // *chunkReader with its buffers
}

// Open opens the log in dir on fsys, creating the directory if needed, and
// recovers it: the tail segment is checked batch by batch and cut at the
// end of the last good batch, missing or damaged indexes are rebuilt, and
// every repair is logged.
func Open(fsys vfs.FS, dir string, opts Options) (*Log, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if _, err := fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// Make the new directory's name durable before anything goes in it.
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("segment: open %s: %w", dir, err)
		}
		if err := fsys.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("segment: open %s: %w", dir, err)
		}
	}
	l := &Log{
		rate:       lograte.New(0),
		fs:         fsys,
		dir:        dir,
		opts:       opts,
		logger:     opts.Logger.With(zap.String("log", dir)),
		changed:    make(chan struct{}),
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
	l.qspace = sync.NewCond(&l.qmu)
	if err := finishTruncation(fsys, dir); err != nil {
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	if err := l.recover(); err != nil {
		for _, s := range l.segs {
			s.release()
		}
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	go l.run()
	return l, nil
}

// StartOffset returns the first offset still stored.
func (l *Log) StartOffset() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[0].base
}

// EndOffset returns one past the last visible (durable per policy) record.
func (l *Log) EndOffset() uint64 { return l.end.Load() }

// Changed returns a channel closed the next time EndOffset advances or the
// log closes. Take it before checking EndOffset:
//
//	ch := l.Changed()
//	if l.EndOffset() > x { ... } else { <-ch }
func (l *Log) Changed() <-chan struct{} {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.changed
}

// Size returns the bytes the log takes on disk, indexes included.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size + s.idxBytes.Load()
	}
	return n
}

// Metrics returns a snapshot of the log's counters.
func (l *Log) Metrics() Metrics {
	l.mu.RLock()
	segments := len(l.segs)
	l.mu.RUnlock()
	l.qmu.Lock()
	failed := l.failErr != nil
	l.qmu.Unlock()
	return Metrics{
		AppendedRecords: l.m.appendedRecords.Load(),
		AppendedBytes:   l.m.appendedBytes.Load(),
		Batches:         l.m.batches.Load(),
		Commits:         l.m.commits.Load(),
		Fsyncs:          l.m.fsyncs.Load(),
		FsyncLatency:    time.Duration(l.m.fsyncNanos.Load()),
		WriteErrors:     l.m.writeErrors.Load(),
		Recoveries:      l.m.recoveries.Load(),
		Truncations:     l.m.truncations.Load(),
		TruncatedBytes:  l.m.truncatedBytes.Load(),
		IndexRebuilds:   l.m.indexRebuilds.Load(),
		SegmentsRolled:  l.m.segmentsRolled.Load(),
		SegmentsDeleted: l.m.segmentsDeleted.Load(),
		Segments:        segments,
		Failed:          failed,
	}
}

// Close commits and fsyncs everything queued, stops the writer and closes
// the files (once reads in flight finish). Later calls return ErrClosed.
func (l *Log) Close() error {
	l.qmu.Lock()
	if l.qclosed {
		l.qmu.Unlock()
		return ErrClosed
	}
	l.qclosed = true
	l.qmu.Unlock()
	l.qspace.Broadcast()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.writerDone

	l.mu.Lock()
	l.closed = true
	segs := l.segs
	close(l.changed)
	l.mu.Unlock()
	for _, s := range segs {
		s.release()
	}
	return l.closeErr
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	err := l.Close()
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	rerr := l.fs.RemoveAll(l.dir)
	if rerr == nil {
		rerr = l.fs.SyncDir(filepath.Dir(l.dir))
	}
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("segment: delete %s: %w", l.dir, rerr))
	}
	return err
}
