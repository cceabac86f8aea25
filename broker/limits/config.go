package limits

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the node-wide limits. Zero fields take their defaults.
type Config struct {
	// MaxConnsPerIP bounds the open TCP connections of one client address
	// on each listener (HTTP/WebSocket and Kafka; default 1024, -1 = no
	// limit).
	MaxConnsPerIP int `yaml:"maxConnsPerIP"`
	// MaxHTTPBodyBytes bounds one HTTP request body (default 32 MiB).
	MaxHTTPBodyBytes int64 `yaml:"maxHTTPBodyBytes"`
	// MaxQueryTime bounds one query request (first or next batch) and
	// MaxQueryResultBytes one batch of results; the collections service
	// reads both (defaults 10s and 16 MiB).
	MaxQueryTime        time.Duration `yaml:"maxQueryTime"`
	MaxQueryResultBytes int           `yaml:"maxQueryResultBytes"`
}

// Defaults.
const (
	DefaultMaxConnsPerIP       = 1024
	DefaultMaxHTTPBodyBytes    = 32 << 20
	DefaultMaxQueryTime        = 10 * time.Second
	DefaultMaxQueryResultBytes = 16 << 20
)

// WithDefaults fills every zero field with its default.
func (c Config) WithDefaults() Config {
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxHTTPBodyBytes == 0 {
		c.MaxHTTPBodyBytes = DefaultMaxHTTPBodyBytes
	}
	if c.MaxQueryTime == 0 {
		c.MaxQueryTime = DefaultMaxQueryTime
	}
	if c.MaxQueryResultBytes == 0 {
		c.MaxQueryResultBytes = DefaultMaxQueryResultBytes
	}
	return c
}

// Validate reports every invalid setting (of a config after WithDefaults).
func (c Config) Validate() error {
	var errs []error
	if c.MaxConnsPerIP < -1 {
		errs = append(errs, fmt.Errorf("maxConnsPerIP %d: want -1 (no limit) or more than 0", c.MaxConnsPerIP))
	}
	if c.MaxHTTPBodyBytes < 1<<10 || c.MaxHTTPBodyBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("maxHTTPBodyBytes %d: want 1 KiB..1 GiB", c.MaxHTTPBodyBytes))
	}
	if c.MaxQueryTime < 0 {
		errs = append(errs, fmt.Errorf("maxQueryTime %v: must not be negative", c.MaxQueryTime))
	}
	if c.MaxQueryResultBytes < 0 {
		errs = append(errs, fmt.Errorf("maxQueryResultBytes %d: must not be negative", c.MaxQueryResultBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("limits: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
