package wsbin

import (
	"bytes"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

// BenchmarkDecodePublish decodes a publish frame of 100 messages of 1 KiB
// with a key and a property each (what a server does per frame).
func BenchmarkDecodePublish(b *testing.B) {
	msgs := make([]Publish, 100)
	for i := range msgs {
		msgs[i] = Publish{Key: "key", Properties: map[string]string{"p": "v"}, Payload: bytes.Repeat([]byte("x"), 1024), SequenceID: int64(i)}
	}
	frame := AppendPublish(nil, 0, msgs)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := DecodePublish(frame, PublishLimits{MaxPayloadBytes: 1 << 20}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessagesRoundTrip encodes and decodes a messages frame of 100
// messages of 1 KiB (what a server and a consumer do per pushed frame).
func BenchmarkMessagesRoundTrip(b *testing.B) {
	msgs := make([]Message, 100)
	for i := range msgs {
		msgs[i] = Message{ID: wsproto.MessageID{Offset: uint64(i)}, PublishTime: 1700000000000, Payload: bytes.Repeat([]byte("x"), 1024)}
	}
	buf := make([]byte, 0, 128<<10)
	b.SetBytes(100 * 1024)
	for b.Loop() {
		buf = AppendMessages(buf[:0], msgs)
		if _, err := DecodeMessages(buf); err != nil {
			b.Fatal(err)
		}
	}
}
