package transport

import (
	"crypto/tls"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/link"
)

// Config configures a Transport. Zero bounds and durations take the
// defaults below.
type Config struct {
	// Self is this region's name; Peers maps every other region to the
	// addresses its transport may listen on: "host:port", or a comma-
	// separated list of every node of the region, "h1:p1,h2:p2" (at most
	// MaxPeerAddrs, see ParseAddrs), dialed in turn until one answers.
	Self  string
	Peers map[string]string
	// ListenAddr is where this transport listens ("host:0" for an
	// ephemeral port; Addr tells which).
	ListenAddr string
	// Secret is the fabric secret (hellos are sealed with it).
	Secret []byte
	// WAN is the emulated network of every outbound link; Down is ignored
	// (use SetLinkDown). The zero value is no impairment.
	WAN link.Config
	// Seed makes the emulated WAN's random choices reproducible.
	Seed uint64
	// Logger receives structured logs; nil = no logs.
	Logger *zap.Logger
	// ServerTLS, when set, makes the listener speak TLS (with
	// ClientAuth set, mutual TLS); ClientTLS, when set, makes outbound
	// connections speak TLS (its ServerName defaults to the peer's host).
	// The fabric secret still seals every hello inside.
	ServerTLS *tls.Config
	ClientTLS *tls.Config

	// MaxFrameBytes bounds one frame (default replicator.MaxBatchBytes).
	MaxFrameBytes int
	// MaxQueuedFrames and MaxQueuedBytes bound, per peer, the frames
	// waiting to be written; MaxDelayedBytes the bytes the emulated WAN
	// holds back. Past them frames are dropped.
	MaxQueuedFrames int
	MaxQueuedBytes  int
	MaxDelayedBytes int
	// MaxInbound bounds the inbound connections.
	MaxInbound int
	// DialTimeout, WriteTimeout and HelloTimeout bound connection set-up,
	// one write and the wait for an inbound connection's hello.
	DialTimeout  time.Duration
	WriteTimeout time.Duration
	HelloTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between two dials of a peer
	// (doubling, with jitter).
	BackoffMin time.Duration
	BackoffMax time.Duration
}

// Defaults.
const (
	DefaultMaxQueuedFrames = 4096
	DefaultMaxQueuedBytes  = 64 << 20
	DefaultMaxDelayedBytes = 64 << 20
	DefaultDialTimeout     = 5 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultHelloTimeout    = 10 * time.Second
	DefaultBackoffMin      = 50 * time.Millisecond
	DefaultBackoffMax      = 5 * time.Second
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = replicator.MaxBatchBytes
	}
	if c.MaxQueuedFrames == 0 {
		c.MaxQueuedFrames = DefaultMaxQueuedFrames
	}
	if c.MaxQueuedBytes == 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.MaxDelayedBytes == 0 {
		c.MaxDelayedBytes = DefaultMaxDelayedBytes
	}
	if c.MaxInbound == 0 {
		c.MaxInbound = 4*len(c.Peers) + 16
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.DialTimeout, DefaultDialTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.HelloTimeout, DefaultHelloTimeout)
	def(&c.BackoffMin, DefaultBackoffMin)
	def(&c.BackoffMax, DefaultBackoffMax)
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate checks c after WithDefaults.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("transport: config: "+format+": %w", append(a, ErrInvalidConfig)...)
	}
	if c.Self == "" {
		return bad("no self region")
	}
	for p, addrs := range c.Peers {
		if p == c.Self || p == "" {
			return bad("peer %q at %q", p, addrs)
		}
		if _, err := ParseAddrs(addrs); err != nil {
			return bad("peer %q: %w", p, err)
		}
	}
	if len(c.Secret) < replicator.MinSecretBytes {
		return bad("secret of %d bytes, want >= %d", len(c.Secret), replicator.MinSecretBytes)
	}
	if err := c.WAN.Validate(); err != nil {
		return bad("wan: %v", err)
	}
	if c.MaxFrameBytes < 64 || c.MaxQueuedFrames < 1 || c.MaxQueuedBytes < 1 || c.MaxDelayedBytes < 1 || c.MaxInbound < 1 {
		return bad("bounds must be positive")
	}
	if c.BackoffMax < c.BackoffMin {
		return bad("backoff %s..%s", c.BackoffMin, c.BackoffMax)
	}
	return nil
}
