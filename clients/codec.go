package clients

import (
	"encoding/base64"
	"fmt"
	json "github.com/goccy/go-json"
	"strconv"
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

// encodePublish renders one publish frame. The context echoes the sequence
// id so acks can be checked against what was sent.
func encodePublish(m ProducerMessage, seq int64) ([]byte, error) {
	f := wsproto.ProducerMessage{
		Payload:    base64.StdEncoding.EncodeToString(m.Payload),
		Properties: m.Properties,
		Context:    strconv.FormatInt(seq, 10),
		Key:        m.Key,
		SequenceID: &seq,
	}
	if !m.EventTime.IsZero() {
		f.EventTime = wsproto.FormatTime(m.EventTime.UnixMilli())
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("%w: encode message: %w", ErrInvalidArgument, err)
	}
	return b, nil
}

// joinBatch renders publish frames as one frame: the frame itself when
// there is one (plain Pulsar), a JSON array otherwise (batch extension).
func joinBatch(frames [][]byte) []byte {
	if len(frames) == 1 {
		return frames[0]
	}
	n := 1
	for _, f := range frames {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, f := range frames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, ']')
}

// decodeAcks parses an ack frame: one ProducerAck object, or a JSON array
// of them answering a batch frame.
func decodeAcks(data []byte) ([]wsproto.ProducerAck, error) {
	if wsproto.IsBatch(data) {
		var acks []wsproto.ProducerAck
		if err := json.Unmarshal(data, &acks); err != nil {
			return nil, fmt.Errorf("%w: ack batch: %w", ErrProtocol, err)
		}
		if len(acks) == 0 || len(acks) > wsproto.MaxBatchMessages {
			return nil, fmt.Errorf("%w: ack batch of %d acks", ErrProtocol, len(acks))
		}
		return acks, nil
	}
	var a wsproto.ProducerAck
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%w: ack: %w", ErrProtocol, err)
	}
	if a.Result == "" {
		return nil, fmt.Errorf("%w: ack without a result", ErrProtocol)
	}
	return []wsproto.ProducerAck{a}, nil
}

// decodeMessage parses a pushed message. streams are the consumer's full
// stream names; a message without a "topic" is attributed by the stream
// index of its id.
func decodeMessage(data []byte, streams []string) (*Message, error) {
	var f wsproto.ConsumerMessage
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrProtocol, err)
	}
	id, err := wsproto.ParseMessageID(f.MessageID)
	if err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrProtocol, err)
	}
	payload, err := base64.StdEncoding.DecodeString(f.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: message %s: payload: %w", ErrProtocol, id, err)
	}
	m := &Message{
		ID:              id,
		RawID:           f.MessageID,
		Stream:          f.Topic,
		Payload:         payload,
		Key:             f.Key,
		Properties:      f.Properties,
		RedeliveryCount: f.RedeliveryCount,
	}
	if m.Stream == "" && len(streams) > 0 {
		m.Stream = streams[0]
		if id.Stream < uint64(len(streams)) {
			m.Stream = streams[id.Stream]
		}
	}
	if f.PublishTime != "" {
		ms, err := wsproto.ParseTime(f.PublishTime)
		if err != nil {
			return nil, fmt.Errorf("%w: message %s: publishTime: %w", ErrProtocol, id, err)
		}
		m.PublishTime = time.UnixMilli(ms)
	}
	if f.EventTime != "" {
		ms, err := wsproto.ParseTime(f.EventTime)
		if err != nil {
			return nil, fmt.Errorf("%w: message %s: eventTime: %w", ErrProtocol, id, err)
		}
		m.EventTime = time.UnixMilli(ms)
	}
	return m, nil
}

// encodeCommand renders a consumer or reader command frame.
func encodeCommand(cmd wsproto.ConsumerCommand) []byte {
	b, _ := json.Marshal(cmd) // strings and an int: cannot fail
	return b
}
