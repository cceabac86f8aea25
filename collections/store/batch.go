package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/internal/pebblekv"
)

// Batch is a set of view changes committed atomically.
type Batch struct {
	b *pebblekv.Batch
}

// NewBatch starts a batch.
func (s *Store) NewBatch() *Batch { return &Batch{b: s.db.NewBatch()} }

// Close releases the batch (after Commit, or to discard it).
func (b *Batch) Close() { _ = b.b.Close() }

// Commit applies the batch without waiting for an fsync: the op log is the
// durable record.
func (b *Batch) Commit() error {
	if err := b.b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// PutDoc writes a document's new state, its rendered form, and keeps the
// collection's index and expiry entries in step. old is the state it
// replaces (nil: none); next nil deletes the state (compaction collected
// the document).
func (b *Batch) PutDoc(c *CollectionInfo, key string, old, next *collections.Doc) error {
	dk, rk := docKey(c.ID, key), renderedKey(c.ID, key)
	var nextJSON []byte
	if next == nil {
		_ = b.b.Delete(dk, nil)
	} else {
		_ = b.b.Set(dk, next.AppendBinary(nil), nil)
		nextJSON, _ = next.JSON()
	}
	if nextJSON == nil {
		_ = b.b.Delete(rk, nil)
	} else {
		_ = b.b.Set(rk, appendRendered(nil, next, nextJSON), nil)
	}
	oldAt, nextAt := expiryOf(old), expiryOf(next)
	if oldAt != nextAt {
		if oldAt != 0 {
			_ = b.b.Delete(expiryKey(c.ID, oldAt, key), nil)
		}
		if nextAt != 0 {
			_ = b.b.Set(expiryKey(c.ID, nextAt, key), nil, nil)
		}
	}
	if len(c.Indexes) == 0 {
		return nil
	}
	var oldJSON []byte
	if old != nil {
		oldJSON, _ = old.JSON()
	}
	oldVals, err := indexValues(c, oldJSON)
	if err != nil {
		return err
	}
	nextVals, err := indexValues(c, nextJSON)
	if err != nil {
		return err
	}
	for i, ix := range c.Indexes {
		o, n := oldVals[i], nextVals[i]
		if bytes.Equal(o, n) {
			continue
		}
		if o != nil {
			_ = b.b.Delete(indexKey(c.ID, ix.ID, o, key), nil)
		}
		if n != nil {
			_ = b.b.Set(indexKey(c.ID, ix.ID, n, key), []byte(key), nil)
		}
	}
	return nil
}

// expiryOf is the document's expiry while it exists (0: none).
func expiryOf(d *collections.Doc) uint64 {
	if d == nil || !d.Exists() {
		return 0
	}
	return d.ExpiresAt()
}

// indexValues returns, per index, the encoding of the document's value at
// the index path (nil when there is no document or no value there).
func indexValues(c *CollectionInfo, doc []byte) ([][]byte, error) {
	out := make([][]byte, len(c.Indexes))
	if doc == nil {
		return out, nil
	}
	m, err := query.DecodeObject(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: document %.64s: %w", ErrCorrupt, doc, err)
	}
	for i, ix := range c.Indexes {
		if v, ok := query.ValueAt(m, ix.Path()); ok {
			out[i] = query.AppendKey(nil, v)
		}
	}
	return out, nil
}

// SetApplied records the vector of ops reflected in the collection's view
// and the highest HLC among them.
func (b *Batch) SetApplied(id uint64, applied collections.Vector, hlc uint64) error {
	j := vectorJSON{Vector: make(map[string]uint64, len(applied)), HLC: hlc}
	for _, e := range applied {
		j.Vector[e.Region] = e.Seq
	}
	val, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("store: encode applied vector: %w", err)
	}
	_ = b.b.Set(idKey(prefixVector, id), val, nil)
	return nil
}

// Doc returns the stored state of a document (nil when there is none).
func (s *Store) Doc(id uint64, key string) (*collections.Doc, error) {
	v, err := get(s.db, docKey(id, key))
	if err != nil {
		return nil, fmt.Errorf("store: read document %s: %w", key, err)
	}
	if v == nil {
		return nil, nil
	}
	d, err := collections.DecodeDoc(v)
	if err != nil {
		return nil, fmt.Errorf("%w: document %d/%s: %w", ErrCorrupt, id, key, err)
	}
	return d, nil
}

// maxBuildBatchEntries bounds the index entries one backfill batch writes.
const maxBuildBatchEntries = 10_000

// BuildIndex writes the entries of a new index ix for every document of c
// (c.Indexes need not list it yet). The caller keeps writes to c out while
// it runs.
func (s *Store) BuildIndex(c *CollectionInfo, ix IndexInfo) error {
	one := &CollectionInfo{ID: c.ID, Indexes: []IndexInfo{ix}}
	prefix := idKey(prefixRendered, c.ID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upperBound(prefix)})
	if err != nil {
		return fmt.Errorf("store: build index %s: %w", ix.Name, err)
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		r, err := decodeRendered(it.Value())
		if err != nil {
			return fmt.Errorf("document %q: %w", it.Key(), err)
		}
		vals, err := indexValues(one, r.JSON)
		if err != nil {
			return err
		}
		if vals[0] == nil {
			continue
		}
		key := string(it.Key()[len(prefix):])
		_ = b.Set(indexKey(c.ID, ix.ID, vals[0], key), []byte(key), nil)
		if n++; n == maxBuildBatchEntries {
			if err := b.Commit(pebble.NoSync); err != nil {
				return fmt.Errorf("store: build index %s: %w", ix.Name, err)
			}
			_ = b.Close()
			b, n = s.db.NewBatch(), 0
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("store: build index %s: %w", ix.Name, err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: build index %s: %w", ix.Name, err)
	}
	return nil
}

// DropIndex deletes an index's entries.
func (s *Store) DropIndex(c *CollectionInfo, ix IndexInfo) error {
	p := indexPrefix(c.ID, ix.ID)
	if err := s.db.DeleteRange(p, upperBound(p), pebble.Sync); err != nil {
		return fmt.Errorf("store: drop index %s: %w", ix.Name, err)
	}
	return nil
}
