package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
)

// Collection types (ArangoDB's numbers: 2 document, 3 edge).
const (
	TypeDocument = 2
	TypeEdge     = 3
)

// CollectionInfo is a collection's durable description.
type CollectionInfo struct {
	ID     uint64 `json:"id"`
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	Name   string `json:"name"`
	// Type is TypeDocument or TypeEdge.
	Type int `json:"type"`
	// KeyValue marks a key/value collection: documents {"value": ...}
	// with an optional expiry each.
	KeyValue bool `json:"keyValue,omitempty"`
	// DefaultTTLSeconds is the expiry given to key/value writes that carry
	// none (0: never expire).
	DefaultTTLSeconds int64       `json:"ttl,omitempty"`
	CreatedAt         int64       `json:"createdAt"`
	Indexes           []IndexInfo `json:"indexes,omitempty"`
	NextIndexID       uint32      `json:"nextIndexId"`
	// ChangeSeqBase is added to op-log offsets to make change-feed
	// sequence ids: non-zero when the change-feed stream outlived an
	// earlier collection of the same name (its producer's ids must grow).
	ChangeSeqBase uint64 `json:"changeSeqBase,omitempty"`
	// Catalog marks a description that comes from the catalog of a region
	// of several nodes (the region's key-value map): its ID is the
	// catalog's, the same on every node, and the node drops the view once
	// the catalog no longer holds that ID.
	Catalog bool `json:"catalog,omitempty"`
}

// IndexInfo describes a persistent secondary index on one attribute path.
type IndexInfo struct {
	ID        uint32 `json:"id"`
	Name      string `json:"name"`
	Field     string `json:"field"` // the path, names joined by '.'
	CreatedAt int64  `json:"createdAt"`
}

// Path returns the index's attribute path.
func (ix IndexInfo) Path() []string { return strings.Split(ix.Field, ".") }

// QueryIndexes lists the indexes in the planner's form.
func (c *CollectionInfo) QueryIndexes() []query.Index {
	out := make([]query.Index, len(c.Indexes))
	for i, ix := range c.Indexes {
		out[i] = query.Index{ID: ix.ID, Name: ix.Name, Path: ix.Path()}
	}
	return out
}

// Collections lists every collection of the node.
func (s *Store) Collections() ([]CollectionInfo, error) {
	sn := s.Snapshot()
	defer sn.Close()
	return listCollections(sn.snap)
}

func listCollections(r pebble.Reader) ([]CollectionInfo, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixCollection}, UpperBound: []byte{prefixCollection + 1}})
	if err != nil {
		return nil, fmt.Errorf("store: list collections: %w", err)
	}
	defer it.Close()
	var out []CollectionInfo
	for it.First(); it.Valid(); it.Next() {
		var c CollectionInfo
		if err := json.Unmarshal(it.Value(), &c); err != nil {
			return nil, fmt.Errorf("%w: collection %q: %w", ErrCorrupt, it.Key(), err)
		}
		out = append(out, c)
	}
	return out, it.Error()
}

// AllocateID returns a collection id never used before on this node.
func (s *Store) AllocateID() (uint64, error) {
	key := []byte{prefixNextID}
	v, err := get(s.db, key)
	if err != nil {
		return 0, fmt.Errorf("store: read next id: %w", err)
	}
	next := uint64(1)
	if len(v) == 8 {
		next = binary.BigEndian.Uint64(v)
	}
	if err := s.db.Set(key, binary.BigEndian.AppendUint64(nil, next+1), pebble.Sync); err != nil {
		return 0, fmt.Errorf("store: save next id: %w", err)
	}
	return next, nil
}

// CreateCollection saves a new collection's description with its op log
// starting at position from, an empty applied vector.
func (s *Store) CreateCollection(c CollectionInfo, from uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	val, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode collection %s: %w", c.Name, err)
	}
	_ = b.Set(nameKey(prefixCollection, c.Tenant, c.Fabric, c.Name), val, nil)
	_ = b.Set(idKey(prefixPosition, c.ID), binary.AppendUvarint(nil, from), nil)
	_ = b.Set(idKey(prefixShipped, c.ID), binary.AppendUvarint(nil, from), nil)
	_ = b.Set(idKey(prefixOpLogBase, c.ID), binary.AppendUvarint(nil, from), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: save collection %s: %w", c.Name, err)
	}
	return nil
}

// UpdateCollection saves a changed description (indexes).
func (s *Store) UpdateCollection(c CollectionInfo) error {
	val, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode collection %s: %w", c.Name, err)
	}
	if err := s.db.Set(nameKey(prefixCollection, c.Tenant, c.Fabric, c.Name), val, pebble.Sync); err != nil {
		return fmt.Errorf("store: save collection %s: %w", c.Name, err)
	}
	return nil
}

// DropCollection deletes a collection's description and all its data.
func (s *Store) DropCollection(c CollectionInfo) error {
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(nameKey(prefixCollection, c.Tenant, c.Fabric, c.Name), nil)
	for _, p := range []byte{prefixDoc, prefixRendered, prefixIndex, prefixExpiry, prefixVector, prefixPosition, prefixShipped, prefixOpLogBase} {
		k := idKey(p, c.ID)
		_ = b.DeleteRange(k, upperBound(k), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: drop collection %s: %w", c.Name, err)
	}
	return nil
}

// vectorJSON is the stored applied vector of a collection.
type vectorJSON struct {
	Vector map[string]uint64 `json:"vector"`
	HLC    uint64            `json:"hlc"`
}

// Applied returns the vector of ops reflected in the collection's view and
// the highest HLC among them.
func (s *Store) Applied(id uint64) (collections.Vector, uint64, error) {
	sn := s.Snapshot()
	defer sn.Close()
	return appliedIn(sn.snap, id)
}

func appliedIn(r pebble.Reader, id uint64) (collections.Vector, uint64, error) {
	v, err := get(r, idKey(prefixVector, id))
	if err != nil || v == nil {
		return nil, 0, err
	}
	var j vectorJSON
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, 0, fmt.Errorf("%w: applied vector of collection %d: %w", ErrCorrupt, id, err)
	}
	return collections.VectorOf(j.Vector), j.HLC, nil
}

// Position returns the op-log position from which the change feed may lack
// events (the service re-applies the log from there on start).
func (s *Store) Position(id uint64) (uint64, error) {
	v, err := get(s.db, idKey(prefixPosition, id))
	if err != nil || v == nil {
		return 0, err
	}
	pos, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, fmt.Errorf("%w: position of collection %d", ErrCorrupt, id)
	}
	return pos, nil
}

// SetPosition records that the change feed holds the events of every op
// below pos. It does not wait for an fsync.
func (s *Store) SetPosition(id, pos uint64) error {
	if err := s.db.Set(idKey(prefixPosition, id), binary.AppendUvarint(nil, pos), pebble.NoSync); err != nil {
		return fmt.Errorf("store: save position of collection %d: %w", id, err)
	}
	return nil
}

// CompactAll compacts the whole view: the keys of dropped collections
// leave its files (a fabric's data deleted from a region).
func (s *Store) CompactAll() error {
	if err := s.db.Compact([]byte{0}, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	return nil
}
