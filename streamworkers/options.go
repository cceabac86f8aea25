package streamworkers

import (
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Limits bound one worker's engine state (engine.Limits): what a
// definition may ask for at most, and what it gets when it asks nothing.
type Limits struct {
	MaxStateBytes int64
	MaxWindows    int
}

// Defaults of Options.
const (
	DefaultMaxStateBytes     = 64 << 20
	DefaultMaxWindows        = 100_000
	DefaultMaxStateBytesCap  = 1 << 30
	DefaultMaxWindowsCap     = 10_000_000
	DefaultPollInterval      = time.Second
	DefaultAdvanceInterval   = 500 * time.Millisecond
	DefaultBatchRecords      = 4096
	DefaultBatchBytes        = 4 << 20
	DefaultRetryInterval     = time.Second
	DefaultDryRunMessages    = 100
	MaxDryRunMessages        = 10_000
	maxErrorPayloadBytes     = 4 << 10 // of a bad message, copied into its error record
	maxPendingPerCommitBytes = 64 << 20
)

// Options configure a Runner. The zero value works.
type Options struct {
	// Default is what a definition without limits gets; Max is the most
	// one may ask for.
	Default, Max Limits
	// PollInterval is how often the runner reads the definitions of every
	// fabric (0: DefaultPollInterval).
	PollInterval time.Duration
	// AdvanceInterval is how often an idle worker's engine is told the
	// time (processing-time windows, pattern timeouts; 0: default).
	AdvanceInterval time.Duration
	// BatchRecords and BatchBytes bound what one commit consumes.
	BatchRecords, BatchBytes int
	// RetryInterval is the pause after a failed read, commit or send.
	RetryInterval time.Duration
	// Dir is where the checkpoint store lives ({node data}/streamworkers
	// when the server opens it).
	Dir string
	// Pebble is a template of the checkpoint store's Pebble options (its
	// FS: tests use a crashable in-memory one).
	Pebble *pebble.Options
	// ReserveBytes is the checkpoint store's free-space reserve
	// (pebblekv.Options.ReserveBytes).
	ReserveBytes int64
	// Now is the wall clock (tests replace it).
	Now func() time.Time

	// crashAt, in tests, stops a worker dead at a named point (see
	// worker.go): nothing after it runs, as if the process died there.
	crashAt func(point string) bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Max.MaxStateBytes == 0 {
		o.Max.MaxStateBytes = DefaultMaxStateBytesCap
	}
	if o.Max.MaxWindows == 0 {
		o.Max.MaxWindows = DefaultMaxWindowsCap
	}
	if o.Default.MaxStateBytes == 0 {
		o.Default.MaxStateBytes = min(DefaultMaxStateBytes, o.Max.MaxStateBytes)
	}
	if o.Default.MaxWindows == 0 {
		o.Default.MaxWindows = min(DefaultMaxWindows, o.Max.MaxWindows)
	}
	if o.Default.MaxStateBytes < 0 || o.Default.MaxWindows < 0 || o.Max.MaxStateBytes < 0 || o.Max.MaxWindows < 0 {
		return o, fmt.Errorf("streamworkers: limits must not be negative")
	}
	if o.Default.MaxStateBytes > o.Max.MaxStateBytes || o.Default.MaxWindows > o.Max.MaxWindows {
		return o, fmt.Errorf("streamworkers: default limits above the maximum ones")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.AdvanceInterval <= 0 {
		o.AdvanceInterval = DefaultAdvanceInterval
	}
	if o.BatchRecords <= 0 {
		o.BatchRecords = DefaultBatchRecords
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DefaultBatchBytes
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dir == "" {
		return o, fmt.Errorf("streamworkers: Options.Dir is required (the checkpoint store)")
	}
	return o, nil
}

// effective is the engine limits of a definition.
func (o Options) effective(l LimitsSpec) Limits {
	out := o.Default
	if l.MaxStateBytes > 0 {
		out.MaxStateBytes = l.MaxStateBytes
	}
	if l.MaxWindows > 0 {
		out.MaxWindows = l.MaxWindows
	}
	return out
}

func (o Options) crash(point string) bool { return o.crashAt != nil && o.crashAt(point) }
