package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Geo-replication state of the view (see the package comment for keys):
// how far each collection's op log is shipped to the replicator, and the
// highest replicator sequence applied per origin.

// Shipped returns the op-log position below which the collection's own
// ops are handed to the replicator, and whether one is recorded.
func (s *Store) Shipped(id uint64) (uint64, bool, error) {
	v, err := get(s.db, idKey(prefixShipped, id))
	if err != nil || v == nil {
		return 0, false, err
	}
	pos, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, false, fmt.Errorf("%w: shipped position of collection %d", ErrCorrupt, id)
	}
	return pos, true, nil
}

// SetShipped records the shipped position. It does not wait for an fsync:
// a position lost in a crash only makes the shipper send some ops again,
// which every region ignores as duplicates.
func (s *Store) SetShipped(id, pos uint64) error {
	if err := s.db.Set(idKey(prefixShipped, id), binary.AppendUvarint(nil, pos), pebble.NoSync); err != nil {
		return fmt.Errorf("store: save shipped position of collection %d: %w", id, err)
	}
	return nil
}

// ReplApplied returns, per origin region, the highest replicator sequence
// whose collection payload the view reflects.
func (s *Store) ReplApplied() (map[string]uint64, error) {
	v, err := get(s.db, []byte{prefixReplApplied})
	if err != nil || v == nil {
		return map[string]uint64{}, err
	}
	out := map[string]uint64{}
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("%w: replicated vector: %w", ErrCorrupt, err)
	}
	return out, nil
}

// SetReplApplied records the replicated vector; sync waits for an fsync.
func (s *Store) SetReplApplied(v map[string]uint64, sync bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode replicated vector: %w", err)
	}
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	if err := s.db.Set([]byte{prefixReplApplied}, b, opt); err != nil {
		return fmt.Errorf("store: save replicated vector: %w", err)
	}
	return nil
}
