package clients

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/causeway/causeway/broker/wsproto"
)

// Sentinel errors. Errors returned by this package wrap one of them where one
// fits, so callers can test with errors.Is.
var (
	// ErrClosed reports use of a closed client, producer, consumer or reader.
	ErrClosed = errors.New("clients: closed")
	// ErrInvalidArgument reports bad options or a bad argument; nothing was sent.
	ErrInvalidArgument = errors.New("clients: invalid argument")
	// ErrBadRequest is an HTTP 400 refusal of the upgrade (bad parameters).
	ErrBadRequest = errors.New("clients: bad request")
	// ErrUnauthorized is an HTTP 401 or 403 refusal of the upgrade.
	ErrUnauthorized = errors.New("clients: unauthorized")
	// ErrNotFound is an HTTP 404 refusal: the stream does not exist and the
	// server does not create streams on first use.
	ErrNotFound = errors.New("clients: not found")
	// ErrConsumerBusy is an HTTP 409 refusal of a consumer: the exclusive
	// subscription already has a consumer.
	ErrConsumerBusy = errors.New("clients: subscription busy")
	// ErrProducerBusy is an HTTP 409 refusal of a producer: its name is in use.
	ErrProducerBusy = errors.New("clients: producer name in use")
	// ErrRefused is any other HTTP refusal of the upgrade.
	ErrRefused = errors.New("clients: connection refused by server")
	// ErrNotConnected reports an ack or command issued while the connection is
	// being re-established; the server redelivers what was not acked.
	ErrNotConnected = errors.New("clients: not connected")
	// ErrProtocol reports a frame from the server that breaks the protocol.
	ErrProtocol = errors.New("clients: protocol error")
	// ErrUnsupported reports a server that does not offer what the client
	// asked for (WithBinaryProtocol on a server without causeway-binary-v1).
	ErrUnsupported = errors.New("clients: not supported by the server")
)

// maxErrorBodyBytes bounds how much of a refusal's body is kept.
const maxErrorBodyBytes = 1024

// RefusedError is an HTTP refusal of the WebSocket upgrade. It unwraps to
// ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrConsumerBusy,
// ErrProducerBusy or ErrRefused.
type RefusedError struct {
	Op     string // what was being opened, e.g. "consumer persistent://t/f/s sub"
	Status int    // HTTP status code
	Body   string // the server's explanation, trimmed and bounded
	kind   error
}

func (e *RefusedError) Error() string {
	msg := strings.TrimPrefix(e.kind.Error(), "clients: ")
	if e.Body == "" {
		return fmt.Sprintf("clients: %s: %s (HTTP %d)", e.Op, msg, e.Status)
	}
	return fmt.Sprintf("clients: %s: %s (HTTP %d: %s)", e.Op, msg, e.Status, e.Body)
}

// Unwrap returns the sentinel error for the status.
func (e *RefusedError) Unwrap() error { return e.kind }

// refused classifies an HTTP refusal. busy is the sentinel for 409, which
// depends on what was being opened.
func refused(op string, status int, body []byte, busy error) *RefusedError {
	b := strings.TrimSpace(string(body))
	if len(b) > maxErrorBodyBytes {
		b = b[:maxErrorBodyBytes]
	}
	e := &RefusedError{Op: op, Status: status, Body: b}
	switch status {
	case http.StatusBadRequest:
		e.kind = ErrBadRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		e.kind = ErrUnauthorized
	case http.StatusNotFound:
		e.kind = ErrNotFound
	case http.StatusConflict:
		e.kind = busy
	default:
		e.kind = ErrRefused
	}
	return e
}

// CloseError is a WebSocket close frame sent by the server, with its reason.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("clients: connection closed by server with code %d", e.Code)
	}
	return fmt.Sprintf("clients: connection closed by server with code %d: %s", e.Code, e.Reason)
}

// SendError is a publish the server answered with "send-error:N".
type SendError struct {
	Code int    // Pulsar's WebSocketError code (wsproto.ErrCode...)
	Msg  string // the server's errorMsg
}

func (e *SendError) Error() string {
	return fmt.Sprintf("clients: send-error:%d: %s", e.Code, e.Msg)
}

// sendErrorFromAck builds the error for a failed ack.
func sendErrorFromAck(a wsproto.ProducerAck) error {
	code, ok := strings.CutPrefix(a.Result, "send-error:")
	if !ok {
		return &SendError{Code: wsproto.ErrCodeUnknown, Msg: fmt.Sprintf("result %q: %s", a.Result, a.ErrorMsg)}
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		n = wsproto.ErrCodeUnknown
	}
	return &SendError{Code: n, Msg: a.ErrorMsg}
}

// retriable reports whether a connection failure may succeed if tried
// again: transport errors and server restarts may; refusals of the request
// itself and close frames saying the client broke the protocol may not.
// A 409 (busy) is not retriable here; the reconnect loop gives it a few
// tries of its own, since the server may not yet have noticed that this
// client's previous connection is gone.
func retriable(err error) bool {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Status >= 500 || re.Status == http.StatusTooManyRequests || re.Status == http.StatusRequestTimeout
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case wsproto.CloseProtocolError, wsproto.CloseInvalidData, wsproto.ClosePolicy, wsproto.CloseTooLarge,
			1003 /* unsupported data */, 1010 /* mandatory extension */ :
			return false
		}
		return true
	}
	return !errors.Is(err, ErrClosed) && !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrUnsupported)
}

// isBusy reports a 409 refusal.
func isBusy(err error) bool {
	var re *RefusedError
	return errors.As(err, &re) && re.Status == http.StatusConflict
}
