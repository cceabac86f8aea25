package broker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/internal/pebblekv"
)

// prefixExt is where namespaces handed out by MetaKV live in the metadata
// store; no other key starts with it.
const prefixExt = "ext/"

// MetaKV is one namespace of the node's metadata store, for front ends that
// keep a few small records beside the registry (broker/auth keeps its API
// keys there). Writes are synced before they return. Keys are relative to
// the namespace.
type MetaKV struct {
	db     *pebblekv.DB
	prefix string
}

// MetaKV returns the namespace ns (a valid name, see naming.Validate).
func (n *Node) MetaKV(ns string) MetaKV {
	return MetaKV{db: n.meta, prefix: prefixExt + ns + "/"}
}

// Get returns the value of key; found is false when there is none.
func (m MetaKV) Get(key string) (val []byte, found bool, err error) {
	b, closer, err := m.db.Get([]byte(m.prefix + key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("broker: meta get %s%s: %w", m.prefix, key, err)
	}
	defer closer.Close()
	return append([]byte(nil), b...), true, nil
}

// Set stores val under key.
func (m MetaKV) Set(key string, val []byte) error {
	if err := m.db.Set([]byte(m.prefix+key), val, pebble.Sync); err != nil {
		return fmt.Errorf("broker: meta set %s%s: %w", m.prefix, key, err)
	}
	return nil
}

// Delete removes key (no error when it is missing).
func (m MetaKV) Delete(key string) error {
	if err := m.db.Delete([]byte(m.prefix+key), pebble.Sync); err != nil {
		return fmt.Errorf("broker: meta delete %s%s: %w", m.prefix, key, err)
	}
	return nil
}

// Scan calls fn for every key starting with prefix, in key order, with the
// key relative to the namespace; it stops at fn's first error. val is only
// valid during the call.
func (m MetaKV) Scan(prefix string, fn func(key string, val []byte) error) error {
	lower := []byte(m.prefix + prefix)
	upper := prefixEnd(lower)
	it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("broker: meta scan %s%s: %w", m.prefix, prefix, err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(strings.TrimPrefix(string(it.Key()), m.prefix), it.Value()); err != nil {
			_ = it.Close()
			return err
		}
	}
	return it.Close()
}

// prefixEnd is the smallest key above every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}
