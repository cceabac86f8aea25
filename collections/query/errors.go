package query

import "errors"

// Sentinel errors. Each is wrapped with context where it is returned.
var (
	// ErrSyntax reports query text the parser does not accept.
	ErrSyntax = errors.New("query: syntax error")
	// ErrUnsupported reports valid SQL outside the supported subset.
	ErrUnsupported = errors.New("query: unsupported")
	// ErrBindMissing reports a parameter with no value.
	ErrBindMissing = errors.New("query: bind parameter missing")
	// ErrBindUnused reports a value given for a parameter the query does not use.
	ErrBindUnused = errors.New("query: bind parameter not used")
	// ErrBindType reports a parameter value of the wrong type (for example
	// a LIMIT that is not a non-negative integer).
	ErrBindType = errors.New("query: bind parameter has the wrong type")
	// ErrTooManyRows reports a sort or aggregation that would hold more rows
	// in memory than the limit.
	ErrTooManyRows = errors.New("query: too many rows to sort or group in memory")
	// ErrDocument reports a document the iterator yielded that is not a
	// JSON object.
	ErrDocument = errors.New("query: document is not a JSON object")
)
