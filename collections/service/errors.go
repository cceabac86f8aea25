package service

import "errors"

// Sentinel errors of the service. Each is wrapped with context where it is
// returned; httpapi maps them to HTTP statuses and ArangoDB error numbers.
var (
	ErrFabricNotFound = errors.New("collections: fabric not found")
	// ErrFabricElsewhere: the fabric is pinned to regions this one is not
	// among (the error names them).
	ErrFabricElsewhere    = errors.New("collections: the fabric is not served in this region")
	ErrCollectionNotFound = errors.New("collections: collection not found")
	ErrCollectionExists   = errors.New("collections: duplicate collection name")
	ErrDocumentNotFound   = errors.New("collections: document not found")
	ErrInvalidKey         = errors.New("collections: illegal document key")
	ErrKeyExists          = errors.New("collections: unique constraint violated: a document with this key exists")
	ErrPrecondition       = errors.New("collections: precondition failed: revision mismatch")
	ErrBadRequest         = errors.New("collections: bad request")
	ErrNotKeyValue        = errors.New("collections: not a key/value collection")
	ErrIndexNotFound      = errors.New("collections: index not found")
	ErrCursorNotFound     = errors.New("collections: cursor not found")
	ErrTooManyCursors     = errors.New("collections: too many open cursors")
	ErrQueryNotFound      = errors.New("collections: saved query not found")
	ErrQueryExists        = errors.New("collections: saved query exists")
	ErrQueryTimeout       = errors.New("collections: query ran past its time limit")
	ErrTooLarge           = errors.New("collections: request too large")
	ErrNotImplemented     = errors.New("collections: not implemented")
	ErrUnavailable        = errors.New("collections: unavailable")
	ErrCorruptPayload     = errors.New("collections: corrupt replicated payload")
	ErrCorruptSnapshot    = errors.New("collections: corrupt snapshot")
	ErrNotEmpty           = errors.New("collections: the region already holds collections")
)
