package clients

import (
	"time"

	"github.com/causeway/causeway/broker/wsbin"
)

// encodePublishBinary renders one message of a binary publish frame.
func encodePublishBinary(m ProducerMessage, seq int64) []byte {
	p := wsbin.Publish{Key: m.Key, Properties: m.Properties, Payload: m.Payload, SequenceID: seq}
	if !m.EventTime.IsZero() {
		p.EventTime = m.EventTime.UnixMilli()
	}
	return wsbin.AppendPublishMessage(make([]byte, 0, len(m.Payload)+len(m.Key)+24), &p)
}

// messageFromBinary builds a received message from a binary one. streams
// are the consumer's full stream names, indexed like message ids' stream
// index. The payload aliases the frame.
func messageFromBinary(bm *wsbin.Message, streams []string) *Message {
	m := &Message{
		ID:              bm.ID,
		RawID:           bm.ID.Encode(),
		Payload:         bm.Payload,
		Key:             bm.Key,
		Properties:      bm.Properties,
		PublishTime:     time.UnixMilli(bm.PublishTime),
		RedeliveryCount: bm.RedeliveryCount,
	}
	if bm.EventTime != 0 {
		m.EventTime = time.UnixMilli(bm.EventTime)
	}
	if len(streams) > 0 {
		m.Stream = streams[0]
		if bm.ID.Stream < uint64(len(streams)) {
			m.Stream = streams[bm.ID.Stream]
		}
	}
	return m
}
