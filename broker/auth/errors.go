package auth

import (
	"errors"
	"net/http"

	"github.com/causeway/causeway/internal/pebblekv"
)

// Errors of the package. HTTPStatus maps each to the status the gate
// answers with.
var (
	// ErrUnauthenticated: no credential, or one that is malformed, unknown,
	// revoked, expired or tampered with. The message never says which.
	ErrUnauthenticated = errors.New("auth: missing or invalid credentials")
	// ErrForbidden: the principal lacks the grant the request needs.
	ErrForbidden = errors.New("auth: permission denied")
	// ErrNotFound answers every request for another tenant's data, whatever
	// exists there.
	ErrNotFound = errors.New("auth: not found")
	// ErrRateLimited: the principal's request rate is over its limit.
	ErrRateLimited = errors.New("auth: too many requests")
	// ErrTooManyConnections: the tenant or the client address holds as many
	// connections as allowed.
	ErrTooManyConnections = errors.New("auth: too many connections")
	// ErrBadGrant: a permission string that does not parse.
	ErrBadGrant = errors.New("auth: invalid permission")
	// ErrBadRequest: a malformed request body or parameter.
	ErrBadRequest = errors.New("auth: bad request")
	// ErrKeyNotFound: no such API key in the tenant.
	ErrKeyNotFound = errors.New("auth: key not found")
	// ErrTooManyKeys: the tenant holds as many keys as allowed.
	ErrTooManyKeys = errors.New("auth: too many keys")
	// ErrNonCanonicalPath: a path with "..", "." or empty segments; it is
	// refused instead of redirected so that no rule is skipped.
	ErrNonCanonicalPath = errors.New("auth: path is not canonical")
	// ErrJWTDisabled: tokens cannot be issued without a signing secret.
	ErrJWTDisabled = errors.New("auth: token signing is not configured")
	// ErrBadEvent: a key event from another region (or this region's
	// journal) that does not decode or does not fit the format: it is
	// refused and changes nothing.
	ErrBadEvent = errors.New("auth: invalid key event")
	// ErrKeyConflict: an event or a request for a key id that already names
	// another key, or a key that was revoked for good.
	ErrKeyConflict = errors.New("auth: key conflict")
	// ErrUnavailable: a key change could not be replicated (replication is
	// closed or failed, or the region is still joining the fabric).
	ErrUnavailable = errors.New("auth: key replication unavailable")
)

// HTTPStatus maps an error of this package to an HTTP status.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrKeyNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrTooManyConnections), errors.Is(err, ErrTooManyKeys):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrBadGrant), errors.Is(err, ErrBadRequest), errors.Is(err, ErrNonCanonicalPath):
		return http.StatusBadRequest
	case errors.Is(err, ErrJWTDisabled):
		return http.StatusNotImplemented
	case errors.Is(err, ErrKeyConflict):
		return http.StatusConflict
	case errors.Is(err, ErrUnavailable), errors.Is(err, pebblekv.ErrWritesRefused), errors.Is(err, pebblekv.ErrUnavailable):
		return http.StatusServiceUnavailable // the key store refuses writes (a full disk): retry
	}
	return http.StatusInternalServerError
}
