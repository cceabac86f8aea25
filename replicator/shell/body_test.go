package shell

import (
	"bytes"
	"errors"
	"maps"
	"testing"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

var testStream = naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "orders"}

func TestStreamMessageRoundTrip(t *testing.T) {
	tests := []segment.Record{
		{},
		{PublishTime: 1_700_000_000_123, EventTime: -5, Key: "k", Payload: []byte("hello"), Producer: "p", SequenceID: 42},
		{Properties: map[string]string{"a": "b", "": "empty key", "c": ""}, Payload: bytes.Repeat([]byte{0}, 1000), SequenceID: -1},
	}
	for i, rec := range tests {
		body := AppendStreamMessage(nil, testStream, &rec)
		kind, _, err := DecodeKind(body)
		if err != nil || kind != KindStreamMessage {
			t.Fatalf("%d: kind %d, %v", i, kind, err)
		}
		name, got, err := DecodeStreamMessage(body)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if name != testStream || got.PublishTime != rec.PublishTime || got.EventTime != rec.EventTime || got.Key != rec.Key ||
			got.Producer != rec.Producer || got.SequenceID != rec.SequenceID || !bytes.Equal(got.Payload, rec.Payload) ||
			!maps.Equal(got.Properties, rec.Properties) {
			t.Fatalf("%d: got %+v %+v, want %+v", i, name, got, rec)
		}
		payload, ofStream, err := StreamMessagePayload(body, testStream)
		if err != nil || !ofStream || !bytes.Equal(payload, rec.Payload) {
			t.Fatalf("%d: StreamMessagePayload = %q, %v, %v; want %q", i, payload, ofStream, err, rec.Payload)
		}
		other := testStream
		other.Name += "x"
		if _, ofStream, err := StreamMessagePayload(body, other); err != nil || ofStream {
			t.Fatalf("%d: a message of %s read as one of %s (%v)", i, testStream, other, err)
		}
	}
}

func TestDecodeBadBodies(t *testing.T) {
	good := AppendStreamMessage(nil, testStream, &segment.Record{Key: "k", Payload: []byte("p"), Properties: map[string]string{"a": "b"}})
	badName := AppendStreamMessage(nil, naming.Stream{Tenant: "_mm", Fabric: "a/b", Name: "x"}, &segment.Record{})
	dupProps := []byte{bodyVersion, byte(KindStreamMessage)}
	dupProps = appendString(appendString(appendString(dupProps, "_mm"), "_system"), "s")
	dupProps = append(dupProps, 0, 0, 0, 2, 1, 'a', 0, 1, 'a', 0, 0, 0, 0)
	tests := map[string][]byte{
		"empty":             nil,
		"one byte":          {bodyVersion},
		"bad version":       append([]byte{9}, good[1:]...),
		"kind zero":         {bodyVersion, 0},
		"other kind":        AppendOp(nil, KindCollectionOp, []byte("x")),
		"truncated":         good[:len(good)-1],
		"trailing":          append(append([]byte(nil), good...), 0),
		"invalid name":      badName,
		"duplicate keys":    dupProps,
		"huge string claim": append([]byte{bodyVersion, byte(KindStreamMessage)}, 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for name, body := range tests {
		if _, _, err := DecodeStreamMessage(body); !errors.Is(err, ErrCorruptBody) {
			t.Errorf("%s: err %v", name, err)
		}
		if name == "invalid name" || name == "duplicate keys" {
			continue // StreamMessagePayload does not look (refused when applied)
		}
		if _, _, err := StreamMessagePayload(body, testStream); !errors.Is(err, ErrCorruptBody) {
			t.Errorf("%s: StreamMessagePayload err %v", name, err)
		}
	}
}

// FuzzDecodeStreamMessage: any input decodes or fails cleanly, what
// decodes re-encodes to a body that decodes to the same message, and the
// read path's StreamMessagePayload agrees with it on what decodes.
func FuzzDecodeStreamMessage(f *testing.F) {
	f.Add(AppendStreamMessage(nil, testStream, &segment.Record{Key: "k", Payload: []byte("p"), Properties: map[string]string{"a": "b"}}))
	f.Add(AppendStreamMessage(nil, testStream, &segment.Record{}))
	f.Add([]byte{bodyVersion, byte(KindStreamMessage), 3, '_', 'm', 'm'})
	primer := AppendStreamMessage(nil, testStream, &segment.Record{Key: "k", Producer: "p"})
	f.Fuzz(func(t *testing.T, body []byte) {
		name, rec, err := DecodeStreamMessage(body)
		// A decoder that decoded another message first decodes it alike.
		var reuse streamMessageDecoder
		if _, _, err := reuse.decode(primer); err != nil {
			t.Fatal(err)
		}
		if name2, rec2, err2 := reuse.decode(body); (err2 == nil) != (err == nil) || name2 != name || rec2.Key != rec.Key ||
			rec2.Producer != rec.Producer || !bytes.Equal(rec2.Payload, rec.Payload) || !maps.Equal(rec2.Properties, rec.Properties) {
			t.Fatalf("after another message: %+v %+v %v; alone %+v %+v %v", name2, rec2, err2, name, rec, err)
		}
		payload, ofStream, leanErr := StreamMessagePayload(body, name)
		if leanErr != nil && !errors.Is(leanErr, ErrCorruptBody) {
			t.Fatalf("StreamMessagePayload error %v is not ErrCorruptBody", leanErr)
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptBody) {
				t.Fatalf("error %v is not ErrCorruptBody", err)
			}
			return
		}
		if leanErr != nil || !ofStream || !bytes.Equal(payload, rec.Payload) {
			t.Fatalf("StreamMessagePayload = %q, %v, %v; DecodeStreamMessage's payload %q", payload, ofStream, leanErr, rec.Payload)
		}
		again := AppendStreamMessage(nil, name, &rec)
		name2, rec2, err := DecodeStreamMessage(again)
		if err != nil || name2 != name || !bytes.Equal(rec2.Payload, rec.Payload) || !maps.Equal(rec2.Properties, rec.Properties) ||
			rec2.Key != rec.Key || rec2.SequenceID != rec.SequenceID {
			t.Fatalf("re-encoding changed the message: %v", err)
		}
	})
}

// TestStreamMessageSizeBoundsTheBody: PublishStream sizes each body once.
func TestStreamMessageSizeBoundsTheBody(t *testing.T) {
	name := naming.Stream{Persistent: true, Tenant: "t", Fabric: "f", Name: "orders"}
	recs := []segment.Record{
		{},
		{PublishTime: -1, EventTime: 1 << 62, Key: "k", Producer: "p", SequenceID: -1 << 62, Payload: make([]byte, 1024)},
		{Properties: map[string]string{"a": "b", "": string(make([]byte, 300))}, Payload: make([]byte, 200)},
	}
	for i := range recs {
		if got, bound := len(AppendStreamMessage(nil, name, &recs[i])), streamMessageSize(name, &recs[i]); got > bound {
			t.Errorf("record %d: body of %d bytes, size bound %d", i, got, bound)
		}
	}
}

// BenchmarkStreamMessagePayload: what resolving one stored reference
// costs in decoding (1 KiB message), the read path's StreamMessagePayload
// against decoding the whole message.
func BenchmarkStreamMessagePayload(b *testing.B) {
	body := AppendStreamMessage(nil, testStream, &segment.Record{Key: "k", Producer: "producer-1", SequenceID: 99,
		Payload: make([]byte, 1024), Properties: map[string]string{"a": "b"}})
	b.Run("payload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := StreamMessagePayload(body, testStream); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeStreamMessage(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestStreamMessageDecoderReuse: one decoder over a run of messages whose
// stream, key and producer change, repeat and return, with a refused body
// in between, decodes each as DecodeStreamMessage does alone.
func TestStreamMessageDecoderReuse(t *testing.T) {
	other := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "orders2"}
	bad := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "bad name\x00"}
	type msg struct {
		name          naming.Stream
		key, producer string
	}
	run := []msg{
		{testStream, "", "p1"}, {testStream, "", "p1"}, {testStream, "k", "p1"}, {testStream, "k", "p2"},
		{other, "k", "p2"}, {bad, "k", "p2"}, {other, "k", "p2"}, {testStream, "", ""}, {bad, "", ""},
		{testStream, "", ""}, {naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "other", Name: "orders"}, "", "p1"},
		{naming.Stream{Persistent: true, Tenant: "t2", Fabric: "other", Name: "orders"}, "", "p1"},
	}
	var d streamMessageDecoder
	for i, m := range run {
		body := AppendStreamMessage(nil, m.name, &segment.Record{Key: m.key, Producer: m.producer, SequenceID: int64(i),
			Payload: []byte{byte(i)}})
		wantName, want, wantErr := DecodeStreamMessage(body)
		name, got, err := d.decode(body)
		if (err == nil) != (wantErr == nil) || name != wantName || got.Key != want.Key || got.Producer != want.Producer ||
			got.SequenceID != want.SequenceID || !bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("message %d: decoder gave %+v %+v %v, alone %+v %+v %v", i, name, got, err, wantName, want, wantErr)
		}
		if (m.name == bad) != (err != nil) || (err == nil && (name != m.name || got.Key != m.key || got.Producer != m.producer)) {
			t.Fatalf("message %d (%+v): got %+v %+v %v", i, m, name, got, err)
		}
	}
}

// BenchmarkDecodeStreamMessage: a run of one stream's 1 KiB messages from
// one producer, each decoded alone against one decoder for the run.
func BenchmarkDecodeStreamMessage(b *testing.B) {
	body := AppendStreamMessage(nil, testStream, &segment.Record{Producer: "bench-producer-1", SequenceID: 99,
		Payload: make([]byte, 1024)})
	b.Run("alone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := DecodeStreamMessage(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		var d streamMessageDecoder
		for b.Loop() {
			if _, _, err := d.decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
