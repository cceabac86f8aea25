package wsbin

import (
	"reflect"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

// Every decoder of outside input is fuzzed: it must not panic, must bound
// what it allocates (the package's limits), and what it accepts must
// re-encode to a frame that decodes to the same value.

func FuzzDecodePublish(f *testing.F) {
	f.Add(AppendPublish(nil, 1, []Publish{{Payload: []byte("hello"), SequenceID: -1}}))
	f.Add(AppendPublish(nil, 1<<40, []Publish{{Key: "k", Properties: map[string]string{"a": "b"}, Payload: []byte{1, 2}, SequenceID: 7, EventTime: 1700000000000}, {Payload: nil, SequenceID: 8}}))
	f.Add(AppendPublishHeader(nil, 0, 3))
	f.Add([]byte{byte(TypePublish), 0, 1, pubProperties, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, frame []byte) {
		const maxPayload = 64
		p, err := DecodePublish(frame, PublishLimits{MaxPayloadBytes: maxPayload, MaxMessages: 100})
		if err != nil {
			return
		}
		if len(p.Messages) == 0 || len(p.Messages) > 100 || len(p.Errs) != len(p.Messages) {
			t.Fatalf("%d messages, %d errors", len(p.Messages), len(p.Errs))
		}
		for i, m := range p.Messages {
			if p.Errs[i] == nil && (len(m.Payload) > maxPayload || len(m.Properties) > MaxPropertiesPerMessage) {
				t.Fatalf("message %d accepted past a limit", i)
			}
		}
		back, err := DecodePublish(AppendPublish(nil, p.Context, p.Messages), PublishLimits{MaxPayloadBytes: 1 << 30})
		if err != nil {
			t.Fatalf("re-encoded frame refused: %v", err)
		}
		for i := range p.Messages {
			if p.Errs[i] == nil && !reflect.DeepEqual(back.Messages[i], p.Messages[i]) {
				t.Fatalf("message %d: %+v after a round trip, was %+v", i, back.Messages[i], p.Messages[i])
			}
		}
	})
}

func FuzzDecodePublishAck(f *testing.F) {
	f.Add(AppendPublishAck(nil, 5, []PublishResult{{Offset: 1}, {Offset: 2}}))
	f.Add(AppendPublishAck(nil, 5, []PublishResult{{Status: Duplicate, Offset: 1}, {Status: DuplicateForgotten}, {Status: Refused, Code: 9, Error: "big"}}))
	f.Add(AppendPublishRefusal(nil, 5, 3, "bad frame"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		a, err := DecodePublishAck(frame)
		if err != nil {
			return
		}
		if a.Refusal != nil {
			back, err := DecodePublishAck(AppendPublishRefusal(nil, a.Context, a.Refusal.Code, a.Refusal.Msg))
			if err != nil || *back.Refusal != *a.Refusal {
				t.Fatalf("refusal round trip: %+v, %v", back.Refusal, err)
			}
			return
		}
		if a.Count < 1 || a.Count > MaxMessagesPerFrame {
			t.Fatalf("count %d", a.Count)
		}
		results := make([]PublishResult, a.Count)
		for i := range results {
			results[i] = a.Result(i)
		}
		back, err := DecodePublishAck(AppendPublishAck(nil, a.Context, results))
		if err != nil || back.Count != a.Count {
			t.Fatalf("round trip: %v", err)
		}
		for i := range results {
			if back.Result(i) != results[i] {
				t.Fatalf("result %d: %+v, was %+v", i, back.Result(i), results[i])
			}
		}
	})
}

func FuzzDecodeMessages(f *testing.F) {
	f.Add(AppendMessages(nil, []Message{{ID: wsproto.MessageID{Offset: 3}, PublishTime: 1700000000000, Payload: []byte("x")}}))
	f.Add(AppendMessages(nil, []Message{{ID: wsproto.MessageID{Stream: 2, Offset: 1 << 33}, EventTime: 5, RedeliveryCount: 2, Key: "k", Properties: map[string]string{"a": "b"}}, {}}))
	f.Add([]byte{byte(TypeMessages), 1, msgProperties, 0, 0, 0, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, frame []byte) {
		msgs, err := DecodeMessages(frame)
		if err != nil {
			return
		}
		back, err := DecodeMessages(AppendMessages(nil, msgs))
		if err != nil || !reflect.DeepEqual(back, msgs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodeAcks(f *testing.F) {
	f.Add(AppendAcks(nil, []Ack{{ID: wsproto.MessageID{Offset: 4}}, {Kind: Nack, ID: wsproto.MessageID{Stream: 1, Offset: 2}}}))
	f.Add(AppendAcks(nil, []Ack{{Kind: AckCumulative, ID: wsproto.MessageID{Offset: 1<<64 - 1}}, {ID: wsproto.MessageID{Offset: 0}}}))
	f.Add([]byte{byte(TypeAcks), 0xff, 0xff, 0x03, 0})
	f.Fuzz(func(t *testing.T, frame []byte) {
		acks, err := DecodeAcks(frame)
		if err != nil {
			return
		}
		if len(acks) == 0 || len(acks) > MaxAcksPerFrame {
			t.Fatalf("%d acks", len(acks))
		}
		back, err := DecodeAcks(AppendAcks(nil, acks))
		if err != nil || !reflect.DeepEqual(back, acks) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodePermit(f *testing.F) {
	f.Add(AppendPermit(nil, 10))
	f.Add(AppendPermit(nil, MaxPermitsPerFrame))
	f.Add([]byte{byte(TypePermit), 0x80})
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, err := DecodePermit(frame)
		if err != nil {
			return
		}
		if n < 1 || n > MaxPermitsPerFrame {
			t.Fatalf("permits %d accepted", n)
		}
		if back, err := DecodePermit(AppendPermit(nil, n)); err != nil || back != n {
			t.Fatalf("round trip: %d, %v", back, err)
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	f.Add(AppendError(nil, &wsproto.MessageID{Offset: 1}, "unknown message"))
	f.Add(AppendError(nil, nil, "permit frames are only accepted in pull mode"))
	f.Add([]byte{byte(TypeError), 1, 0x80})
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, _ = TypeOf(frame)
		e, err := DecodeError(frame)
		if err != nil {
			return
		}
		var id *wsproto.MessageID
		if e.HasID {
			id = &e.ID
		}
		if back, err := DecodeError(AppendError(nil, id, e.Error)); err != nil || back != e {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}
