package limits

import "sync/atomic"

// Metrics counts refusals; the caller reads it (no global registry).
type Metrics struct {
	// ConnsRefused counts connections closed at accept because their
	// client address held MaxConnsPerIP connections.
	ConnsRefused atomic.Uint64
}
