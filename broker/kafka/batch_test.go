package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/segment"
)

func testDecoders(t testing.TB) *decoders {
	d, err := newDecoders()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return d
}

// rawRecords encodes records as a batch body.
func rawRecords(n int) []byte {
	var out []byte
	for i := range n {
		r := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint("value-", i)),
			Headers: []kmsg.Header{{Key: "h", Value: []byte(fmt.Sprint(i))}}}
		r.Length = int32(recordBodyLen(&r))
		out = r.AppendTo(out)
	}
	return out
}

func compress(t testing.TB, codec compressionCodec, src []byte) []byte {
	var buf bytes.Buffer
	switch codec {
	case codecNone:
		return src
	case codecGzip:
		w := gzip.NewWriter(&buf)
		w.Write(src)
		w.Close()
	case codecSnappy:
		return snappy.Encode(nil, src)
	case codecLZ4:
		w := lz4.NewWriter(&buf)
		w.Write(src)
		w.Close()
	case codecZstd:
		w, _ := zstd.NewWriter(&buf)
		w.Write(src)
		w.Close()
	}
	return buf.Bytes()
}

// xerial frames snappy blocks the way the Java client does.
func xerial(src []byte, blockBytes int) []byte {
	out := append([]byte(nil), xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 1)
	for len(src) > 0 {
		n := min(blockBytes, len(src))
		block := snappy.Encode(nil, src[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
		src = src[n:]
	}
	return out
}

// wrapBatch builds a v2 batch around an (already compressed) body.
func wrapBatch(codec compressionCodec, n int, body []byte) []byte {
	b := kmsg.RecordBatch{Magic: 2, Attributes: int16(codec), LastOffsetDelta: int32(n - 1), FirstTimestamp: 5000, MaxTimestamp: 5000 + int64(n),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(n), Records: body}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], castagnoli))
	return out
}

func TestReadBatchesCodecs(t *testing.T) {
	d := testDecoders(t)
	body := rawRecords(50)
	cases := map[string][]byte{
		"none":          wrapBatch(codecNone, 50, body),
		"gzip":          wrapBatch(codecGzip, 50, compress(t, codecGzip, body)),
		"snappy raw":    wrapBatch(codecSnappy, 50, compress(t, codecSnappy, body)),
		"snappy xerial": wrapBatch(codecSnappy, 50, xerial(body, 100)),
		"lz4":           wrapBatch(codecLZ4, 50, compress(t, codecLZ4, body)),
		"zstd":          wrapBatch(codecZstd, 50, compress(t, codecZstd, body)),
		"two batches":   append(wrapBatch(codecNone, 50, body), wrapBatch(codecGzip, 50, compress(t, codecGzip, body))...),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			// Twice: the second decodes into a buffer the first released
			// (when the pool kept it).
			for round := range 2 {
				bs, err := d.readBatches(src, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range bs {
					codec := compressionCodec(b.hdr.Attributes & 0x07)
					if pooled := codec == codecSnappy || codec == codecZstd; pooled != (b.body != nil) {
						t.Fatalf("round %d: codec %d decoded into a pooled buffer: %v", round, codec, b.body != nil)
					}
					msgs := toMessages(&b)
					if len(msgs) != 50 {
						t.Fatalf("%d messages", len(msgs))
					}
					for i, m := range msgs {
						if m.Key != fmt.Sprint("k", i) || string(m.Payload) != fmt.Sprint("value-", i) || m.Properties["h"] != fmt.Sprint(i) || m.EventTime != 5000+int64(i) {
							t.Fatalf("round %d, message %d: %+v", round, i, m)
						}
					}
				}
				d.releaseAll(bs)
			}
		})
	}
}

func TestReadBatchesRejects(t *testing.T) {
	d := testDecoders(t)
	body := rawRecords(3)
	good := wrapBatch(codecNone, 3, body)
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	recrc := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
		return b
	}
	cases := []struct {
		name string
		src  []byte
		want error
	}{
		{"bad crc", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrCorruptBatch},
		{"truncated", good[:len(good)-1], ErrCorruptBatch},
		{"short header", good[:30], ErrCorruptBatch},
		{"magic 1", mutate(func(b []byte) []byte { b[16] = 1; return b }), ErrUnsupportedFormat},
		{"huge length", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1<<30); return b }), ErrCorruptBatch},
		{"record count", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[57:], 4); return recrc(b) }), ErrCorruptBatch},
		{"transactional", mutate(func(b []byte) []byte { b[22] |= 0x10; return recrc(b) }), ErrTransactionalBatch},
		{"unknown codec", mutate(func(b []byte) []byte { b[22] |= 0x07; return recrc(b) }), ErrCompression},
		{"bad gzip", wrapBatch(codecGzip, 3, body), ErrCompression},
		{"bad zstd", wrapBatch(codecZstd, 3, body), ErrCompression},
		{"bomb", wrapBatch(codecZstd, 3, compress(t, codecZstd, make([]byte, 2<<20))), ErrBatchTooLarge},
		{"xerial bomb", wrapBatch(codecSnappy, 3, xerial(make([]byte, 2<<20), 1<<16)), ErrBatchTooLarge},
		{"trailing bytes", wrapBatch(codecNone, 3, append(append([]byte(nil), body...), 0)), ErrCorruptBatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bs, err := d.readBatches(c.src, 1<<20)
			if !errors.Is(err, c.want) || bs != nil {
				t.Fatalf("got %v (%d batches), want %v", err, len(bs), c.want)
			}
		})
	}
}

// What fetch encodes, the batch reader decodes back.
func TestAppendBatchRoundTrip(t *testing.T) {
	d := testDecoders(t)
	recs := []segment.Record{
		{Offset: 10, PublishTime: 100, EventTime: 90, Key: "a", Payload: []byte("x"), Properties: map[string]string{"b": "2", "a": "1"}},
		{Offset: 11, PublishTime: 101, Payload: nil},
		{Offset: 12, PublishTime: 50, EventTime: 0, Key: "c", Payload: []byte("zzz")},
	}
	bs, err := d.readBatches(appendBatch(nil, recs), 1<<20)
	if err != nil || len(bs) != 1 {
		t.Fatalf("%v, %d batches", err, len(bs))
	}
	if bs[0].hdr.FirstOffset != 10 {
		t.Fatalf("first offset %d", bs[0].hdr.FirstOffset)
	}
	msgs := toMessages(&bs[0])
	if msgs[0].Key != "a" || msgs[0].EventTime != 90 || msgs[0].Properties["a"] != "1" || len(msgs[0].Properties) != 2 {
		t.Fatalf("record 0: %+v", msgs[0])
	}
	if msgs[1].EventTime != 101 || len(msgs[1].Payload) != 0 || msgs[1].Key != "" {
		t.Fatalf("record 1: %+v", msgs[1])
	}
	if msgs[2].EventTime != 50 || string(msgs[2].Payload) != "zzz" {
		t.Fatalf("record 2: %+v", msgs[2])
	}
	if h := bs[0].records[0].Headers; h[0].Key != "a" || h[1].Key != "b" {
		t.Fatalf("headers not sorted: %v", h)
	}
}

// appendBatch sizes the batch exactly before writing it (one growth of
// dst), whichever records have headers, keys or empty payloads, and the
// bytes it appends after dst's are the batch.
func TestAppendBatchSizedOnce(t *testing.T) {
	d := testDecoders(t)
	recs := []segment.Record{
		{Offset: 7, PublishTime: 100, Payload: make([]byte, 300)},
		{Offset: 8, PublishTime: 100, Key: "k", Payload: nil, Properties: map[string]string{"h": "v"}},
		{Offset: 9, PublishTime: 99, Payload: []byte("last"), Properties: map[string]string{"z": ""}},
	}
	got := appendBatch(nil, recs)
	exact := make([]byte, 0, len(got))
	if out := appendBatch(exact, recs); len(out) != len(got) || &out[0] != &exact[:1][0] {
		t.Fatal("a destination of exactly the batch's size was grown: the sizing pass is off")
	}
	small := make([]byte, 0, len(got)-1)
	if out := appendBatch(small, recs); string(out) != string(got) {
		t.Fatal("a batch appended to a smaller destination differs")
	}
	plain := []segment.Record{recs[0], {Offset: 8, PublishTime: 100, Payload: make([]byte, 1024)}}
	if n := testing.AllocsPerRun(20, func() { appendBatch(nil, plain) }); n != 1 && !raceEnabled {
		t.Fatalf("%v allocations for a batch without keys or headers, want 1", n)
	}
	prefix := []byte("prefix")
	withPrefix := appendBatch(prefix, recs)
	if string(withPrefix[:len(prefix)]) != "prefix" || string(withPrefix[len(prefix):]) != string(got) {
		t.Fatal("appending after existing bytes changed the batch")
	}
	bs, err := d.readBatches(got, 1<<20)
	if err != nil || len(bs) != 1 || len(bs[0].records) != 3 {
		t.Fatalf("%v, %d batches", err, len(bs))
	}
	if h := bs[0].records[1].Headers; len(h) != 1 || h[0].Key != "h" || string(h[0].Value) != "v" {
		t.Fatalf("record 1 headers %v", h)
	}
	if h := bs[0].records[2].Headers; len(h) != 1 || h[0].Key != "z" {
		t.Fatalf("record 2 headers %v", h)
	}
	if len(bs[0].records[0].Value) != 300 || bs[0].records[0].Headers != nil && len(bs[0].records[0].Headers) != 0 {
		t.Fatalf("record 0 %+v", bs[0].records[0])
	}
}
