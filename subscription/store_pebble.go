package subscription

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleKeyPrefix namespaces cursors inside a DB shared with other users.
const pebbleKeyPrefix = "subscription/cursor/"

type pebbleStore struct {
	db PebbleKV
}

// PebbleKV is what a Pebble store keeping cursors must do: a *pebble.DB, or
// the node's full-disk-proof store (internal/pebblekv).
type PebbleKV interface {
	Get(key []byte) ([]byte, io.Closer, error)
	Set(key, value []byte, o *pebble.WriteOptions) error
	Delete(key []byte, o *pebble.WriteOptions) error
}

// NewPebbleStore returns a Store keeping cursors in db under the prefix
// "subscription/cursor/". The caller owns db (opens and closes it). Writes
// use pebble.Sync.
func NewPebbleStore(db PebbleKV) Store { return &pebbleStore{db: db} }

func (s *pebbleStore) Load(key string) (CursorState, bool, error) {
	v, closer, err := s.db.Get([]byte(pebbleKeyPrefix + key))
	if errors.Is(err, pebble.ErrNotFound) {
		return CursorState{}, false, nil
	}
	if err != nil {
		return CursorState{}, false, fmt.Errorf("subscription: load cursor %s: %w", key, err)
	}
	defer closer.Close()
	var st CursorState
	if err := st.UnmarshalBinary(v); err != nil {
		return CursorState{}, false, fmt.Errorf("subscription: load cursor %s: %w", key, err)
	}
	return st, true, nil
}

func (s *pebbleStore) Save(key string, st CursorState) error {
	b, err := st.MarshalBinary()
	if err != nil {
		return fmt.Errorf("subscription: save cursor %s: %w", key, err)
	}
	if err := s.db.Set([]byte(pebbleKeyPrefix+key), b, pebble.Sync); err != nil {
		return fmt.Errorf("subscription: save cursor %s: %w", key, err)
	}
	return nil
}

func (s *pebbleStore) Delete(key string) error {
	if err := s.db.Delete([]byte(pebbleKeyPrefix+key), pebble.Sync); err != nil {
		return fmt.Errorf("subscription: delete cursor %s: %w", key, err)
	}
	return nil
}
