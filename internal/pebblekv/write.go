package pebblekv

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// write runs fn (one Pebble write) on the open database unless writes are
// refused, and turns a commit failure (Fatalf's panic) into an error that
// marks the store failed. g, when not nil, is the open fn must run on (a
// batch's).
func (d *DB) write(g *gen, fn func(db *pebble.DB) error) (err error) {
	cur, err := d.acquireWritable(time.Now())
	if err != nil {
		return err
	}
	defer d.release()
	if g != nil && g != cur {
		return fmt.Errorf("%w (%s store)", ErrReopened, d.opts.Name)
	}
	defer func() {
		if r := recover(); r != nil {
			cf, ok := r.(commitFatal)
			if !ok {
				panic(r)
			}
			err = d.refused(cf.err)
		}
	}()
	return fn(cur.db)
}

// acquireWritable takes a reference for a write, or says why writes are
// refused.
func (d *DB) acquireWritable(now time.Time) (*gen, error) {
	if cause := d.spaceErr(now); cause != nil {
		d.mu.Lock()
		d.stats.RefusedWrites++
		d.mu.Unlock()
		return nil, d.refusedErr(cause)
	}
	d.mu.Lock()
	if d.fail != nil {
		d.stats.RefusedWrites++
		err := d.fail.err
		d.mu.Unlock()
		return nil, d.refusedErr(err)
	}
	d.mu.Unlock()
	g, err := d.acquire()
	if err != nil {
		return nil, err
	}
	if g.readOnly { // a failure is set whenever it is read-only
		d.release()
		return nil, d.refusedErr(pebble.ErrReadOnly)
	}
	return g, nil
}

// refused marks the store failed by err and returns the write's error.
func (d *DB) refused(err error) error {
	d.markFailed(err, time.Now())
	d.mu.Lock()
	d.stats.RefusedWrites++
	d.mu.Unlock()
	return d.refusedErr(err)
}

func (d *DB) refusedErr(cause error) error {
	return fmt.Errorf("%w: %s store: %w", ErrWritesRefused, d.opts.Name, cause)
}

// Set writes key=value.
func (d *DB) Set(key, value []byte, o *pebble.WriteOptions) error {
	return d.write(nil, func(db *pebble.DB) error { return db.Set(key, value, o) })
}

// Delete deletes key.
func (d *DB) Delete(key []byte, o *pebble.WriteOptions) error {
	return d.write(nil, func(db *pebble.DB) error { return db.Delete(key, o) })
}

// DeleteRange deletes the keys in [start, end).
func (d *DB) DeleteRange(start, end []byte, o *pebble.WriteOptions) error {
	return d.write(nil, func(db *pebble.DB) error { return db.DeleteRange(start, end, o) })
}

// LogData writes data to the WAL only (with pebble.Sync: a sync point).
func (d *DB) LogData(data []byte, o *pebble.WriteOptions) error {
	return d.write(nil, func(db *pebble.DB) error { return db.LogData(data, o) })
}

// Flush flushes the memtable (refused like a write).
func (d *DB) Flush() error {
	return d.write(nil, func(db *pebble.DB) error { return db.Flush() })
}

// Compact flushes the memtable and compacts [start, end) (refused like a
// write): deleted keys of the range leave the files (a fabric's data
// deleted from a region).
func (d *DB) Compact(start, end []byte) error {
	return d.write(nil, func(db *pebble.DB) error {
		if err := db.Flush(); err != nil {
			return err
		}
		return db.Compact(context.Background(), start, end, true)
	})
}

// NewBatch returns a write-only batch holding a reference on the database
// until it is committed or closed. It never fails: when the store is
// unavailable the batch is detached and its Commit returns why.
func (d *DB) NewBatch() *Batch {
	g, err := d.acquire()
	if err != nil {
		return &Batch{Batch: new(pebble.Batch), d: d, err: err, done: false, released: true}
	}
	return &Batch{Batch: g.db.NewBatch(), d: d, g: g}
}

// NewIndexedBatch returns a batch that can also read (its own writes over
// the database).
func (d *DB) NewIndexedBatch() (*Batch, error) {
	g, err := d.acquire()
	if err != nil {
		return nil, err
	}
	return &Batch{Batch: g.db.NewIndexedBatch(), d: d, g: g}, nil
}

// Batch is a Pebble batch of one DB; Commit goes through the DB's write
// guard. Close it (also after Commit). A Batch is not safe for concurrent
// use.
type Batch struct {
	*pebble.Batch
	d        *DB
	g        *gen
	err      error // the store was unavailable when the batch was made
	done     bool
	released bool
}

// Commit applies the batch. A batch created before a reopen is refused
// with ErrReopened. Whatever the outcome, the batch's reference on the
// database is released (Close is still to be called).
func (b *Batch) Commit(o *pebble.WriteOptions) error {
	if b.done {
		return errClosedBatch
	}
	b.done = true
	if b.err != nil {
		return b.err
	}
	err := b.d.write(b.g, func(*pebble.DB) error { return b.Batch.Commit(o) })
	b.release()
	return err
}

// Close closes the batch and releases the database.
func (b *Batch) Close() error {
	b.done = true
	err := b.Batch.Close()
	b.release()
	return err
}

func (b *Batch) release() {
	if !b.released {
		b.released = true
		b.d.release()
	}
}
