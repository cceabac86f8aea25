package wsbin

import (
	"encoding/binary"
	"math"

	"github.com/causeway/causeway/broker/wsproto"
)

// Message is one message of a messages frame, pushed to a consumer or a
// reader.
type Message struct {
	// ID is the stream index (within a multi-stream consumer, 0 otherwise)
	// and the offset; Partition is always -1.
	ID              wsproto.MessageID
	PublishTime     int64 // Unix ms
	EventTime       int64 // Unix ms; 0: none
	RedeliveryCount int
	Key             string
	Properties      map[string]string
	// Payload aliases the frame it was decoded from.
	Payload []byte
}

// Flags of a pushed message.
const (
	msgKey         = 1
	msgProperties  = 2
	msgEventTime   = 4
	msgRedelivered = 8
	msgAll         = msgKey | msgProperties | msgEventTime | msgRedelivered
	minMsgBytes    = 5 // flags, stream, offset, publish time, empty payload
)

// AppendMessagesHeader starts a messages frame of count messages; append
// each with AppendMessage.
func AppendMessagesHeader(dst []byte, count int) []byte {
	dst = append(dst, byte(TypeMessages))
	return binary.AppendUvarint(dst, uint64(count))
}

// AppendMessage appends one message of a messages frame.
func AppendMessage(dst []byte, m *Message) []byte {
	var flags byte
	if m.Key != "" {
		flags |= msgKey
	}
	if len(m.Properties) > 0 {
		flags |= msgProperties
	}
	if m.EventTime != 0 {
		flags |= msgEventTime
	}
	if m.RedeliveryCount > 0 {
		flags |= msgRedelivered
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, m.ID.Stream)
	dst = binary.AppendUvarint(dst, m.ID.Offset)
	dst = binary.AppendVarint(dst, m.PublishTime)
	if flags&msgEventTime != 0 {
		dst = binary.AppendVarint(dst, m.EventTime)
	}
	if flags&msgRedelivered != 0 {
		dst = binary.AppendUvarint(dst, uint64(m.RedeliveryCount))
	}
	if flags&msgKey != 0 {
		dst = appendString(dst, m.Key)
	}
	if flags&msgProperties != 0 {
		dst = appendProperties(dst, m.Properties)
	}
	return appendBytes(dst, m.Payload)
}

// AppendMessages appends a whole messages frame.
func AppendMessages(dst []byte, msgs []Message) []byte {
	dst = AppendMessagesHeader(dst, len(msgs))
	for i := range msgs {
		dst = AppendMessage(dst, &msgs[i])
	}
	return dst
}

// MessageBytes estimates the encoded size of m in a messages frame (exact
// for the payload, key and properties; at most 40 bytes over for the rest).
func MessageBytes(m *Message) int {
	n := 40 + len(m.Key) + len(m.Payload)
	for k, v := range m.Properties {
		n += len(k) + len(v) + 6
	}
	return n
}

// DecodeMessages decodes a messages frame: at most MaxMessagesPerFrame
// messages and, unless it holds a single message, MaxPropertiesPerFrame
// properties.
func DecodeMessages(frame []byte) ([]Message, error) {
	d := newDecoder(frame, TypeMessages)
	n := d.count("message count", MaxMessagesPerFrame, minMsgBytes)
	if d.err != nil {
		return nil, d.err
	}
	budget := MaxPropertiesPerFrame
	if n == 1 {
		budget = math.MaxInt
	}
	msgs := make([]Message, n)
	for i := range msgs {
		d.message(&msgs[i], &budget)
		if d.err != nil {
			return nil, d.err
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return msgs, nil
}

func (d *decoder) message(m *Message, budget *int) {
	flags := d.byte("message flags")
	if flags&^msgAll != 0 {
		d.fail("unknown message flags 0x%02x", flags)
		return
	}
	m.ID = wsproto.MessageID{Stream: d.uvarint("stream index"), Offset: d.uvarint("offset"), Partition: -1}
	m.PublishTime = d.varint("publish time")
	if flags&msgEventTime != 0 {
		m.EventTime = d.varint("event time")
	}
	if flags&msgRedelivered != 0 {
		c := d.uvarint("redelivery count")
		if c > math.MaxInt32 {
			d.fail("redelivery count %d", c)
		}
		m.RedeliveryCount = int(c)
	}
	if flags&msgKey != 0 {
		m.Key = d.string("key")
	}
	if flags&msgProperties != 0 {
		m.Properties, _, _ = d.properties(budget, math.MaxInt)
	}
	m.Payload = d.bytes("payload")
}
