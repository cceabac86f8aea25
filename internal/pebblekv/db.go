package pebblekv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/lograte"
)

// DB is a Pebble database that survives a full disk (see the package
// comment). Its methods are safe for concurrent use.
type DB struct {
	dir  string
	opts Options
	fs   vfs.FS
	log  *zap.Logger
	rate *lograte.Limiter

	mu       sync.Mutex
	cond     *sync.Cond // refs dropped to 0
	cur      *gen       // nil while reopening, or when no open succeeded
	refs     int        // references on cur
	draining bool       // a reopen waits for refs to reach 0
	closed   bool
	fail     *failure // non-nil: writes refused
	stats    Stats
	lowSpace lowSpace

	wake chan struct{} // nudges the recovery loop
	stop chan struct{}
	done chan struct{}
}

// gen is one open of the database.
type gen struct {
	db       *pebble.DB
	readOnly bool
}

// Open opens (or creates) the database in dir. When it cannot be opened
// for writing but can be read, it opens read-only, refuses writes with the
// reason, and reopens for writing once the disk has room again.
func Open(dir string, o Options) (*DB, error) {
	o = o.withDefaults()
	d := &DB{
		dir: dir, opts: o, fs: fsOf(o.Pebble), rate: lograte.New(0),
		log:  o.Logger.With(zap.String("store", o.Name)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	d.cond = sync.NewCond(&d.mu)
	if o.Pebble != nil && o.Pebble.Cache != nil {
		o.Pebble.Cache.Ref() // reopens need it after the caller's Unref
	}
	g, err := d.open(time.Now())
	if err != nil {
		d.unrefCache()
		return nil, err
	}
	d.cur = g
	go d.recoverLoop()
	return d, nil
}

// open opens the database for writing, or read-only (marking the store
// failed with why) when that is all that works.
func (d *DB) open(now time.Time) (*gen, error) {
	// Pebble opening for writing on a full disk does not fail: it waits
	// for the flush of the replayed WAL, retrying forever. Probe first.
	err := d.probe()
	if err == nil {
		var db *pebble.DB
		if db, err = pebble.Open(d.dir, d.pebbleOptions(false)); err == nil {
			return &gen{db: db}, nil
		}
	}
	ro, rerr := pebble.Open(d.dir, d.pebbleOptions(true))
	if rerr != nil {
		return nil, fmt.Errorf("pebblekv: open %s store in %s: %w", d.opts.Name, d.dir, err)
	}
	d.markFailed(fmt.Errorf("open for writing: %w", err), now)
	return &gen{db: ro, readOnly: true}, nil
}

func (d *DB) unrefCache() {
	if d.opts.Pebble != nil && d.opts.Pebble.Cache != nil {
		d.opts.Pebble.Cache.Unref()
	}
}

// Close stops the recovery loop and closes the database. References still
// held (an iterator not closed) are a caller's bug; Close waits for them up
// to DrainTimeout.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.done
	g, err := d.drain()
	if err != nil {
		d.log.Warn("close with references held", zap.Error(err))
	}
	defer d.unrefCache()
	if g == nil {
		return nil
	}
	if err := g.db.Close(); err != nil && !d.failedNow() {
		return fmt.Errorf("pebblekv: close %s store: %w", d.opts.Name, err)
	}
	return nil
}

// acquire takes a reference on the open database.
func (d *DB) acquire() (*gen, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil || d.draining || d.closed {
		return nil, d.unavailableLocked()
	}
	d.refs++
	return d.cur, nil
}

func (d *DB) release() {
	d.mu.Lock()
	d.refs--
	if d.refs == 0 {
		d.cond.Broadcast()
	}
	d.mu.Unlock()
}

func (d *DB) unavailableLocked() error {
	if d.closed {
		return fmt.Errorf("%w: %s store closed", ErrUnavailable, d.opts.Name)
	}
	if d.fail != nil {
		return fmt.Errorf("%w: %s store is being reopened after: %w", ErrUnavailable, d.opts.Name, d.fail.err)
	}
	return fmt.Errorf("%w: %s store is being reopened", ErrUnavailable, d.opts.Name)
}

// drain takes the open database away once no reference is held (waiting up
// to DrainTimeout); cur is nil after it. It returns nil, nil when nothing
// is open.
func (d *DB) drain() (*gen, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		return nil, nil
	}
	d.draining = true
	defer func() { d.draining = false }()
	timer := time.AfterFunc(d.opts.DrainTimeout, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(d.opts.DrainTimeout)
	for d.refs > 0 && time.Now().Before(deadline) {
		d.cond.Wait()
	}
	g := d.cur
	if d.refs > 0 {
		if !d.closed {
			return nil, fmt.Errorf("%w: %d references held for %v", ErrUnavailable, d.refs, d.opts.DrainTimeout)
		}
		// Closing: go on; Pebble reports the leak.
	}
	d.cur = nil
	return g, nil
}

// Get returns the value of key and a closer releasing it; pebble.ErrNotFound
// when there is none.
func (d *DB) Get(key []byte) ([]byte, io.Closer, error) {
	g, err := d.acquire()
	if err != nil {
		return nil, nil, err
	}
	v, c, err := g.db.Get(key)
	if err != nil {
		d.release()
		return nil, nil, err
	}
	return v, &releaser{c: c, d: d}, nil
}

// NewIter returns an iterator; Close it to release the database.
func (d *DB) NewIter(o *pebble.IterOptions) (*Iter, error) {
	g, err := d.acquire()
	if err != nil {
		return nil, err
	}
	it, err := g.db.NewIter(o)
	if err != nil {
		d.release()
		return nil, err
	}
	return &Iter{Iterator: it, r: releaser{c: it, d: d}}, nil
}

// NewSnapshot returns a point-in-time view; Close it to release the
// database.
func (d *DB) NewSnapshot() (*Snapshot, error) {
	g, err := d.acquire()
	if err != nil {
		return nil, err
	}
	s := g.db.NewSnapshot()
	return &Snapshot{Snapshot: s, r: releaser{c: s, d: d}}, nil
}

// Iter is a Pebble iterator holding a reference on the database.
type Iter struct {
	*pebble.Iterator
	r releaser
}

// Close closes the iterator and releases the database.
func (it *Iter) Close() error { return it.r.Close() }

// Snapshot is a Pebble snapshot holding a reference on the database.
type Snapshot struct {
	*pebble.Snapshot
	r releaser
}

// Close closes the snapshot and releases the database.
func (s *Snapshot) Close() error { return s.r.Close() }

// releaser closes c, then releases the database, once.
type releaser struct {
	once sync.Once
	c    io.Closer
	d    *DB
}

func (r *releaser) Close() error {
	var err error
	r.once.Do(func() {
		err = r.c.Close()
		r.d.release()
	})
	return err
}

// failedNow reports whether writes are refused.
func (d *DB) failedNow() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fail != nil
}

var errClosedBatch = errors.New("pebblekv: batch already committed or closed")

// ErrReader returns a pebble.Reader whose reads all fail with err (for a
// snapshot asked of an unavailable store by a caller that cannot fail).
func ErrReader(err error) pebble.Reader { return errReader{err} }

type errReader struct{ err error }

func (r errReader) Get([]byte) ([]byte, io.Closer, error)                 { return nil, nil, r.err }
func (r errReader) NewIter(*pebble.IterOptions) (*pebble.Iterator, error) { return nil, r.err }
func (r errReader) NewIterWithContext(context.Context, *pebble.IterOptions) (*pebble.Iterator, error) {
	return nil, r.err
}
func (r errReader) Close() error { return nil }
