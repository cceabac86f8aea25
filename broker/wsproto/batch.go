package wsproto

import (
	"bytes"
	"fmt"
	json "github.com/goccy/go-json"
)

// MaxBatchMessages is the ceiling (and default) of messages in one batch
// frame; a server may configure a lower bound.
const MaxBatchMessages = 10000

// IsBatch reports whether a producer frame is a batch: a JSON array of
// publish frames answered by one JSON array of acks in the same order.
// Batch frames are a Causeway extension to Pulsar's protocol; a Pulsar
// client that never sends one sees no difference.
func IsBatch(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '['
}

// DecodeProducerBatch decodes a batch frame. A frame that is not a JSON
// array, or holds more than MaxBatchMessages elements, fails as a whole.
// Otherwise each element is decoded on its own: errs[i] is non-nil (a
// *PublishError) for an element that is invalid, and the others can still be
// published.
//
// maxMessages bounds the elements (0 or more than MaxBatchMessages:
// MaxBatchMessages).
func DecodeProducerBatch(data []byte, maxPayloadBytes, maxMessages int) (msgs []DecodedPublish, errs []error, err error) {
	if maxMessages <= 0 || maxMessages > MaxBatchMessages {
		maxMessages = MaxBatchMessages
	}
	var frames []ProducerMessage
	if err := json.Unmarshal(data, &frames); err != nil {
		return nil, nil, &PublishError{Code: ErrCodeDeserialize, Msg: "invalid JSON batch: " + err.Error()}
	}
	if len(frames) == 0 || len(frames) > maxMessages {
		return nil, nil, &PublishError{Code: ErrCodeDeserialize,
			Msg: fmt.Sprintf("batch of %d messages: want 1..%d", len(frames), maxMessages)}
	}
	msgs = make([]DecodedPublish, len(frames))
	errs = make([]error, len(frames))
	for i := range frames {
		msgs[i], errs[i] = validatePublish(frames[i], maxPayloadBytes)
	}
	return msgs, errs, nil
}
