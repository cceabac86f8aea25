package kafka

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/causeway/causeway/broker/naming"
)

// Config configures the Kafka front end. The zero value is usable after
// WithDefaults.
type Config struct {
	// Tenant and Fabric hold the streams topics map to (default _mm/_system).
	Tenant string
	Fabric string
	// AdvertisedAddr is the host:port given to clients in Metadata and
	// FindCoordinator; empty means the local address of each connection.
	AdvertisedAddr string
	// MaxRequestBytes bounds one request frame (default 100 MiB, Kafka's
	// socket.request.max.bytes).
	MaxRequestBytes int
	// MaxInFlightRequests bounds requests read but not yet answered per
	// connection (default 64).
	MaxInFlightRequests int
	// MaxConnections bounds open connections (default 10000).
	MaxConnections int
	// DefaultPartitions is the partition count of auto-created topics and of
	// CreateTopics asking for -1 (default 1).
	DefaultPartitions int
	// AutoCreateWait is how long, in a fabric of several regions, a topic
	// asked for with auto-creation is answered LEADER_NOT_AVAILABLE before
	// it is created here (its metadata may still be on its way from the
	// region that created it; default 2s; negative: no wait).
	AutoCreateWait time.Duration
	// GroupInitialRebalanceDelay holds the first join of an empty group to
	// let more members arrive (Kafka's group.initial.rebalance.delay.ms;
	// default 0 here).
	GroupInitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound a group member's session
	// timeout (defaults 1s and 5 minutes, Kafka's group.{min,max}.session.timeout.ms).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// IdleTimeout closes connections that send nothing for this long
	// (default 10 minutes, Kafka's connections.max.idle.ms).
	IdleTimeout time.Duration
}

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	if c.Tenant == "" {
		c.Tenant = naming.DefaultTenant
	}
	if c.Fabric == "" {
		c.Fabric = naming.SystemFabric
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 100 << 20
	}
	if c.MaxInFlightRequests == 0 {
		c.MaxInFlightRequests = 64
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 10000
	}
	if c.DefaultPartitions == 0 {
		c.DefaultPartitions = 1
	}
	if c.AutoCreateWait == 0 {
		c.AutoCreateWait = 2 * time.Second
	}
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = time.Second
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = 5 * time.Minute
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if err := naming.Validate("tenant", c.Tenant); err != nil {
		errs = append(errs, err)
	}
	if err := naming.Validate("fabric", c.Fabric); err != nil {
		errs = append(errs, err)
	}
	if c.AdvertisedAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdvertisedAddr); err != nil {
			errs = append(errs, fmt.Errorf("advertised address %q: %w", c.AdvertisedAddr, err))
		}
	}
	if c.MaxRequestBytes < 1<<10 || c.MaxRequestBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("maxRequestBytes %d: want 1 KiB..1 GiB", c.MaxRequestBytes))
	}
	if c.MaxInFlightRequests < 1 || c.MaxInFlightRequests > 10000 {
		errs = append(errs, fmt.Errorf("maxInFlightRequests %d: want 1..10000", c.MaxInFlightRequests))
	}
	if c.DefaultPartitions < 1 || c.DefaultPartitions > maxPartitions {
		errs = append(errs, fmt.Errorf("defaultPartitions %d: want 1..%d", c.DefaultPartitions, maxPartitions))
	}
	if c.MinSessionTimeout <= 0 || c.MaxSessionTimeout < c.MinSessionTimeout {
		errs = append(errs, fmt.Errorf("session timeouts %v..%v: want 0 < min <= max", c.MinSessionTimeout, c.MaxSessionTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
