package wsproto

import (
	"bytes"
	"encoding/base64"
	"fmt"
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
// published. The payloads share one buffer.
//
// maxMessages bounds the elements (0 or more than MaxBatchMessages:
// MaxBatchMessages).
func DecodeProducerBatch(data []byte, maxPayloadBytes, maxMessages int) (msgs []DecodedPublish, errs []error, err error) {
	if maxMessages <= 0 || maxMessages > MaxBatchMessages {
		maxMessages = MaxBatchMessages
	}
	frames, err := parseBatch(data, maxMessages)
	if err != nil {
		return nil, nil, err
	}
	msgs = make([]DecodedPublish, len(frames))
	errs = make([]error, len(frames))
	total := 0
	for i := range frames {
		if errs[i] = frames[i].checkSize(maxPayloadBytes); errs[i] == nil {
			total += base64.StdEncoding.DecodedLen(len(frames[i].payload))
		} else {
			msgs[i].Frame = frames[i].frame
		}
	}
	buf := make([]byte, total)
	for i := range frames {
		if errs[i] != nil {
			continue
		}
		n := base64.StdEncoding.DecodedLen(len(frames[i].payload))
		msgs[i], errs[i] = frames[i].validate(maxPayloadBytes, buf[:n:n])
		buf = buf[len(msgs[i].Payload):]
	}
	return msgs, errs, nil
}

// parseBatch reads a batch frame's JSON array of publish frames.
func parseBatch(data []byte, maxMessages int) ([]rawPublish, error) {
	s := scanner{data: data}
	frames := make([]rawPublish, 0, min(maxMessages, 16))
	ok, err := s.beginArray("batch")
	if err == nil && !ok {
		err = fmt.Errorf("the batch is null")
	}
	n := 0
	for err == nil {
		var more bool
		if more, err = s.nextElement(n); err != nil || !more {
			break
		}
		if n++; n > maxMessages {
			err = s.skip() // count the rest for the error
			continue
		}
		frames = append(frames, rawPublish{})
		err = s.parsePublish(&frames[len(frames)-1])
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, &PublishError{Code: ErrCodeDeserialize, Msg: "invalid JSON batch: " + err.Error()}
	}
	if n == 0 || n > maxMessages {
		return nil, &PublishError{Code: ErrCodeDeserialize,
			Msg: fmt.Sprintf("batch of %d messages: want 1..%d", n, maxMessages)}
	}
	return frames, nil
}
