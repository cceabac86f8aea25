package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// OpLogBase returns the op-log position the collection started at: the
// records below it belong to an earlier collection of the same name whose
// stream outlived it. Collections created before it was recorded start
// at 0.
func (s *Store) OpLogBase(id uint64) (uint64, error) {
	v, err := get(s.db, idKey(prefixOpLogBase, id))
	if err != nil || v == nil {
		return 0, err
	}
	pos, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, fmt.Errorf("%w: op-log base of collection %d", ErrCorrupt, id)
	}
	return pos, nil
}

// Sync makes every change committed to the view so far durable (batches
// commit without fsync). Call it before deleting the op-log records the
// view reflects.
func (s *Store) Sync() error {
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}
