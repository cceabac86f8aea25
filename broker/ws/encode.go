package ws

import (
	"encoding/base64"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/wsproto"
)

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendBase64(b, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	b = append(b, '"')
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n+64)
		copy(nb, b)
		b = nb
	}
	b = b[:len(b)+n]
	base64.StdEncoding.Encode(b[len(b)-n:], src)
	return append(b, '"')
}

// appendConsumerMessage renders a pushed message as Pulsar's ConsumerMessage.
func appendConsumerMessage(b []byte, rec *segment.Record, id wsproto.MessageID, redeliveries int, topic string) []byte {
	b = append(b, `{"messageId":`...)
	b = appendJSONString(b, id.Encode())
	b = append(b, `,"payload":`...)
	b = appendBase64(b, rec.Payload)
	b = append(b, `,"properties":{`...)
	if len(rec.Properties) > 0 {
		keys := make([]string, 0, len(rec.Properties))
		for k := range rec.Properties {
			if !broker.InternalProperty(k) { // a Kafka header list (broker/properties.go)
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, rec.Properties[k])
		}
	}
	b = append(b, `},"publishTime":"`...)
	b = append(b, wsproto.FormatTime(rec.PublishTime)...)
	b = append(b, '"')
	if rec.EventTime != 0 {
		b = append(b, `,"eventTime":"`...)
		b = append(b, wsproto.FormatTime(rec.EventTime)...)
		b = append(b, '"')
	}
	b = append(b, `,"redeliveryCount":`...)
	b = strconv.AppendInt(b, int64(redeliveries), 10)
	if rec.Key != "" {
		b = append(b, `,"key":`...)
		b = appendJSONString(b, rec.Key)
	}
	if topic != "" {
		b = append(b, `,"topic":`...)
		b = appendJSONString(b, topic)
	}
	return append(b, '}')
}

// appendProducerAck renders a ProducerAck.
func appendProducerAck(b []byte, a wsproto.ProducerAck) []byte {
	b = append(b, `{"result":`...)
	b = appendJSONString(b, a.Result)
	if a.MessageID != "" {
		b = append(b, `,"messageId":`...)
		b = appendJSONString(b, a.MessageID)
	}
	if a.ErrorMsg != "" {
		b = append(b, `,"errorMsg":`...)
		b = appendJSONString(b, a.ErrorMsg)
	}
	if a.Context != "" {
		b = append(b, `,"context":`...)
		b = appendJSONString(b, a.Context)
	}
	return append(b, '}')
}

// errorFrame is sent to consumers and readers for a command that failed
// (a Causeway extension; Pulsar clients ignore frames without a messageId).
func errorFrame(msg string, id string) []byte {
	b := append([]byte(nil), `{"type":"error","errorMsg":`...)
	b = appendJSONString(b, msg)
	if id != "" {
		b = append(b, `,"messageId":`...)
		b = appendJSONString(b, id)
	}
	return append(b, '}')
}
