package store

import "errors"

// Sentinel errors. Each is wrapped with context where it is returned.
var (
	// ErrNotFound reports a missing collection, saved query or document.
	ErrNotFound = errors.New("store: not found")
	// ErrCorrupt reports a stored value that does not decode.
	ErrCorrupt = errors.New("store: corrupt value")
)
