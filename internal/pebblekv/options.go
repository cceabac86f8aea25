package pebblekv

import (
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"
)

// Defaults of Options.
const (
	DefaultRetryInterval = time.Second
	DefaultReserveBytes  = 64 << 20
	DefaultDrainTimeout  = 5 * time.Second
	probeBytes           = 1 << 20
)

// Options configure a DB. The zero value works.
type Options struct {
	// Name names the store in logs, errors and Health ("meta",
	// "collections", "spot").
	Name string
	// Pebble is a template of Pebble's options (cache, sizes); its Logger
	// is replaced, its FS used (nil: the disk).
	Pebble *pebble.Options
	// Logger receives the store's logs (nil: none).
	Logger *zap.Logger
	// ReserveBytes: writes are refused while the disk has less free (0:
	// DefaultReserveBytes, at most an eighth of the disk; negative: no
	// reserve). It leaves room for
	// Pebble's flushes, compactions and WAL so that a full disk is met by
	// this check rather than by a failed WAL write.
	ReserveBytes int64
	// RetryInterval is how often a failed store probes the disk
	// (0: DefaultRetryInterval).
	RetryInterval time.Duration
	// DrainTimeout bounds how long a reopen waits for readers to let go
	// before trying again later (0: DefaultDrainTimeout).
	DrainTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "store"
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	return o
}

// pebbleOptions returns a fresh copy of the template for one open.
func (d *DB) pebbleOptions(readOnly bool) *pebble.Options {
	var po pebble.Options
	if d.opts.Pebble != nil {
		po = *d.opts.Pebble.Clone()
	}
	po.FS = d.fs
	po.Logger = logger{db: d, log: d.log, rate: d.rate}
	po.ReadOnly = readOnly
	return &po
}

// fsOf returns the FS of a Pebble options template (the disk when nil).
func fsOf(po *pebble.Options) vfs.FS {
	if po != nil && po.FS != nil {
		return po.FS
	}
	return vfs.Default
}
