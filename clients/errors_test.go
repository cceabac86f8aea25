package clients

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

func TestRefused(t *testing.T) {
	cases := []struct {
		status    int
		kind      error
		retriable bool
	}{
		{400, ErrBadRequest, false},
		{401, ErrUnauthorized, false},
		{403, ErrUnauthorized, false},
		{404, ErrNotFound, false},
		{409, ErrConsumerBusy, false},
		{429, ErrRefused, true},
		{500, ErrRefused, true},
		{503, ErrRefused, true},
	}
	for _, c := range cases {
		err := refused("consumer s sub", c.status, []byte(" why \n"), ErrConsumerBusy)
		if !errors.Is(err, c.kind) || retriable(err) != c.retriable || !strings.HasSuffix(err.Error(), fmt.Sprintf("(HTTP %d: why)", c.status)) {
			t.Errorf("%d: %v (retriable %v)", c.status, err, retriable(err))
		}
	}
	long := refused("x", 400, []byte(strings.Repeat("a", 5000)), ErrConsumerBusy)
	if len(long.Body) != maxErrorBodyBytes {
		t.Errorf("body kept %d bytes", len(long.Body))
	}
}

func TestRetriable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&CloseError{Code: wsproto.CloseGoingAway}, true},
		{&CloseError{Code: wsproto.CloseInternal}, true},
		{&CloseError{Code: wsproto.CloseConsumerClosed, Reason: "node closing"}, true},
		{&CloseError{Code: wsproto.ClosePolicy, Reason: "token expired"}, false},
		{&CloseError{Code: wsproto.CloseTooLarge}, false},
		{&CloseError{Code: wsproto.CloseProtocolError}, false},
		{fmt.Errorf("wrapped: %w", &CloseError{Code: wsproto.CloseInvalidData}), false},
		{io.ErrUnexpectedEOF, true},
		{ErrProtocol, true},
		{ErrClosed, false},
	}
	for _, c := range cases {
		if got := retriable(c.err); got != c.want {
			t.Errorf("retriable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestSendErrorFromAck(t *testing.T) {
	cases := []struct {
		ack  wsproto.ProducerAck
		code int
	}{
		{wsproto.SendError(9, "big", "1"), 9},
		{wsproto.ProducerAck{Result: "send-error:x", ErrorMsg: "?"}, wsproto.ErrCodeUnknown},
		{wsproto.ProducerAck{Result: "weird"}, wsproto.ErrCodeUnknown},
	}
	for _, c := range cases {
		var se *SendError
		if err := sendErrorFromAck(c.ack); !errors.As(err, &se) || se.Code != c.code {
			t.Errorf("%+v: %v", c.ack, err)
		}
	}
}
