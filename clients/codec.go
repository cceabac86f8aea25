package clients

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

// encodePublish renders one publish frame by hand, the payload
// base64-encoded straight into the frame; the fields are those (and in the
// order) encoding/json gives wsproto.ProducerMessage. The context echoes
// the sequence id so acks can be checked against what was sent.
func encodePublish(m ProducerMessage, seq int64) ([]byte, error) {
	n := base64.StdEncoding.EncodedLen(len(m.Payload)) + len(m.Key) + 96
	for k, v := range m.Properties {
		n += len(k) + len(v) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, `{"payload":`...)
	b = wsproto.AppendJSONBase64(b, m.Payload)
	if len(m.Properties) > 0 {
		b = append(b, `,"properties":{`...)
		for i, k := range slices.Sorted(maps.Keys(m.Properties)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = wsproto.AppendJSONString(b, k)
			b = append(b, ':')
			b = wsproto.AppendJSONString(b, m.Properties[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"context":"`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '"')
	if m.Key != "" {
		b = append(b, `,"key":`...)
		b = wsproto.AppendJSONString(b, m.Key)
	}
	if !m.EventTime.IsZero() {
		b = append(b, `,"eventTime":"`...)
		b = wsproto.AppendTime(b, m.EventTime.UnixMilli())
		b = append(b, '"')
	}
	b = append(b, `,"sequenceId":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, '}'), nil
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
	acks, err := wsproto.DecodeProducerAcks(data)
	if err != nil {
		return nil, fmt.Errorf("%w: ack: %w", ErrProtocol, err)
	}
	if len(acks) == 0 {
		return nil, fmt.Errorf("%w: ack batch of %d acks", ErrProtocol, len(acks))
	}
	if !wsproto.IsBatch(data) && acks[0].Result == "" {
		return nil, fmt.Errorf("%w: ack without a result", ErrProtocol)
	}
	return acks, nil
}

// decodeMessage parses a pushed message. streams are the consumer's full
// stream names; a message without a "topic" is attributed by the stream
// index of its id.
func decodeMessage(data []byte, streams []string) (*Message, error) {
	f, err := wsproto.DecodeConsumerMessage(data)
	if err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrProtocol, err)
	}
	m := &Message{
		ID:              f.ID,
		RawID:           f.RawID,
		Stream:          f.Topic,
		Payload:         f.Payload,
		Key:             f.Key,
		Properties:      f.Properties,
		RedeliveryCount: f.RedeliveryCount,
	}
	if m.Stream == "" && len(streams) > 0 {
		m.Stream = streams[0]
		if f.ID.Stream < uint64(len(streams)) {
			m.Stream = streams[f.ID.Stream]
		}
	}
	if f.HasPublishTime {
		m.PublishTime = time.UnixMilli(f.PublishTime)
	}
	if f.HasEventTime {
		m.EventTime = time.UnixMilli(f.EventTime)
	}
	return m, nil
}

// encodeCommand renders a consumer or reader command frame.
func encodeCommand(cmd wsproto.ConsumerCommand) []byte {
	return wsproto.AppendConsumerCommand(make([]byte, 0, 32+len(cmd.MessageID)), cmd)
}

// jsonBatchParts frames publish frames as a batch frame without joining
// them: the frame itself when there is one (plain Pulsar), else the
// frames between '[', ',' and ']' (batch extension), to be written one
// after the other. joinBatch joins the same bytes.
func jsonBatchParts(frames [][]byte) [][]byte {
	if len(frames) == 1 {
		return frames
	}
	parts := make([][]byte, 0, 2*len(frames)+1)
	for i, f := range frames {
		sep := batchComma
		if i == 0 {
			sep = batchOpen
		}
		parts = append(parts, sep, f)
	}
	return append(parts, batchClose)
}

var batchOpen, batchComma, batchClose = []byte("["), []byte(","), []byte("]")
