package engine

import "errors"

// Errors of a running worker, carried by EventError (test with errors.Is).
var (
	// ErrType: a value of the wrong type (a string where a number is needed).
	ErrType = errors.New("streamworkers: type error")
	// ErrPayload: the payload is not a JSON object.
	ErrPayload = errors.New("streamworkers: payload is not a JSON object")
	// ErrLate: the event's event time is behind the watermark by more than
	// the allowed lateness.
	ErrLate = errors.New("streamworkers: late event")
	// ErrLimit: the worker's state or window limit is reached.
	ErrLimit = errors.New("streamworkers: limit reached")
	// ErrLookup: the lookup join's collection read failed.
	ErrLookup = errors.New("streamworkers: lookup failed")
	// ErrState: a snapshot that does not belong to this plan or is corrupt.
	ErrState = errors.New("streamworkers: bad state")
)
