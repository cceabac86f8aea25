package wsproto

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Pulsar's WebSocketError codes, used in "send-error:N" results.
const (
	ErrCodeFailedToCreateProducer = 1
	ErrCodeFailedToSubscribe      = 2
	ErrCodeDeserialize            = 3
	ErrCodeSerialize              = 4
	ErrCodeAuthentication         = 5
	ErrCodeNotAuthorized          = 6
	ErrCodePayloadEncoding        = 7
	ErrCodeUnknown                = 8
	// ErrCodePayloadTooLarge is Causeway's own code (Pulsar folds it into 8).
	ErrCodePayloadTooLarge = 9
)

// WebSocket close codes the server uses (RFC 6455 plus the 4xxx range
// applications may use).
const (
	CloseNormal         = 1000
	CloseGoingAway      = 1001
	CloseProtocolError  = 1002
	CloseInvalidData    = 1007
	ClosePolicy         = 1008
	CloseTooLarge       = 1009
	CloseInternal       = 1011
	CloseConsumerClosed = 4000 // the subscription detached this consumer (deleted, node closing)
)

// HeaderLastSequenceID is set on a producer's upgrade response to the
// highest sequence id the stream has stored for that producer name (-1 for
// none), so a reconnecting client continues after it (Pulsar returns the
// same in its producer-created response).
const HeaderLastSequenceID = "X-Causeway-Last-Sequence-Id"

// ErrBadFrame reports a frame that could not be decoded.
var ErrBadFrame = errors.New("wsproto: malformed frame")

// ProducerMessage is a publish frame sent by a producer.
type ProducerMessage struct {
	Payload             string            `json:"payload"`
	Properties          map[string]string `json:"properties,omitempty"`
	Context             string            `json:"context,omitempty"`
	Key                 string            `json:"key,omitempty"`
	ReplicationClusters []string          `json:"replicationClusters,omitempty"`
	EventTime           string            `json:"eventTime,omitempty"`
	SequenceID          *int64            `json:"sequenceId,omitempty"`
}

// ProducerAck answers one ProducerMessage.
type ProducerAck struct {
	Result    string `json:"result"`
	MessageID string `json:"messageId,omitempty"`
	ErrorMsg  string `json:"errorMsg,omitempty"`
	Context   string `json:"context,omitempty"`
}

// OK reports whether the ack is a success.
func (a ProducerAck) OK() bool { return a.Result == "ok" }

// SendError builds a failed ProducerAck with Pulsar's "send-error:N" result.
func SendError(code int, msg, context string) ProducerAck {
	return ProducerAck{Result: "send-error:" + strconv.Itoa(code), ErrorMsg: msg, Context: context}
}

// ConsumerMessage is a message pushed to a consumer or reader.
type ConsumerMessage struct {
	MessageID       string            `json:"messageId"`
	Payload         string            `json:"payload"`
	Properties      map[string]string `json:"properties"`
	PublishTime     string            `json:"publishTime"`
	EventTime       string            `json:"eventTime,omitempty"`
	RedeliveryCount int               `json:"redeliveryCount"`
	Key             string            `json:"key,omitempty"`
	// Topic names the stream for multi-stream consumers (Causeway extension).
	Topic string `json:"topic,omitempty"`
}

// Consumer command types. An ack frame has no type (Pulsar) or "ack".
const (
	CmdAck             = "ack"
	CmdCumulativeAck   = "cumulativeAck" // Causeway extension
	CmdNegativeAck     = "negativeAcknowledge"
	CmdPermit          = "permit"
	CmdUnsubscribe     = "unsubscribe"
	CmdIsEndOfTopic    = "isEndOfTopic"
	maxPermitsPerFrame = 1 << 20
)

// ConsumerCommand is any frame a consumer or reader sends.
type ConsumerCommand struct {
	Type           string `json:"type,omitempty"`
	MessageID      string `json:"messageId,omitempty"`
	PermitMessages int    `json:"permitMessages,omitempty"`
}

// EndOfTopicResponse answers isEndOfTopic.
type EndOfTopicResponse struct {
	EndOfTopic bool `json:"endOfTopic"`
}

// PublishError is a failed publish, answered with SendError.
type PublishError struct {
	Code    int
	Msg     string
	Context string
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("wsproto: send-error:%d: %s", e.Code, e.Msg)
}

// Ack returns the ProducerAck for this error.
func (e *PublishError) Ack() ProducerAck { return SendError(e.Code, e.Msg, e.Context) }

// FormatTime renders Unix milliseconds the way pushed messages carry times
// (ISO-8601 with milliseconds, UTC).
func FormatTime(ms int64) string {
	var b [32]byte
	return string(AppendTime(b[:0], ms))
}

// ParseTime accepts Unix milliseconds as digits or an RFC 3339 time.
func ParseTime(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("wsproto: invalid time %q: want Unix milliseconds or RFC 3339", s)
	}
	return t.UnixMilli(), nil
}
