package ship

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/lograte"
	"github.com/causeway/causeway/region"
)

// Config configures a node's log shipping.
type Config struct {
	// FS holds the logs (vfs.OS in production).
	FS vfs.FS
	// Dir says where a unit's log lives on this node.
	Dir func(region.UnitID) string
	// Segment configures every unit's segment log; SegmentFor, when set,
	// a given unit's (a collection's op log keeps every record, whatever
	// the streams' retention).
	Segment    segment.Options
	SegmentFor func(region.UnitID) segment.Options
	// RetentionInterval is how often followers apply their logs'
	// retention (a leader's stream is trimmed by the broker; default 1m).
	RetentionInterval time.Duration
	// Secret signs fetches and their answers (the region secret).
	Secret string
	// Leader bounds fetch answers and says when a follower lags.
	Leader region.LeaderConfig
	// MaxWait is how long a leader holds a fetch while there is nothing
	// new for a caught-up follower (default 500ms).
	MaxWait time.Duration
	// MaxFetchBytes bounds the records of one answer (default 1 MiB).
	MaxFetchBytes int
	// RetryInterval is the pause after a failed or refused fetch, and
	// between retries of a proposal whose outcome is unknown (default
	// 100ms).
	RetryInterval time.Duration
	// InSyncInterval is how often leaders review their in-sync sets
	// (default 100ms).
	InSyncInterval time.Duration
	// LeaseTimeout: a node that has applied nothing from the region's
	// metadata group for this long (heartbeats are entries, so a node
	// that hears none is cut off from the group's majority) stops leading
	// until it hears from it again: its clients get a clear "not the
	// leader" instead of waiting for acknowledgements that cannot come.
	// Keep it below the group's session timeout, after which the
	// controller moves the units (default 1s against the group's 1.5s).
	LeaseTimeout time.Duration
	// AckTimeout bounds how long an append waits for the in-sync
	// replicas (default 30s).
	AckTimeout time.Duration
	// Client sends fetches (default: a client with keep-alive connections
	// to every peer).
	Client *http.Client
	Logger *zap.Logger

	rate *lograte.Limiter
}

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	if c.FS == nil {
		c.FS = vfs.OS()
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 500 * time.Millisecond
	}
	if c.SegmentFor == nil {
		c.SegmentFor = func(region.UnitID) segment.Options { return c.Segment }
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = time.Minute
	}
	if c.LeaseTimeout <= 0 {
		c.LeaseTimeout = time.Second
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 30 * time.Second
	}
	if c.Leader.MaxLag <= 0 {
		// A follower that stopped fetching (its disk failed, its process
		// hangs) holds acknowledgements up this long before it leaves the
		// in-sync set; a dead node leaves sooner, fenced at the group's
		// session timeout.
		c.Leader.MaxLag = 5 * time.Second
	}
	if c.Leader.MaxFetchEntries <= 0 {
		c.Leader.MaxFetchEntries = maxFetchEntries
	}
	if c.MaxFetchBytes <= 0 {
		c.MaxFetchBytes = 1 << 20
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 100 * time.Millisecond
	}
	if c.InSyncInterval <= 0 {
		c.InSyncInterval = 100 * time.Millisecond
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     time.Minute,
		}}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.rate == nil {
		c.rate = lograte.New(0)
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Dir == nil:
		return errors.New("ship: Dir is required")
	case c.Secret == "":
		return errors.New("ship: the region secret is required")
	}
	return nil
}

// maxFetchEntries bounds the records of one fetch answer (MaxFetchBytes
// bounds their bytes).
const maxFetchEntries = 4096
