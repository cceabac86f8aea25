package wsproto

import (
	"encoding/base64"
	"fmt"
)

// PushedMessage is a decoded ConsumerMessage, as a client receives it:
// the message id parsed, the payload decoded, the times in Unix ms.
type PushedMessage struct {
	RawID           string // the message id as sent, for acks
	ID              MessageID
	Payload         []byte
	Properties      map[string]string // nil when there are none
	PublishTime     int64             // Unix ms, valid if HasPublishTime
	EventTime       int64             // Unix ms, valid if HasEventTime
	HasPublishTime  bool
	HasEventTime    bool
	RedeliveryCount int
	Key             string
	Topic           string
}

var pushFields = []string{"messageId", "payload", "properties", "publishTime", "eventTime", "redeliveryCount", "key", "topic"}

// DecodeConsumerMessage parses a message pushed to a consumer or reader.
// The message id is mandatory; the payload is decoded into its own slice.
func DecodeConsumerMessage(data []byte) (PushedMessage, error) {
	var m PushedMessage
	var payload, publishTime, eventTime []byte
	var payloadChecked bool
	s := scanner{data: data}
	ok, err := s.beginObject("ConsumerMessage")
	for i := 0; ok && err == nil; i++ {
		var key []byte
		if key, ok, err = s.nextKey(i); err != nil || !ok {
			break
		}
		switch fieldIndex(key, pushFields) {
		case 0:
			err = s.strInto("messageId", &m.RawID)
		case 1:
			var v []byte
			var checked bool
			if v, checked, err = s.payloadString("payload"); v != nil { // null: unchanged
				payload, payloadChecked = v, checked
			}
		case 2:
			m.Properties, err = s.stringMap("properties", m.Properties)
		case 3:
			err = s.timeInto("publishTime", &publishTime, &m.HasPublishTime)
		case 4:
			err = s.timeInto("eventTime", &eventTime, &m.HasEventTime)
		case 5:
			err = s.intInto("redeliveryCount", &m.RedeliveryCount)
		case 6:
			err = s.strInto("key", &m.Key)
		case 7:
			err = s.strInto("topic", &m.Topic)
		default:
			err = s.skip()
		}
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return PushedMessage{}, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if m.ID, err = ParseMessageID(m.RawID); err != nil {
		return PushedMessage{}, err
	}
	m.Payload = make([]byte, base64.StdEncoding.DecodedLen(len(payload)))
	n, err := base64.StdEncoding.Decode(m.Payload, payload)
	if err == nil && !payloadChecked && n != base64DataLen(payload) {
		err = fmt.Errorf("control character in payload string")
	}
	if err != nil {
		return PushedMessage{}, fmt.Errorf("%w: message %s: payload: %v", ErrBadFrame, m.ID, err)
	}
	m.Payload = m.Payload[:n:n]
	if m.HasPublishTime {
		if m.PublishTime, err = parseTimeBytes(publishTime); err != nil {
			return PushedMessage{}, fmt.Errorf("%w: message %s: publishTime: %v", ErrBadFrame, m.ID, err)
		}
	}
	if m.HasEventTime {
		if m.EventTime, err = parseTimeBytes(eventTime); err != nil {
			return PushedMessage{}, fmt.Errorf("%w: message %s: eventTime: %v", ErrBadFrame, m.ID, err)
		}
	}
	return m, nil
}

// timeInto reads a time as a string's bytes (possibly aliasing the
// frame) into *dst; "" is absent, null leaves *dst and *has as they are.
func (s *scanner) timeInto(field string, dst *[]byte, has *bool) error {
	switch s.peek() {
	case '"':
		raw, special, err := s.rawString()
		if err != nil {
			return err
		}
		if special {
			raw = unescape(raw)
		}
		*dst, *has = raw, len(raw) > 0
		return nil
	case 'n':
		return s.literal("null")
	}
	return s.typeError("string", field)
}
