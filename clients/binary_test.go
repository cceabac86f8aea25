package clients

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
)

// binaryOutbox returns a binary outbox holding msgs, queued.
func binaryOutbox(t *testing.T, r *recorder, names []string, msgs ...ProducerMessage) *outbox {
	t.Helper()
	o := newOutbox(-1, 100)
	o.binary = true
	for i, m := range msgs {
		if err := o.add(m, r.cb(names[i])); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// decodeFrame decodes a binary publish frame the way the server does.
func decodeFrame(t *testing.T, frame []byte) wsbin.PublishFrame {
	t.Helper()
	f, err := wsbin.DecodePublish(frame, wsbin.PublishLimits{MaxPayloadBytes: 1 << 20})
	if err != nil {
		t.Fatalf("server would refuse the frame: %v", err)
	}
	for i, err := range f.Errs {
		if err != nil {
			t.Fatalf("server would refuse message %d: %v", i, err)
		}
	}
	return f
}

func TestOutboxBinaryFrames(t *testing.T) {
	var r recorder
	nine := int64(9)
	et := time.UnixMilli(1700000000123)
	o := binaryOutbox(t, &r, []string{"a", "b", "c", "d", "e"},
		ProducerMessage{Payload: []byte("a"), Key: "k", Properties: map[string]string{"p": "q"}, EventTime: et},
		ProducerMessage{Payload: []byte("b")},
		ProducerMessage{Payload: []byte("c"), SequenceID: &nine},
		ProducerMessage{Payload: []byte("d")},
		ProducerMessage{Payload: []byte("e")},
	)
	f1 := o.take(3, 1<<20)
	got := decodeFrame(t, f1)
	want := []wsbin.Publish{
		{Payload: []byte("a"), Key: "k", Properties: map[string]string{"p": "q"}, EventTime: et.UnixMilli(), SequenceID: 0},
		{Payload: []byte("b"), SequenceID: 1},
		{Payload: []byte("c"), SequenceID: 9},
	}
	if got.Context != 0 || !reflect.DeepEqual(got.Messages, want) {
		t.Fatalf("first frame: context %d, %+v", got.Context, got.Messages)
	}
	f2 := o.take(3, 1<<20)
	if got := decodeFrame(t, f2); got.Context != 10 || len(got.Messages) != 2 || got.Messages[1].SequenceID != 11 {
		t.Fatalf("second frame: context %d, %+v", got.Context, got.Messages)
	}

	// An ack naming another frame, or the wrong count, changes nothing.
	for _, bad := range [][]byte{
		wsbin.AppendPublishAck(nil, 10, []wsbin.PublishResult{{Offset: 1}, {Offset: 2}, {Offset: 3}}),
		wsbin.AppendPublishAck(nil, 0, []wsbin.PublishResult{{Offset: 1}, {Offset: 2}}),
	} {
		a, err := wsbin.DecodePublishAck(bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.ackedBinary(&a); !errors.Is(err, ErrProtocol) || o.inflightN != 5 || len(o.inflight) != 2 {
			t.Fatalf("mismatched ack: %v, %d in flight", err, o.inflightN)
		}
	}

	ack := func(frame []byte) {
		t.Helper()
		a, err := wsbin.DecodePublishAck(frame)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := o.ackedBinary(&a)
		if err != nil {
			t.Fatal(err)
		}
		run(cs)
	}
	ack(wsbin.AppendPublishAck(nil, 0, []wsbin.PublishResult{{Offset: 40}, {Offset: 41}, {Offset: 42}}))
	ack(wsbin.AppendPublishAck(nil, 10, []wsbin.PublishResult{{Status: wsbin.Duplicate, Offset: 7}, {Status: wsbin.Refused, Code: 9, Error: "too big"}}))
	if w := []string{"a:40", "b:41", "c:42", "d:7", "e:err"}; !reflect.DeepEqual(r.got, w) {
		t.Fatalf("completions %v, want %v", r.got, w)
	}
	if o.lastAcked != 10 || o.pending() != 0 {
		t.Fatalf("last acked %d, %d pending", o.lastAcked, o.pending())
	}
}

func TestOutboxBinaryRefusalAndResend(t *testing.T) {
	var r recorder
	o := binaryOutbox(t, &r, []string{"a", "b", "c"}, ProducerMessage{Payload: []byte("a")}, ProducerMessage{Payload: []byte("b")},
		ProducerMessage{Payload: []byte("c")})
	first := o.take(2, 1<<20)
	second := o.take(2, 1<<20)
	// After a reconnect the frames are cut again, byte for byte.
	o.requeue()
	if again := o.take(2, 1<<20); string(again) != string(first) {
		t.Fatalf("resent frame differs")
	}
	if again := o.take(2, 1<<20); string(again) != string(second) {
		t.Fatalf("resent frame differs")
	}
	a, _ := wsbin.DecodePublishAck(wsbin.AppendPublishRefusal(nil, 0, wsproto.ErrCodeDeserialize, "malformed"))
	cs, err := o.ackedBinary(&a)
	if err != nil || len(cs) != 2 {
		t.Fatalf("refusal: %d completions, %v", len(cs), err)
	}
	var se *SendError
	if !errors.As(cs[0].err, &se) || se.Code != wsproto.ErrCodeDeserialize || !errors.As(cs[1].err, &se) {
		t.Fatalf("refusal completions: %v, %v", cs[0].err, cs[1].err)
	}
	a, _ = wsbin.DecodePublishAck(wsbin.AppendPublishAck(nil, 2, []wsbin.PublishResult{{Status: wsbin.DuplicateForgotten}}))
	cs, err = o.ackedBinary(&a)
	if err != nil || len(cs) != 1 || cs[0].err != nil || cs[0].id != (wsproto.MessageID{}) || o.lastAcked != 2 {
		t.Fatalf("forgotten duplicate: %+v, %v, last acked %d", cs, err, o.lastAcked)
	}
}

// FuzzOutboxAckedBinary: whatever binary ack decodes either completes the
// frame in flight or is refused without changing the outbox.
func FuzzOutboxAckedBinary(f *testing.F) {
	f.Add(wsbin.AppendPublishAck(nil, 0, []wsbin.PublishResult{{Offset: 1}, {Offset: 2}, {Offset: 3}}))
	f.Add(wsbin.AppendPublishAck(nil, 0, []wsbin.PublishResult{{Status: wsbin.Refused, Code: 9}, {Status: wsbin.Duplicate}, {Status: wsbin.DuplicateForgotten}}))
	f.Add(wsbin.AppendPublishRefusal(nil, 0, 3, "bad"))
	f.Add(wsbin.AppendPublishAck(nil, 1, []wsbin.PublishResult{{Offset: 1}}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		a, err := wsbin.DecodePublishAck(frame)
		if err != nil {
			return
		}
		o := newOutbox(-1, 10)
		o.binary = true
		for range 3 {
			_ = o.add(ProducerMessage{Payload: []byte("x")}, func(wsproto.MessageID, error) {})
		}
		o.take(10, 1<<20)
		cs, err := o.ackedBinary(&a)
		switch {
		case err != nil && (o.inflightN != 3 || len(cs) != 0):
			t.Fatalf("refused ack changed the outbox")
		case err == nil && (len(cs) != 3 || o.pending() != 0):
			t.Fatalf("%d completions, %d pending", len(cs), o.pending())
		}
	})
}

func TestMessageFromBinary(t *testing.T) {
	bm := wsbin.Message{ID: wsproto.MessageID{Stream: 1, Offset: 7, Partition: -1}, PublishTime: 1700000000000, EventTime: 5,
		RedeliveryCount: 2, Key: "k", Properties: map[string]string{"a": "b"}, Payload: []byte("p")}
	m := messageFromBinary(&bm, []string{"persistent://t/f/a", "persistent://t/f/b"})
	if m.Stream != "persistent://t/f/b" || m.ID != bm.ID || string(m.Payload) != "p" || m.Key != "k" || m.Properties["a"] != "b" ||
		m.RedeliveryCount != 2 || m.PublishTime.UnixMilli() != 1700000000000 || m.EventTime.UnixMilli() != 5 {
		t.Fatalf("message %+v", m)
	}
	if id, err := wsproto.ParseMessageID(m.RawID); err != nil || id != bm.ID {
		t.Fatalf("raw id %q: %v %v", m.RawID, id, err)
	}
	bm.EventTime = 0
	if m := messageFromBinary(&bm, []string{"s"}); !m.EventTime.IsZero() || m.Stream != "s" {
		t.Fatalf("no event time: %+v", m)
	}
}

// TestBinaryNeedsServerConfirmation: a server that ignores the protocol
// parameter (no confirmation header) is refused at once, not misread.
func TestBinaryNeedsServerConfirmation(t *testing.T) {
	f := newFakeServer(t)
	c := f.client(t, WithBinaryProtocol(true))
	if _, err := c.CreateProducer(ctxT(t), ProducerOptions{Stream: "s"}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("producer: %v, want ErrUnsupported", err)
	}
	if conn := f.accept(t); conn.req.URL.Query().Get(wsbin.ProtocolParam) != wsbin.Protocol {
		t.Fatalf("the producer did not ask for %s: %s", wsbin.Protocol, conn.req.URL)
	}
	if _, err := c.Subscribe(ctxT(t), ConsumerOptions{Streams: []string{"s"}, Subscription: "sub"}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("consumer: %v, want ErrUnsupported", err)
	}
	if retriable(ErrUnsupported) {
		t.Fatal("ErrUnsupported is retried")
	}
}
