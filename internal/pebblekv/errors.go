package pebblekv

import (
	"errors"
	"syscall"
)

// ErrWritesRefused is the error of a write refused because the store failed
// a write or the disk is (nearly) full. It wraps the cause; the write may be
// retried once Health reports the store writable again.
var ErrWritesRefused = errors.New("pebblekv: store refuses writes")

// ErrUnavailable is the error of a read or write while the store is being
// reopened (or could not be reopened); retry later.
var ErrUnavailable = errors.New("pebblekv: store unavailable")

// ErrReopened is the error of committing a batch created before the store
// was reopened; nothing of it was written.
var ErrReopened = errors.New("pebblekv: store was reopened since the batch was created")

// ErrLowSpace is the cause of writes refused while less than ReserveBytes
// are free.
var ErrLowSpace = errors.New("disk space below the reserve")

// IsNoSpace reports whether err says the disk is full (ENOSPC, EDQUOT or
// ErrLowSpace).
func IsNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, ErrLowSpace)
}
