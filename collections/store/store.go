package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"
)

// DefaultCacheBytes is the block cache of the view's Pebble database.
const DefaultCacheBytes = 64 << 20

// Store is the materialized view of every collection of a node.
type Store struct {
	db  *pebble.DB
	log *zap.Logger
}

// Open opens (or creates) the view in dir. cacheBytes sizes Pebble's block
// cache (0: DefaultCacheBytes).
func Open(dir string, cacheBytes int64, logger *zap.Logger) (*Store, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{Cache: cache, Logger: pebbleLogger{logger}})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &Store{db: db, log: logger}, nil
}

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

// get returns a copy of the value at key, or nil when absent.
func get(r pebble.Reader, key []byte) ([]byte, error) {
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

// pebbleLogger routes Pebble's logs to zap.
type pebbleLogger struct{ log *zap.Logger }

func (l pebbleLogger) Infof(format string, args ...any)  { l.log.Debug(fmt.Sprintf(format, args...)) }
func (l pebbleLogger) Errorf(format string, args ...any) { l.log.Error(fmt.Sprintf(format, args...)) }
func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
	panic(fmt.Errorf(format, args...))
}
