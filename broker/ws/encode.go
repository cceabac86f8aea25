package ws

import (
	"slices"
	"strconv"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/wsproto"
)

// appendConsumerMessage renders a pushed message as Pulsar's ConsumerMessage,
// appending straight into b: the message id and payload are base64-encoded
// in place, the times formatted without allocating.
func appendConsumerMessage(b []byte, rec *segment.Record, id wsproto.MessageID, redeliveries int, topic string) []byte {
	b = append(b, `{"messageId":"`...)
	b = id.AppendEncoded(b)
	b = append(b, `","payload":`...)
	b = wsproto.AppendJSONBase64(b, rec.Payload)
	b = append(b, `,"properties":{`...)
	if len(rec.Properties) > 0 {
		keys := make([]string, 0, len(rec.Properties))
		for k := range rec.Properties {
			if !broker.InternalProperty(k) { // a Kafka header list (broker/properties.go)
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = wsproto.AppendJSONString(b, k)
			b = append(b, ':')
			b = wsproto.AppendJSONString(b, rec.Properties[k])
		}
	}
	b = append(b, `},"publishTime":"`...)
	b = wsproto.AppendTime(b, rec.PublishTime)
	b = append(b, '"')
	if rec.EventTime != 0 {
		b = append(b, `,"eventTime":"`...)
		b = wsproto.AppendTime(b, rec.EventTime)
		b = append(b, '"')
	}
	b = append(b, `,"redeliveryCount":`...)
	b = strconv.AppendInt(b, int64(redeliveries), 10)
	if rec.Key != "" {
		b = append(b, `,"key":`...)
		b = wsproto.AppendJSONString(b, rec.Key)
	}
	if topic != "" {
		b = append(b, `,"topic":`...)
		b = wsproto.AppendJSONString(b, topic)
	}
	return append(b, '}')
}

// appendProducerAck renders a ProducerAck.
func appendProducerAck(b []byte, a wsproto.ProducerAck) []byte {
	b = append(b, `{"result":`...)
	b = wsproto.AppendJSONString(b, a.Result)
	if a.MessageID != "" {
		b = append(b, `,"messageId":`...)
		b = wsproto.AppendJSONString(b, a.MessageID)
	}
	if a.ErrorMsg != "" {
		b = append(b, `,"errorMsg":`...)
		b = wsproto.AppendJSONString(b, a.ErrorMsg)
	}
	if a.Context != "" {
		b = append(b, `,"context":`...)
		b = wsproto.AppendJSONString(b, a.Context)
	}
	return append(b, '}')
}

// errorFrame is sent to consumers and readers for a command that failed
// (a Causeway extension; Pulsar clients ignore frames without a messageId).
func errorFrame(msg string, id string) []byte {
	b := append([]byte(nil), `{"type":"error","errorMsg":`...)
	b = wsproto.AppendJSONString(b, msg)
	if id != "" {
		b = append(b, `,"messageId":`...)
		b = wsproto.AppendJSONString(b, id)
	}
	return append(b, '}')
}
