package service

import (
	"fmt"
	"time"
)

// Options configure the service. Zero fields take their defaults.
type Options struct {
	// Now is the wall clock used for TTL expiry, HLCs and cursor expiry
	// (default time.Now). Tests inject their own.
	Now func() time.Time
	// Sequencer hands out dots (default: a LocalSequencer of the node's
	// region reading Now).
	Sequencer Sequencer
	// CacheBytes sizes the view's block cache (default 64 MiB).
	CacheBytes int64
	// SweepInterval is how often expired key/value entries are deleted
	// (default 1s; reads hide expired entries at once regardless).
	SweepInterval time.Duration
	// MaxQueryTime bounds the time one query request (first batch or next
	// batch) may run (default 10s).
	MaxQueryTime time.Duration
	// CursorTTL is how long an idle cursor lives (default 30s, ArangoDB's).
	CursorTTL time.Duration
	// MaxCursors bounds open cursors per node (default 256).
	MaxCursors int
	// MaxBatchSize bounds the rows of one batch (default 10000); the default
	// batch size is 1000 (ArangoDB's).
	MaxBatchSize int
	// MaxBatchBytes ends a batch early once its rows pass this size
	// (default 16 MiB).
	MaxBatchBytes int
	// MaxMemoryRows bounds the rows (or groups) one query sorts or groups
	// in memory (default 1,000,000).
	MaxMemoryRows int
	// BootstrapFrom lists base URLs of other regions' nodes
	// ("http://host:port"). A multi-region node whose view is new loads a
	// snapshot from the first that answers (GET /_api/collections/snapshot)
	// before it applies anything replicated; see bootstrap.go.
	BootstrapFrom []string
	// BootstrapToken authenticates the snapshot request (a superuser key
	// or token; empty: none).
	BootstrapToken string
	// BootstrapTimeout bounds the attempts (default 60s).
	BootstrapTimeout time.Duration
	// Cluster makes the service one node's part of a region of several
	// nodes (cluster.go): collections are served by the node leading their
	// op log and described in the region's catalog. Nil: a region of one.
	// With geo-replication too (see the package comment), but not with
	// BootstrapFrom.
	Cluster Cluster
}

// Defaults.
const (
	DefaultSweepInterval    = time.Second
	DefaultMaxQueryTime     = 10 * time.Second
	DefaultCursorTTL        = 30 * time.Second
	DefaultMaxCursors       = 256
	DefaultBatchSize        = 1000
	DefaultMaxBatchSize     = 10000
	DefaultMaxBatchBytes    = 16 << 20
	DefaultMaxMemoryRows    = 1_000_000
	DefaultBootstrapTimeout = 60 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.MaxQueryTime == 0 {
		o.MaxQueryTime = DefaultMaxQueryTime
	}
	if o.CursorTTL == 0 {
		o.CursorTTL = DefaultCursorTTL
	}
	if o.MaxCursors == 0 {
		o.MaxCursors = DefaultMaxCursors
	}
	if o.MaxBatchSize == 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.BootstrapTimeout == 0 {
		o.BootstrapTimeout = DefaultBootstrapTimeout
	}
	if o.MaxMemoryRows == 0 {
		o.MaxMemoryRows = DefaultMaxMemoryRows
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.SweepInterval < 0, o.MaxQueryTime < 0, o.CursorTTL < 0:
		return fmt.Errorf("collections: durations must not be negative")
	case o.MaxCursors < 0, o.MaxBatchSize < 0, o.MaxBatchBytes < 0, o.MaxMemoryRows < 0:
		return fmt.Errorf("collections: limits must not be negative")
	}
	return nil
}
