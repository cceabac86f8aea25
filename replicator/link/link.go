package link

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrInvalidConfig reports a configuration that does not validate.
var ErrInvalidConfig = errors.New("link: invalid config")

// Config is the behaviour of one directed link.
type Config struct {
	// Latency is the base one-way delay.
	Latency time.Duration
	// Jitter adds a uniform random delay in [0, Jitter).
	Jitter time.Duration
	// LossRate is the probability that a message is dropped.
	LossRate float64
	// DupRate is the probability that a delivered message arrives twice.
	DupRate float64
	// ReorderRate is the probability that a message is held back by an
	// extra ReorderDelay, letting later messages overtake it.
	ReorderRate  float64
	ReorderDelay time.Duration
	// Down partitions the link: every message is dropped.
	Down bool
}

// Validate checks the rates and durations.
func (c Config) Validate() error {
	for _, r := range []float64{c.LossRate, c.DupRate, c.ReorderRate} {
		if r < 0 || r > 1 || r != r {
			return fmt.Errorf("link: rate %v not in [0, 1]: %w", r, ErrInvalidConfig)
		}
	}
	if c.Latency < 0 || c.Jitter < 0 || c.ReorderDelay < 0 {
		return fmt.Errorf("link: negative duration: %w", ErrInvalidConfig)
	}
	return nil
}

// Stats counts what a link did.
type Stats struct {
	Sent, Dropped, Duplicated, Reordered uint64
}

// Link decides the fate of messages on one directed link. It is pure and
// deterministic for a given seed and sequence of calls.
type Link struct {
	cfg   Config
	rng   *rand.Rand
	stats Stats
}

// New returns a link with cfg whose randomness is derived from seed.
func New(cfg Config, seed uint64) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Link{cfg: cfg, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Config returns the link's configuration.
func (l *Link) Config() Config { return l.cfg }

// SetConfig replaces the configuration (for example to start a partition).
func (l *Link) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.cfg = cfg
	return nil
}

// SetDown partitions (true) or heals (false) the link.
func (l *Link) SetDown(down bool) { l.cfg.Down = down }

// Stats returns the counters.
func (l *Link) Stats() Stats { return l.stats }

// Send decides the fate of one message sent at now: it appends to dst the
// times at which copies of it arrive (none when lost, two when duplicated)
// and returns dst.
func (l *Link) Send(now time.Time, dst []time.Time) []time.Time {
	l.stats.Sent++
	// Draw every random number whatever the outcome, so that changing a rate
	// does not shift the random sequence of later messages.
	loss, dup, reorder := l.rng.Float64(), l.rng.Float64(), l.rng.Float64()
	j1, j2 := l.jitter(), l.jitter()
	if l.cfg.Down || loss < l.cfg.LossRate {
		l.stats.Dropped++
		return dst
	}
	at := now.Add(l.cfg.Latency + j1)
	if reorder < l.cfg.ReorderRate {
		l.stats.Reordered++
		at = at.Add(l.cfg.ReorderDelay)
	}
	dst = append(dst, at)
	if dup < l.cfg.DupRate {
		l.stats.Duplicated++
		dst = append(dst, now.Add(l.cfg.Latency+j2))
	}
	return dst
}

func (l *Link) jitter() time.Duration {
	if l.cfg.Jitter <= 0 {
		return 0
	}
	return time.Duration(l.rng.Int64N(int64(l.cfg.Jitter)))
}
