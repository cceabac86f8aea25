package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/collections"
)

// Export and import of the view, for bootstrapping a region from another's
// snapshot (collections/service writes and reads the stream format).

// Collections lists the collections of the snapshot.
func (sn *Snapshot) Collections() ([]CollectionInfo, error) {
	return listCollections(sn.snap)
}

// Applied returns a collection's applied vector and highest HLC in the
// snapshot.
func (sn *Snapshot) Applied(id uint64) (collections.Vector, uint64, error) {
	return appliedIn(sn.snap, id)
}

// States calls f with every document state of collection id, in key order,
// as stored (collections.Doc binary; f must not keep it).
func (sn *Snapshot) States(id uint64, f func(key string, state []byte) error) error {
	lo := idKey(prefixDoc, id)
	it, err := sn.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: upperBound(lo)})
	if err != nil {
		return fmt.Errorf("store: iterate states of collection %d: %w", id, err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := f(string(it.Key()[len(lo):]), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// SavedQueriesAll calls f with every saved query of the snapshot.
func (sn *Snapshot) SavedQueriesAll(f func(tenant, fabric string, q SavedQuery) error) error {
	it, err := sn.snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSaved}, UpperBound: []byte{prefixSaved + 1}})
	if err != nil {
		return fmt.Errorf("store: iterate saved queries: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		tenant, fabric, _, ok := splitNameKey(it.Key())
		if !ok {
			return fmt.Errorf("%w: saved query key %q", ErrCorrupt, it.Key())
		}
		var q SavedQuery
		if err := json.Unmarshal(it.Value(), &q); err != nil {
			return fmt.Errorf("%w: saved query %q: %w", ErrCorrupt, it.Key(), err)
		}
		if err := f(tenant, fabric, q); err != nil {
			return err
		}
	}
	return it.Error()
}

// splitNameKey splits prefix tenant 0 fabric 0 name.
func splitNameKey(k []byte) (tenant, fabric, name string, ok bool) {
	rest := k[1:]
	var parts []string
	for range 2 {
		i := indexByte(rest, 0)
		if i < 0 {
			return "", "", "", false
		}
		parts = append(parts, string(rest[:i]))
		rest = rest[i+1:]
	}
	return parts[0], parts[1], string(rest), true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// Empty reports whether the store holds no collection, saved query or
// replicated vector.
func (s *Store) Empty() (bool, error) {
	for _, p := range []byte{prefixCollection, prefixSaved, prefixReplApplied} {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{p}, UpperBound: []byte{p + 1}})
		if err != nil {
			return false, fmt.Errorf("store: check empty: %w", err)
		}
		found := it.First()
		err = it.Close()
		if err != nil {
			return false, fmt.Errorf("store: check empty: %w", err)
		}
		if found {
			return false, nil
		}
	}
	return true, nil
}

// Wipe deletes everything (a bootstrap that did not finish).
func (s *Store) Wipe() error {
	if err := s.db.DeleteRange([]byte{0}, []byte{0xff}, pebble.Sync); err != nil {
		return fmt.Errorf("store: wipe: %w", err)
	}
	return nil
}

// BootstrapState returns the recorded bootstrap state ("" when none).
func (s *Store) BootstrapState() (string, error) {
	v, err := get(s.db, []byte{prefixBootstrap})
	if err != nil {
		return "", fmt.Errorf("store: read bootstrap state: %w", err)
	}
	return string(v), nil
}

// SetBootstrapState records the bootstrap state (synced).
func (s *Store) SetBootstrapState(state string) error {
	if err := s.db.Set([]byte{prefixBootstrap}, []byte(state), pebble.Sync); err != nil {
		return fmt.Errorf("store: save bootstrap state: %w", err)
	}
	return nil
}

// ImportCollection saves a collection read from a snapshot with its
// applied vector; its op log starts at from. The id must be unused; the
// next allocated id is raised above it.
func (s *Store) ImportCollection(c CollectionInfo, applied collections.Vector, hlc, from uint64) error {
	if len(c.Indexes) > 0 {
		// Index entries are built as documents are imported.
		c.NextIndexID = max(c.NextIndexID, c.Indexes[len(c.Indexes)-1].ID+1)
	}
	if err := s.CreateCollection(c, from); err != nil {
		return err
	}
	next := uint64(1)
	if v, err := get(s.db, []byte{prefixNextID}); err != nil {
		return fmt.Errorf("store: read next id: %w", err)
	} else if len(v) == 8 {
		next = binary.BigEndian.Uint64(v)
	}
	b := s.NewBatch()
	defer b.Close()
	if c.ID >= next {
		_ = b.b.Set([]byte{prefixNextID}, binary.BigEndian.AppendUint64(nil, c.ID+1), nil)
	}
	if err := b.SetApplied(c.ID, applied, hlc); err != nil {
		return err
	}
	return b.Commit()
}
