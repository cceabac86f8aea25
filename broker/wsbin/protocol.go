package wsbin

import (
	"errors"
	"fmt"
)

// Negotiation of the binary protocol on the WebSocket upgrade.
const (
	// Protocol is the protocol's name, the value of ProtocolParam.
	Protocol = "causeway-binary-v1"
	// ProtocolParam is the query parameter of the producer, consumer and
	// reader URLs that asks for Protocol; absent or "json" means Pulsar's
	// JSON frames.
	ProtocolParam = "protocol"
	// ProtocolJSON is the explicit value for Pulsar's JSON frames.
	ProtocolJSON = "json"
	// HeaderProtocol is set on the upgrade response to the protocol the
	// server speaks on the connection when the client asked for Protocol, so
	// a client can tell a server that ignored the parameter.
	HeaderProtocol = "X-Causeway-Protocol"
)

// Type is a frame's first byte.
type Type byte

// Frame types.
const (
	TypePublish    Type = 0x01
	TypePublishAck Type = 0x02
	TypeMessages   Type = 0x03
	TypeAcks       Type = 0x04
	TypePermit     Type = 0x05
	TypeError      Type = 0x06
)

func (t Type) String() string {
	switch t {
	case TypePublish:
		return "publish"
	case TypePublishAck:
		return "publish ack"
	case TypeMessages:
		return "messages"
	case TypeAcks:
		return "acks"
	case TypePermit:
		return "permit"
	case TypeError:
		return "error"
	}
	return fmt.Sprintf("unknown (0x%02x)", byte(t))
}

// Limits of the format. A decoder refuses a frame past them.
const (
	// MaxMessagesPerFrame bounds the messages of a publish or messages
	// frame (the JSON batch extension's bound, wsproto.MaxBatchMessages).
	MaxMessagesPerFrame = 10000
	// MaxAcksPerFrame bounds the acks of one acks frame.
	MaxAcksPerFrame = 10000
	// MaxPermitsPerFrame bounds one permit frame (as in the JSON protocol).
	MaxPermitsPerFrame = 1 << 20
	// MaxMetaBytes bounds the key plus property names and values of one
	// published message, so that a message within the payload limit always
	// fits the storage's record limit (payload + 64 KiB).
	MaxMetaBytes = 32 << 10
	// MaxPropertiesPerMessage bounds the properties of one published message.
	MaxPropertiesPerMessage = 1024
	// MaxPropertiesPerFrame bounds the properties of all messages of a
	// frame; a messages frame may exceed it only with a single message.
	MaxPropertiesPerFrame = 1 << 16
	// MaxErrorBytes bounds an error text in a publish ack or an error frame;
	// longer texts are cut by the encoders.
	MaxErrorBytes = 4096
)

// Sentinel errors. Decoders wrap one of them.
var (
	// ErrMalformed reports a frame that does not follow the format:
	// truncated, trailing bytes, unknown flags or type, a count past a limit.
	ErrMalformed = errors.New("wsbin: malformed frame")
	// ErrTooLarge reports a frame whose messages carry more properties
	// than MaxPropertiesPerFrame.
	ErrTooLarge = errors.New("wsbin: frame too large")
)

// TypeOf returns a frame's type; an empty frame or an unknown type is
// ErrMalformed.
func TypeOf(frame []byte) (Type, error) {
	if len(frame) == 0 {
		return 0, fmt.Errorf("%w: empty frame", ErrMalformed)
	}
	t := Type(frame[0])
	if t < TypePublish || t > TypeError {
		return t, fmt.Errorf("%w: unknown frame type 0x%02x", ErrMalformed, frame[0])
	}
	return t, nil
}
