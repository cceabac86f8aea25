package spot

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors of SPOT collections. Each is wrapped with context where it
// is returned; Codes gives the HTTP status and ArangoDB error number a front
// end answers it with. Their names (errorCode) travel in Raft results and
// forwarded answers, so an error keeps its identity across regions.
var (
	ErrBadRequest         = errors.New("spot: bad request")
	ErrTooLarge           = errors.New("spot: request too large")
	ErrCollectionNotFound = errors.New("spot: collection not found")
	ErrNotSpot            = errors.New("spot: not a SPOT collection")
	ErrCollectionExists   = errors.New("spot: duplicate collection name")
	ErrDocumentNotFound   = errors.New("spot: document not found")
	ErrKeyExists          = errors.New("spot: unique constraint violated: a document with this key exists")
	ErrPrecondition       = errors.New("spot: precondition failed")
	ErrNotKeyValue        = errors.New("spot: not a key/value collection")
	ErrHomeMismatch       = errors.New("spot: collections of one transaction must share their home region")
	ErrUnavailable        = errors.New("spot: unavailable")
	ErrClosed             = errors.New("spot: service closed")
	ErrCorruptCommand     = errors.New("spot: corrupt command")
	ErrCorruptSnapshot    = errors.New("spot: corrupt snapshot")
	ErrInternal           = errors.New("spot: internal error")
	ErrNotImplemented     = errors.New("spot: not available for SPOT collections")
)

// ArangoDB error numbers used in answers (the collections API uses the
// same ones).
const (
	errNumInternal          = 4
	errNumNotImplemented    = 9
	errNumBadParameter      = 10
	errNumConflict          = 1200
	errNumDocumentNotFound  = 1202
	errNumCollectionUnknown = 1203
	errNumDuplicateName     = 1207
	errNumUniqueViolated    = 1210
)

// errorTable is the one home of every error's wire name, HTTP status and
// error number. The first match wins.
var errorTable = []struct {
	err    error
	code   string
	status int
	num    int
}{
	{ErrBadRequest, "bad_request", http.StatusBadRequest, errNumBadParameter},
	{ErrTooLarge, "too_large", http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge},
	{ErrCollectionNotFound, "collection_not_found", http.StatusNotFound, errNumCollectionUnknown},
	{ErrNotSpot, "not_spot", http.StatusBadRequest, errNumBadParameter},
	{ErrCollectionExists, "collection_exists", http.StatusConflict, errNumDuplicateName},
	{ErrDocumentNotFound, "document_not_found", http.StatusNotFound, errNumDocumentNotFound},
	{ErrKeyExists, "key_exists", http.StatusConflict, errNumUniqueViolated},
	{ErrPrecondition, "precondition_failed", http.StatusPreconditionFailed, errNumConflict},
	{ErrNotKeyValue, "not_key_value", http.StatusBadRequest, errNumBadParameter},
	{ErrHomeMismatch, "home_mismatch", http.StatusBadRequest, errNumBadParameter},
	{ErrUnavailable, "unavailable", http.StatusServiceUnavailable, http.StatusServiceUnavailable},
	{ErrClosed, "closed", http.StatusServiceUnavailable, http.StatusServiceUnavailable},
	{ErrCorruptCommand, "corrupt_command", http.StatusBadRequest, errNumBadParameter},
	{ErrCorruptSnapshot, "corrupt_snapshot", http.StatusInternalServerError, errNumInternal},
	{ErrInternal, "internal", http.StatusInternalServerError, errNumInternal},
	{ErrNotImplemented, "not_implemented", http.StatusNotImplemented, errNumNotImplemented},
}

// Codes returns the HTTP status and ArangoDB error number of err.
func Codes(err error) (status, num int) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, e.num
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError, errNumInternal
}

// errorCode names err's sentinel for the wire ("internal" when none).
func errorCode(err error) string {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return "internal"
}

// errorFromWire rebuilds an error from its wire name and message: the
// message is kept as is and the sentinel stays reachable with errors.Is.
func errorFromWire(code, msg string) error {
	for _, e := range errorTable {
		if e.code == code {
			return &wireError{sentinel: e.err, msg: msg}
		}
	}
	return &wireError{sentinel: ErrInternal, msg: msg}
}

type wireError struct {
	sentinel error
	msg      string
}

func (e *wireError) Error() string { return e.msg }
func (e *wireError) Unwrap() error { return e.sentinel }

// TxnError is a transaction refused as a whole: nothing of it was applied.
// Op is the index of the operation that failed and Precondition the index
// of the precondition that failed (-1 when not that kind of failure).
type TxnError struct {
	Op           int
	Precondition int
	Err          error
}

func (e *TxnError) Error() string {
	switch {
	case e.Op >= 0:
		return fmt.Sprintf("operation %d: %v", e.Op, e.Err)
	case e.Precondition >= 0:
		return fmt.Sprintf("precondition %d: %v", e.Precondition, e.Err)
	}
	return e.Err.Error()
}

func (e *TxnError) Unwrap() error { return e.Err }

// opError reports operation i failing with err.
func opError(i int, err error) *TxnError {
	return &TxnError{Op: i, Precondition: -1, Err: err}
}

// preconditionError reports precondition i failing with err.
func preconditionError(i int, err error) *TxnError {
	return &TxnError{Op: -1, Precondition: i, Err: err}
}
