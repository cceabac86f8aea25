package wsproto

import (
	"encoding/base64"
	"fmt"
	"math"
)

// DecodedPublish is a validated publish frame. Frame holds the frame's
// fields except Payload, which is left empty: the decoded bytes are in
// Payload.
type DecodedPublish struct {
	Frame     ProducerMessage
	Payload   []byte
	EventTime int64 // Unix ms, 0 if absent
}

// rawPublish is a parsed publish frame whose payload is still base64.
type rawPublish struct {
	frame   ProducerMessage
	payload []byte // base64, between the quotes; aliases the frame unless escaped
	escaped bool   // payload had escapes: unescaped, and checked for control characters
}

var publishFields = []string{"payload", "properties", "context", "key", "replicationClusters", "eventTime", "sequenceId"}

// parsePublish reads one ProducerMessage object (null reads as an empty
// one).
func (s *scanner) parsePublish(f *rawPublish) error {
	ok, err := s.beginObject("ProducerMessage")
	if err != nil || !ok {
		return err
	}
	for i := 0; ; i++ {
		key, more, err := s.nextKey(i)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		switch fieldIndex(key, publishFields) {
		case 0:
			var v []byte
			var checked bool
			if v, checked, err = s.payloadString("payload"); v != nil { // null: unchanged
				f.payload, f.escaped = v, checked
			}
		case 1:
			f.frame.Properties, err = s.stringMap("properties", f.frame.Properties)
		case 2:
			err = s.strInto("context", &f.frame.Context)
		case 3:
			err = s.strInto("key", &f.frame.Key)
		case 4:
			f.frame.ReplicationClusters, err = s.stringList("replicationClusters")
		case 5:
			err = s.strInto("eventTime", &f.frame.EventTime)
		case 6:
			var v int64
			var ok bool
			v, ok, err = s.integer("sequenceId", math.MinInt64, math.MaxInt64)
			if ok {
				f.frame.SequenceID = &v
			} else if err == nil {
				f.frame.SequenceID = nil
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

// DecodeProducerMessage parses and validates a publish frame. maxPayloadBytes
// bounds the decoded payload. Errors carry the Pulsar error code to answer
// with (see PublishError).
func DecodeProducerMessage(data []byte, maxPayloadBytes int) (DecodedPublish, error) {
	s := scanner{data: data}
	var f rawPublish
	err := s.parsePublish(&f)
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return DecodedPublish{}, &PublishError{Code: ErrCodeDeserialize, Msg: "invalid JSON: " + err.Error()}
	}
	if err := f.checkSize(maxPayloadBytes); err != nil {
		return DecodedPublish{Frame: f.frame}, err
	}
	return f.validate(maxPayloadBytes, make([]byte, base64.StdEncoding.DecodedLen(len(f.payload))))
}

// checkSize refuses a payload whose base64 is too long to fit
// maxPayloadBytes, before anything is allocated for it.
func (f *rawPublish) checkSize(maxPayloadBytes int) error {
	if base64.StdEncoding.DecodedLen(len(f.payload)) > maxPayloadBytes+3 {
		return &PublishError{Code: ErrCodePayloadTooLarge, Context: f.frame.Context,
			Msg: fmt.Sprintf("payload larger than the limit of %d bytes", maxPayloadBytes)}
	}
	return nil
}

// validate decodes the payload into buf (at least DecodedLen of the
// base64 long; the payload aliases it) and the event time.
func (f *rawPublish) validate(maxPayloadBytes int, buf []byte) (DecodedPublish, error) {
	d := DecodedPublish{Frame: f.frame}
	ctx := d.Frame.Context
	n, err := base64.StdEncoding.Decode(buf, f.payload)
	if err == nil && !f.escaped && n != base64DataLen(f.payload) {
		// The decoder skips \r and \n; raw ones in a JSON string make the
		// frame invalid JSON (escaped ones are accepted, as before).
		return d, &PublishError{Code: ErrCodeDeserialize, Context: ctx, Msg: "invalid JSON: control character in payload string"}
	}
	if err != nil {
		return d, &PublishError{Code: ErrCodePayloadEncoding, Context: ctx, Msg: "invalid base64 payload: " + err.Error()}
	}
	if n > maxPayloadBytes {
		return d, &PublishError{Code: ErrCodePayloadTooLarge, Context: ctx,
			Msg: fmt.Sprintf("payload of %d bytes exceeds the limit of %d bytes", n, maxPayloadBytes)}
	}
	d.Payload = buf[:n:n]
	if d.Frame.EventTime != "" {
		t, err := ParseTime(d.Frame.EventTime)
		if err != nil {
			return d, &PublishError{Code: ErrCodePayloadEncoding, Context: ctx, Msg: err.Error()}
		}
		d.EventTime = t
	}
	return d, nil
}

// base64DataLen is the decoded length of padded base64 b that holds no
// line breaks (-1 if b's length cannot be that of such base64: then what
// decoded had line breaks, which the decoder skips).
func base64DataLen(b []byte) int {
	if len(b)%4 != 0 {
		return -1
	}
	n := len(b) / 4 * 3
	if len(b) > 0 && b[len(b)-1] == '=' {
		n--
		if len(b) > 1 && b[len(b)-2] == '=' {
			n--
		}
	}
	return n
}
