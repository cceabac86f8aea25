package wsproto

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

func publishFrame(seq int) string {
	return `{"payload":"` + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 1024))) +
		`","context":"` + strconv.Itoa(seq) + `","sequenceId":` + strconv.Itoa(seq) + `}`
}

func BenchmarkDecodeProducerMessage(b *testing.B) {
	frame := []byte(publishFrame(12345))
	b.SetBytes(1024)
	b.ReportAllocs()
	for range b.N {
		if _, err := DecodeProducerMessage(frame, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeProducerBatch(b *testing.B) {
	parts := make([]string, 100)
	for i := range parts {
		parts[i] = publishFrame(100000 + i)
	}
	frame := []byte("[" + strings.Join(parts, ",") + "]")
	b.SetBytes(1024 * 100)
	b.ReportAllocs()
	for range b.N {
		if _, _, err := DecodeProducerBatch(frame, 1<<20, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeConsumerCommand(b *testing.B) {
	frame := []byte(`{"messageId":"` + MessageID{Offset: 1234567, Partition: -1}.Encode() + `"}`)
	b.ReportAllocs()
	for range b.N {
		if _, _, err := DecodeConsumerCommand(frame); err != nil {
			b.Fatal(err)
		}
	}
}
