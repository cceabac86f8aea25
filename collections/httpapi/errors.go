package httpapi

import (
	"errors"
	"net/http"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/queryparam"
)

// ArangoDB error numbers used in responses.
const (
	errNumInternal          = 4
	errNumNotImplemented    = 9
	errNumBadParameter      = 10
	errNumResourceLimit     = 32
	errNumCorruptedJSON     = 600
	errNumConflict          = 1200
	errNumDocumentNotFound  = 1202
	errNumCollectionUnknown = 1203
	errNumDuplicateName     = 1207
	errNumIllegalName       = 1208
	errNumUniqueViolated    = 1210
	errNumIndexNotFound     = 1212
	errNumDocumentKeyBad    = 1221
	errNumDocumentTypeBad   = 1227
	errNumDatabaseNotFound  = 1228
	errNumQueryKilled       = 1500
	errNumQueryParse        = 1501
	errNumBindMissing       = 1551
	errNumBindUndeclared    = 1552
	errNumBindType          = 1553
	errNumCursorNotFound    = 1600
)

// errCorruptJSON reports a body that is not the JSON the endpoint takes.
var errCorruptJSON = errors.New("collections: malformed JSON body")

// errorCodes maps each error to its HTTP status and ArangoDB error number;
// the first match wins.
var errorCodes = []struct {
	err         error
	status, num int
}{
	{errCorruptJSON, http.StatusBadRequest, errNumCorruptedJSON},
	{queryparam.ErrBadParam, http.StatusBadRequest, errNumBadParameter},
	{service.ErrFabricNotFound, http.StatusNotFound, errNumDatabaseNotFound},
	{service.ErrFabricElsewhere, http.StatusMisdirectedRequest, http.StatusMisdirectedRequest},
	{service.ErrCollectionNotFound, http.StatusNotFound, errNumCollectionUnknown},
	{service.ErrCollectionExists, http.StatusConflict, errNumDuplicateName},
	{service.ErrDocumentNotFound, http.StatusNotFound, errNumDocumentNotFound},
	{service.ErrInvalidKey, http.StatusBadRequest, errNumDocumentKeyBad},
	{service.ErrKeyExists, http.StatusConflict, errNumUniqueViolated},
	{service.ErrPrecondition, http.StatusPreconditionFailed, errNumConflict},
	{service.ErrNotKeyValue, http.StatusBadRequest, errNumBadParameter},
	{service.ErrIndexNotFound, http.StatusNotFound, errNumIndexNotFound},
	{service.ErrCursorNotFound, http.StatusNotFound, errNumCursorNotFound},
	{service.ErrTooManyCursors, http.StatusServiceUnavailable, errNumResourceLimit},
	{service.ErrQueryNotFound, http.StatusNotFound, http.StatusNotFound},
	{service.ErrQueryExists, http.StatusConflict, errNumDuplicateName},
	{service.ErrQueryTimeout, http.StatusGone, errNumQueryKilled},
	{service.ErrTooLarge, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge},
	{service.ErrNotImplemented, http.StatusNotImplemented, errNumNotImplemented},
	{service.ErrUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable},
	{service.ErrBadRequest, http.StatusBadRequest, errNumBadParameter},
	{collections.ErrInvalidName, http.StatusBadRequest, errNumIllegalName},
	{collections.ErrInvalidOp, http.StatusBadRequest, errNumDocumentTypeBad},
	{query.ErrSyntax, http.StatusBadRequest, errNumQueryParse},
	{query.ErrUnsupported, http.StatusBadRequest, errNumQueryParse},
	{query.ErrBindMissing, http.StatusBadRequest, errNumBindMissing},
	{query.ErrBindUnused, http.StatusBadRequest, errNumBindUndeclared},
	{query.ErrBindType, http.StatusBadRequest, errNumBindType},
	{query.ErrTooManyRows, http.StatusBadRequest, errNumResourceLimit},
}

// codes returns the HTTP status and ArangoDB error number of err.
func codes(err error) (status, num int) {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.status, c.num
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge
	}
	if status := broker.HTTPStatus(err); status != http.StatusInternalServerError {
		return status, status
	}
	return http.StatusInternalServerError, errNumInternal
}
