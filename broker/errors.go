package broker

import (
	"errors"
	"net/http"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/internal/pebblekv"
	"github.com/causeway/causeway/subscription"
)

// Errors of the broker. Each has one home here together with the HTTP status
// the front ends answer it with (see HTTPStatus).
var (
	ErrClosed           = errors.New("broker: node is shutting down")
	ErrStreamNotFound   = errors.New("broker: stream not found")
	ErrStreamExists     = errors.New("broker: stream already exists")
	ErrStreamInUse      = errors.New("broker: stream has connected producers or consumers (use force=true)")
	ErrFabricNotFound   = errors.New("broker: fabric not found")
	ErrFabricExists     = errors.New("broker: fabric already exists")
	ErrTenantNotFound   = errors.New("broker: tenant not found")
	ErrProducerBusy     = errors.New("broker: a producer with this name is already connected")
	ErrTooManyProducers = errors.New("broker: too many producers on this stream")
	ErrTooManyConsumers = errors.New("broker: too many consumers on this subscription")
	ErrTooManySubs      = errors.New("broker: too many subscriptions on this stream")
	ErrSubNotFound      = errors.New("broker: subscription not found")
	ErrSubInUse         = errors.New("broker: subscription has connected consumers")
	ErrMessageTooLarge  = errors.New("broker: message larger than the limit")
	ErrBadRequest       = errors.New("broker: bad request")
	// ErrJoining: the region is joining the fabric (it started with an
	// empty disk) and cannot take the request yet; retry.
	ErrJoining = errors.New("broker: the region is joining the fabric")
	// ErrFabricElsewhere: the fabric is pinned to regions this one is not
	// among (FabricElsewhereError names them).
	ErrFabricElsewhere = errors.New("broker: the fabric is not served in this region")
	// ErrNotSupported: the request is valid but this deployment cannot
	// serve it (the error says why).
	ErrNotSupported = errors.New("broker: not supported here")
	// ErrFabricChanging: a change of the fabric's region list is still
	// under way (one change at a time, each once its predecessor applies
	// at the fabric's home).
	ErrFabricChanging = errors.New("broker: the fabric's region list is changing")
)

// HTTPStatus maps any error the broker (or a package below it) returns to
// the HTTP status a front end answers with.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, naming.ErrReserved):
		return http.StatusForbidden
	case errors.Is(err, naming.ErrInvalidName), errors.Is(err, ErrBadRequest),
		errors.Is(err, subscription.ErrUnknownMessage), errors.Is(err, subscription.ErrCumulativeAckShared),
		errors.Is(err, subscription.ErrUnsupportedType), errors.Is(err, subscription.ErrInvalidArgument),
		errors.Is(err, segment.ErrOffsetOutOfRange):
		return http.StatusBadRequest
	case errors.Is(err, ErrStreamNotFound), errors.Is(err, ErrFabricNotFound), errors.Is(err, ErrTenantNotFound),
		errors.Is(err, ErrSubNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrStreamExists), errors.Is(err, ErrFabricExists), errors.Is(err, ErrFabricChanging), errors.Is(err, ErrStreamInUse), errors.Is(err, ErrProducerBusy),
		errors.Is(err, ErrSubInUse), errors.Is(err, subscription.ErrExclusiveBusy), errors.Is(err, subscription.ErrTypeMismatch):
		return http.StatusConflict
	case errors.Is(err, ErrFabricElsewhere):
		return http.StatusMisdirectedRequest
	case errors.Is(err, ErrNotSupported):
		return http.StatusNotImplemented
	case errors.Is(err, ErrMessageTooLarge), errors.Is(err, segment.ErrRecordTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrTooManyProducers), errors.Is(err, ErrTooManyConsumers), errors.Is(err, ErrTooManySubs):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrClosed), errors.Is(err, ErrJoining), errors.Is(err, ErrNotOwner), errors.Is(err, ErrLeaderMoved),
		errors.Is(err, pebblekv.ErrWritesRefused), errors.Is(err, pebblekv.ErrUnavailable):
		// A store refusing writes (a full disk) is retryable.
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
