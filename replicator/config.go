package replicator

import (
	"fmt"
	"time"
)

// Config configures an Engine. Zero durations and bounds take the defaults
// below (see WithDefaults).
type Config struct {
	// Self is this region's name.
	Self string
	// Regions is the membership, Self included.
	Regions []string

	// MaxBatchOps bounds the operations of one SendRange.
	MaxBatchOps int
	// MaxInflightOps bounds, per peer and origin, the operations sent and not
	// yet acknowledged (the go-back-N window).
	MaxInflightOps int
	// MaxBufferedOps and MaxBufferedBytes bound the operations received but
	// not yet deliverable (missing causal dependencies or a gap in their
	// origin's log). Past them, arrivals are dropped and fetched again by the
	// sender's retransmission.
	MaxBufferedOps   int
	MaxBufferedBytes int
	// MaxAheadOps bounds how far beyond this region's delivered count of an
	// origin a batch may start; further is a dot from the future.
	MaxAheadOps uint64
	// RetransmitTimeout is how long a sender waits for acks to progress
	// before sending again from the last acked op; it doubles on each
	// retransmission up to MaxRetransmitTimeout.
	RetransmitTimeout    time.Duration
	MaxRetransmitTimeout time.Duration
	// RelayDelay is how long a peer must lag behind this region on a third
	// origin, without progress, before this region relays that origin's ops
	// (stretched by up to 2x per (self, origin, peer) to stagger relayers).
	RelayDelay time.Duration
	// AckInterval is the minimum time between two acks to one peer;
	// FullAckInterval the maximum time between two full acks.
	AckInterval     time.Duration
	FullAckInterval time.Duration
	// MaxClockOffset bounds how far ahead of local physical time a remote
	// HLC may be before it is not merged into the local clock (0: no check).
	MaxClockOffset time.Duration
	// LagWindowOps is how many of its own recent ops' times the engine keeps
	// to report replication lag in time.
	LagWindowOps int
	// JoinTimeout bounds how long a region that starts with nothing (a new
	// region, or one whose disk was wiped) waits to hear from every peer
	// before it creates ops of its own; see Engine.Joining. Negative: do
	// not wait (only for tests of a region that is known to be new).
	JoinTimeout time.Duration
}

// Defaults.
const (
	DefaultMaxBatchOps          = 256
	DefaultMaxInflightOps       = 4096
	DefaultMaxBufferedOps       = 16384
	DefaultMaxBufferedBytes     = 64 << 20
	DefaultRetransmitTimeout    = time.Second
	DefaultMaxRetransmitTimeout = 30 * time.Second
	DefaultRelayDelay           = 2 * time.Second
	DefaultAckInterval          = 20 * time.Millisecond
	DefaultFullAckInterval      = 5 * time.Second
	DefaultMaxClockOffset       = 500 * time.Millisecond
	DefaultLagWindowOps         = 4096
	DefaultJoinTimeout          = 5 * time.Second
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBatchOps, DefaultMaxBatchOps)
	def(&c.MaxInflightOps, DefaultMaxInflightOps)
	def(&c.MaxBufferedOps, DefaultMaxBufferedOps)
	def(&c.MaxBufferedBytes, DefaultMaxBufferedBytes)
	def(&c.LagWindowOps, DefaultLagWindowOps)
	if c.MaxAheadOps == 0 {
		c.MaxAheadOps = uint64(2*c.MaxInflightOps + c.MaxBufferedOps)
	}
	defDur(&c.RetransmitTimeout, DefaultRetransmitTimeout)
	defDur(&c.MaxRetransmitTimeout, DefaultMaxRetransmitTimeout)
	defDur(&c.RelayDelay, DefaultRelayDelay)
	defDur(&c.AckInterval, DefaultAckInterval)
	defDur(&c.FullAckInterval, DefaultFullAckInterval)
	defDur(&c.MaxClockOffset, DefaultMaxClockOffset)
	defDur(&c.JoinTimeout, DefaultJoinTimeout)
	return c
}

// Validate checks c (after WithDefaults).
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("replicator: config: "+format+": %w", append(a, ErrInvalidConfig)...)
	}
	if err := validRegionName(c.Self); err != nil {
		return bad("self: %v", err)
	}
	if len(c.Regions) > MaxRegions {
		return bad("%d regions, max %d", len(c.Regions), MaxRegions)
	}
	seen := make(map[string]bool, len(c.Regions))
	for _, r := range c.Regions {
		if err := validRegionName(r); err != nil {
			return bad("region: %v", err)
		}
		if seen[r] {
			return bad("region %q listed twice", r)
		}
		seen[r] = true
	}
	if !seen[c.Self] {
		return bad("self %q not in regions", c.Self)
	}
	switch {
	case c.MaxBatchOps < 1 || c.MaxBatchOps > MaxBatchOps:
		return bad("max batch ops %d not in [1, %d]", c.MaxBatchOps, MaxBatchOps)
	case c.MaxInflightOps < c.MaxBatchOps:
		return bad("max inflight ops %d < max batch ops %d", c.MaxInflightOps, c.MaxBatchOps)
	case c.MaxBufferedOps < 1 || c.MaxBufferedBytes < 1:
		return bad("buffer bounds must be positive")
	case c.LagWindowOps < 1:
		return bad("lag window ops must be positive")
	case c.RetransmitTimeout < 0 || c.MaxRetransmitTimeout < c.RetransmitTimeout:
		return bad("retransmit timeouts %s..%s", c.RetransmitTimeout, c.MaxRetransmitTimeout)
	case c.RelayDelay < 0 || c.AckInterval < 0 || c.FullAckInterval < 0 || c.MaxClockOffset < 0:
		return bad("negative duration")
	}
	return nil
}

// validRegionName checks a region name against the wire bounds.
func validRegionName(name string) error {
	if name == "" || len(name) > MaxRegionNameBytes {
		return fmt.Errorf("region name %q: length %d not in [1, %d]", name, len(name), MaxRegionNameBytes)
	}
	return nil
}
