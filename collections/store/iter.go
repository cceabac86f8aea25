package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/internal/pebblekv"
)

// Snapshot is a consistent read-only view of the store. Close it when done:
// it pins the data it sees.
type Snapshot struct {
	snap pebble.Reader
}

// Snapshot takes a snapshot of the current state. While the store is being
// reopened (after a full disk) its reads fail with pebblekv.ErrUnavailable.
func (s *Store) Snapshot() *Snapshot {
	sn, err := s.db.NewSnapshot()
	if err != nil {
		return &Snapshot{snap: pebblekv.ErrReader(err)}
	}
	return &Snapshot{snap: sn}
}

// Close releases the snapshot.
func (sn *Snapshot) Close() error { return sn.snap.Close() }

// Doc returns a document's state in the snapshot (nil when there is none).
func (sn *Snapshot) Doc(id uint64, key string) (*collections.Doc, error) {
	v, err := get(sn.snap, docKey(id, key))
	if err != nil || v == nil {
		return nil, err
	}
	d, err := collections.DecodeDoc(v)
	if err != nil {
		return nil, fmt.Errorf("%w: document %d/%s: %w", ErrCorrupt, id, key, err)
	}
	return d, nil
}

// Visible reports whether a document exists and has not expired at now
// (Unix ms).
func Visible(d *collections.Doc, nowMs uint64) bool {
	if d == nil || !d.Exists() {
		return false
	}
	at := d.ExpiresAt()
	return at == 0 || at > nowMs
}

// DocIter yields the visible documents of one access path of a collection,
// as JSON. It implements query.DocIter.
type DocIter struct {
	sn      *Snapshot
	it      *pebble.Iterator
	id      uint64
	index   bool
	reverse bool
	started bool
	skip    int // bytes of key prefix before the document key
	now     uint64
	key     string
	expires uint64
	scanned int
}

// Docs iterates the documents of collection id that access reads, visible
// at nowMs.
func (sn *Snapshot) Docs(id uint64, a query.Access, nowMs uint64) (*DocIter, error) {
	d := &DocIter{sn: sn, id: id, reverse: a.Reverse, now: nowMs}
	var lo, hi []byte
	switch a.Kind {
	case query.IndexRange:
		d.index = true
		p := indexPrefix(id, a.Index.ID)
		lo = append(append([]byte(nil), p...), a.Lo...)
		if a.Hi != nil {
			hi = append(append([]byte(nil), p...), a.Hi...)
		} else {
			hi = upperBound(p)
		}
	default:
		p := idKey(prefixRendered, id)
		d.skip = len(p)
		lo = append(append([]byte(nil), p...), a.Lo...)
		if a.Hi != nil {
			hi = append(append([]byte(nil), p...), a.Hi...)
		} else {
			hi = upperBound(p)
		}
	}
	it, err := sn.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("store: iterate collection %d: %w", id, err)
	}
	d.it = it
	return d, nil
}

// Close releases the iterator.
func (d *DocIter) Close() error { return d.it.Close() }

// Key returns the key of the document Next returned last.
func (d *DocIter) Key() string { return d.key }

// ExpiresAt returns the expiry (Unix ms, 0: none) of the document Next
// returned last.
func (d *DocIter) ExpiresAt() uint64 { return d.expires }

// Scanned returns how many entries the iterator has looked at.
func (d *DocIter) Scanned() int { return d.scanned }

func (d *DocIter) step() bool {
	if !d.started {
		d.started = true
		if d.reverse {
			return d.it.Last()
		}
		return d.it.First()
	}
	if d.reverse {
		return d.it.Prev()
	}
	return d.it.Next()
}

// Next returns the next visible document's JSON (valid until the next call).
func (d *DocIter) Next() ([]byte, bool, error) {
	for d.step() {
		d.scanned++
		var r Rendered
		var err error
		if d.index {
			d.key = string(d.it.Value())
			var found bool
			if r, found, err = renderedIn(d.sn.snap, d.id, d.key); err == nil && !found {
				continue
			}
		} else {
			d.key = string(d.it.Key()[d.skip:])
			r, err = decodeRendered(d.it.Value())
		}
		if err != nil {
			return nil, false, fmt.Errorf("document %s: %w", d.key, err)
		}
		if !r.Visible(d.now) {
			continue
		}
		d.expires = r.ExpiresAt
		return r.JSON, true, nil
	}
	if err := d.it.Error(); err != nil {
		return nil, false, fmt.Errorf("store: iterate collection %d: %w", d.id, err)
	}
	return nil, false, nil
}

// Expired returns up to max keys of collection id whose expiry is at or
// before nowMs, oldest first.
func (s *Store) Expired(id, nowMs uint64, max int) ([]string, error) {
	p := idKey(prefixExpiry, id)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: expiryKey(id, nowMs+1, "")})
	if err != nil {
		return nil, fmt.Errorf("store: scan expiry of collection %d: %w", id, err)
	}
	defer it.Close()
	var out []string
	for it.First(); it.Valid() && len(out) < max; it.Next() {
		k := it.Key()
		if len(k) < len(p)+8 {
			continue
		}
		if binary.BigEndian.Uint64(k[len(p):]) > nowMs {
			break
		}
		out = append(out, string(k[len(p)+8:]))
	}
	return out, it.Error()
}
