package wsbin

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/causeway/causeway/broker/wsproto"
)

// Publish is one message of a publish frame.
type Publish struct {
	Key        string
	Properties map[string]string
	// Payload aliases the frame it was decoded from.
	Payload []byte
	// SequenceID is the producer's sequence id; negative: none (the server
	// numbers the message).
	SequenceID int64
	// EventTime is in Unix milliseconds; 0: none.
	EventTime int64
}

// Flags of a published message.
const (
	pubKey        = 1
	pubProperties = 2
	pubSequenceID = 4
	pubEventTime  = 8
	pubAll        = pubKey | pubProperties | pubSequenceID | pubEventTime
	minPubBytes   = 2 // flags and an empty payload
)

// AppendPublishHeader starts a publish frame of count messages; append
// each with AppendPublishMessage. context is echoed by the ack.
func AppendPublishHeader(dst []byte, context uint64, count int) []byte {
	dst = append(dst, byte(TypePublish))
	dst = binary.AppendUvarint(dst, context)
	return binary.AppendUvarint(dst, uint64(count))
}

// AppendPublishMessage appends one message of a publish frame.
func AppendPublishMessage(dst []byte, m *Publish) []byte {
	var flags byte
	if m.Key != "" {
		flags |= pubKey
	}
	if len(m.Properties) > 0 {
		flags |= pubProperties
	}
	if m.SequenceID >= 0 {
		flags |= pubSequenceID
	}
	if m.EventTime != 0 {
		flags |= pubEventTime
	}
	dst = append(dst, flags)
	if flags&pubSequenceID != 0 {
		dst = binary.AppendUvarint(dst, uint64(m.SequenceID))
	}
	if flags&pubEventTime != 0 {
		dst = binary.AppendVarint(dst, m.EventTime)
	}
	if flags&pubKey != 0 {
		dst = appendString(dst, m.Key)
	}
	if flags&pubProperties != 0 {
		dst = appendProperties(dst, m.Properties)
	}
	return appendBytes(dst, m.Payload)
}

// AppendPublish appends a whole publish frame.
func AppendPublish(dst []byte, context uint64, msgs []Publish) []byte {
	dst = AppendPublishHeader(dst, context, len(msgs))
	for i := range msgs {
		dst = AppendPublishMessage(dst, &msgs[i])
	}
	return dst
}

// PublishLimits are the server's bounds on a publish frame.
type PublishLimits struct {
	// MaxPayloadBytes bounds each payload.
	MaxPayloadBytes int
	// MaxMessages bounds the messages of the frame (0 or more than
	// MaxMessagesPerFrame: MaxMessagesPerFrame).
	MaxMessages int
}

// PublishFrame is a decoded publish frame.
type PublishFrame struct {
	Context  uint64
	Messages []Publish
	// Errs holds, per message, nil or the *wsproto.PublishError of a
	// message refused by a limit (payload size: code 9; key and properties
	// past MaxMetaBytes or MaxPropertiesPerMessage: code 9). The other
	// messages can be published.
	Errs []error
}

// DecodePublish decodes a publish frame. A frame that breaks the format
// (ErrMalformed), holds more messages than the limit (ErrMalformed) or
// more properties than MaxPropertiesPerFrame (ErrTooLarge) fails as a
// whole; the returned frame then still carries the context when it could
// be read, so the refusal can echo it.
func DecodePublish(frame []byte, lim PublishLimits) (PublishFrame, error) {
	maxMessages := lim.MaxMessages
	if maxMessages <= 0 || maxMessages > MaxMessagesPerFrame {
		maxMessages = MaxMessagesPerFrame
	}
	d := newDecoder(frame, TypePublish)
	var f PublishFrame
	f.Context = d.uvarint("context")
	n := d.count("message count", maxMessages, minPubBytes)
	if d.err != nil {
		return f, d.err
	}
	f.Messages = make([]Publish, n)
	f.Errs = make([]error, n)
	budget := MaxPropertiesPerFrame
	for i := range f.Messages {
		m := &f.Messages[i]
		f.Errs[i] = d.publishMessage(m, &budget, lim.MaxPayloadBytes)
		if d.err != nil {
			return PublishFrame{Context: f.Context}, d.err
		}
	}
	if err := d.end(); err != nil {
		return PublishFrame{Context: f.Context}, err
	}
	return f, nil
}

// publishMessage reads one message into m; it returns the message's own
// refusal (a limit), while d.err holds a frame failure.
func (d *decoder) publishMessage(m *Publish, budget *int, maxPayload int) error {
	flags := d.byte("message flags")
	if flags&^pubAll != 0 {
		d.fail("unknown message flags 0x%02x", flags)
		return nil
	}
	m.SequenceID = -1
	if flags&pubSequenceID != 0 {
		seq := d.uvarint("sequence id")
		if seq > math.MaxInt64 {
			d.fail("sequence id %d past 2^63-1", seq)
		}
		m.SequenceID = int64(seq)
	}
	if flags&pubEventTime != 0 {
		m.EventTime = d.varint("event time")
	}
	meta := 0
	if flags&pubKey != 0 {
		k := d.bytes("key")
		meta += len(k)
		if len(k) <= MaxMetaBytes {
			m.Key = string(k)
		}
	}
	tooMany := false
	if flags&pubProperties != 0 {
		var n int
		m.Properties, n, tooMany = d.properties(budget, MaxPropertiesPerMessage)
		meta += n
	}
	m.Payload = d.bytes("payload")
	if d.err != nil {
		return nil
	}
	switch {
	case len(m.Payload) > maxPayload:
		return &wsproto.PublishError{Code: wsproto.ErrCodePayloadTooLarge,
			Msg: fmt.Sprintf("payload of %d bytes exceeds the limit of %d bytes", len(m.Payload), maxPayload)}
	case tooMany:
		return &wsproto.PublishError{Code: wsproto.ErrCodePayloadTooLarge,
			Msg: fmt.Sprintf("more than %d properties on one message", MaxPropertiesPerMessage)}
	case meta > MaxMetaBytes:
		return &wsproto.PublishError{Code: wsproto.ErrCodePayloadTooLarge,
			Msg: fmt.Sprintf("key and properties of %d bytes exceed the limit of %d bytes", meta, MaxMetaBytes)}
	}
	return nil
}
