package store

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/pebblekv"
)

// DefaultCacheBytes is the block cache of the view's Pebble database.
const DefaultCacheBytes = 64 << 20

// Store is the materialized view of every collection of a node.
type Store struct {
	db  *pebblekv.DB
	log *zap.Logger
}

// Open opens (or creates) the view in dir. cacheBytes sizes Pebble's block
// cache (0: DefaultCacheBytes).
func Open(dir string, cacheBytes int64, logger *zap.Logger) (*Store, error) {
	return OpenWith(dir, cacheBytes, pebblekv.Options{Logger: logger})
}

// OpenWith is Open with the store's full-disk handling configured (its
// file system, free-space reserve; see internal/pebblekv). A write on a
// full disk is an error wrapping pebblekv.ErrWritesRefused; reads go on,
// and writes resume by themselves when space returns.
func OpenWith(dir string, cacheBytes int64, o pebblekv.Options) (*Store, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	po := &pebble.Options{}
	if o.Pebble != nil {
		po = o.Pebble.Clone()
	}
	po.Cache = pebble.NewCache(cacheBytes)
	defer po.Cache.Unref()
	o.Pebble, o.Name = po, "collections"
	db, err := pebblekv.Open(dir, o)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &Store{db: db, log: o.Logger}, nil
}

// Health is the view's state: whether it accepts writes, and why not.
func (s *Store) Health() pebblekv.Health { return s.db.Health() }

// Close flushes and closes the database.
func (s *Store) Close() error {
	if err := s.db.Flush(); err != nil {
		s.log.Warn("flush view", zap.Error(err))
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// getter is what get reads from: the store, a snapshot or a batch.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// get returns a copy of the value at key, or nil when absent.
func get(r getter, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	_ = closer.Close()
	return out, nil
}
