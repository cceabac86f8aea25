package auth

import (
	"errors"
	"fmt"
	"time"
)

// Config configures authentication and the per-key limits. Zero fields take
// their defaults.
type Config struct {
	// Enabled turns authentication on. nil leaves the choice to whoever
	// builds the config: a broker.Config zero value (tests, embedded nodes)
	// runs open; `causeway serve` and `causeway dev` turn it on unless the
	// configuration file says enabled: false.
	Enabled *bool `yaml:"enabled"`
	// AdminKey is a superuser key of the default tenant that the node makes
	// sure exists at every start (an API key as NewKey makes them). When it
	// is empty and no key exists yet, the node generates one at its first
	// start and hands it out once (see Service.BootstrapKey).
	AdminKey string `yaml:"adminKey"`
	// JWTSecret signs and verifies bearer tokens (HS256, at least 32
	// bytes). Empty: a random secret generated at the first start and kept
	// in the node's metadata store (tokens then verify on this node only),
	// or in a region of several nodes one derived from the region secret
	// (UseRegion: tokens verify on every node of the region).
	JWTSecret string `yaml:"jwtSecret"`
	// MaxTokenTTL bounds the lifetime of tokens POST /_api/token issues
	// (default 24h); DefaultTokenTTL is used when the request gives none.
	MaxTokenTTL time.Duration `yaml:"maxTokenTTL"`
	// RequestsPerSecond and RequestBurst bound each principal's HTTP and
	// WebSocket handshake rate (a token bucket; defaults 1000/s and 2000;
	// a negative rate means no limit); its Kafka requests take the same
	// bucket and are throttled, not refused, past it (Throttle).
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	RequestBurst      int     `yaml:"requestBurst"`
	// MaxConnsPerTenant bounds a tenant's open WebSocket and Kafka
	// connections (default 10000; -1 = no limit).
	MaxConnsPerTenant int `yaml:"maxConnsPerTenant"`
	// MaxKeysPerTenant bounds a tenant's API keys (default 1000).
	MaxKeysPerTenant int `yaml:"maxKeysPerTenant"`
}

// Defaults.
const (
	DefaultMaxTokenTTL       = 24 * time.Hour
	DefaultTokenTTL          = time.Hour
	DefaultRequestsPerSecond = 1000
	DefaultRequestBurst      = 2000
	DefaultMaxConnsPerTenant = 10000
	DefaultMaxKeysPerTenant  = 1000
)

// On reports whether authentication is enabled.
func (c Config) On() bool { return c.Enabled != nil && *c.Enabled }

// WithDefaults fills every zero field with its default (Enabled stays as
// it is).
func (c Config) WithDefaults() Config {
	if c.MaxTokenTTL == 0 {
		c.MaxTokenTTL = DefaultMaxTokenTTL
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if c.RequestBurst == 0 {
		c.RequestBurst = DefaultRequestBurst
	}
	if c.MaxConnsPerTenant == 0 {
		c.MaxConnsPerTenant = DefaultMaxConnsPerTenant
	}
	if c.MaxKeysPerTenant == 0 {
		c.MaxKeysPerTenant = DefaultMaxKeysPerTenant
	}
	return c
}

// Validate reports every invalid setting (of a config after WithDefaults).
func (c Config) Validate() error {
	var errs []error
	if c.AdminKey != "" && !IsKey(c.AdminKey) {
		errs = append(errs, errors.New("adminKey: not an API key (cwk_ + 16 hex digits + _ + 43 base64url characters)"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("jwtSecret: %d bytes, want at least %d", len(c.JWTSecret), MinSecretBytes))
	}
	if c.MaxTokenTTL < time.Minute {
		errs = append(errs, fmt.Errorf("maxTokenTTL %v: want at least 1m", c.MaxTokenTTL))
	}
	if c.RequestBurst < 1 {
		errs = append(errs, fmt.Errorf("requestBurst %d: want at least 1", c.RequestBurst))
	}
	if c.MaxConnsPerTenant < -1 {
		errs = append(errs, fmt.Errorf("maxConnsPerTenant %d: want -1 (no limit) or more than 0", c.MaxConnsPerTenant))
	}
	if c.MaxKeysPerTenant < 1 {
		errs = append(errs, fmt.Errorf("maxKeysPerTenant %d: want at least 1", c.MaxKeysPerTenant))
	}
	if len(errs) > 0 {
		return fmt.Errorf("auth: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
