package pebblekv

import (
	"fmt"
	"sync"
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

// NewBatch returns a write-only batch holding a reference on the database
// until it is committed or closed.
func (d *DB) NewBatch() (*Batch, error) { return d.newBatch(false) }

// NewIndexedBatch returns a batch that can also read (its own writes over
// the database).
func (d *DB) NewIndexedBatch() (*Batch, error) { return d.newBatch(true) }

func (d *DB) newBatch(indexed bool) (*Batch, error) {
	g, err := d.acquire()
	if err != nil {
		return nil, err
	}
	b := &Batch{d: d, g: g}
	if indexed {
		b.Batch = g.db.NewIndexedBatch()
	} else {
		b.Batch = g.db.NewBatch()
	}
	return b, nil
}

// Batch is a Pebble batch of one DB; Commit goes through the DB's write
// guard. Close it (also after Commit).
type Batch struct {
	*pebble.Batch
	d    *DB
	g    *gen
	once sync.Once
	done bool
}

// Commit applies the batch. A batch created before a reopen is refused
// with ErrReopened. Whatever the outcome, the batch's reference on the
// database is released (Close is still to be called).
func (b *Batch) Commit(o *pebble.WriteOptions) error {
	if b.done {
		return errClosedBatch
	}
	err := b.d.write(b.g, func(*pebble.DB) error { return b.Batch.Commit(o) })
	b.releaseOnce()
	b.done = true
	return err
}

// Close closes the batch and releases the database.
func (b *Batch) Close() error {
	b.done = true
	err := b.Batch.Close()
	b.releaseOnce()
	return err
}

func (b *Batch) releaseOnce() { b.once.Do(b.d.release) }
