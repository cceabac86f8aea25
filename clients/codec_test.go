package clients

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

func TestEncodePublishRoundTrip(t *testing.T) {
	et := time.UnixMilli(1700000000123)
	b, err := encodePublish(ProducerMessage{Payload: []byte("hi\x00"), Key: "k", Properties: map[string]string{"a": "b"}, EventTime: et}, 5)
	if err != nil {
		t.Fatal(err)
	}
	d, err := wsproto.DecodeProducerMessage(b, 100)
	if err != nil {
		t.Fatalf("server rejects %s: %v", b, err)
	}
	if string(d.Payload) != "hi\x00" || d.Frame.Key != "k" || d.Frame.Properties["a"] != "b" || d.EventTime != et.UnixMilli() ||
		*d.Frame.SequenceID != 5 || d.Frame.Context != "5" {
		t.Fatalf("decoded %+v", d)
	}
	batch := joinBatch([][]byte{b, b})
	msgs, errs, err := wsproto.DecodeProducerBatch(batch, 100, 0)
	if err != nil || len(msgs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("server rejects batch %s: %v %v", batch, err, errs)
	}
}

func TestDecodeAcks(t *testing.T) {
	id := wsproto.MessageID{Offset: 3, Partition: -1}.Encode()
	cases := []struct {
		in string
		n  int // 0 = protocol error
	}{
		{`{"result":"ok","messageId":"` + id + `","context":"1"}`, 1},
		{`{"result":"send-error:9","errorMsg":"too big","context":"1"}`, 1},
		{` [{"result":"ok","messageId":"` + id + `"},{"result":"send-error:3"}]`, 2},
		{`[]`, 0},
		{`{}`, 0},
		{`{"result":`, 0},
		{`[1,2]`, 0},
		{`"ok"`, 0},
	}
	for _, c := range cases {
		acks, err := decodeAcks([]byte(c.in))
		if c.n == 0 {
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("%s: err %v, want ErrProtocol", c.in, err)
			}
			continue
		}
		if err != nil || len(acks) != c.n {
			t.Errorf("%s: %d acks, %v", c.in, len(acks), err)
		}
	}
}

func TestDecodeMessage(t *testing.T) {
	streams := []string{"persistent://t/f/a", "persistent://t/f/b"}
	id0 := wsproto.MessageID{Offset: 7, Partition: -1}.Encode()
	id1 := wsproto.MessageID{Stream: 1, Offset: 8, Partition: -1}.Encode()
	m, err := decodeMessage([]byte(`{"messageId":"`+id0+`","payload":"aGk=","properties":{"p":"q"},"publishTime":"2024-01-02T03:04:05.678Z","eventTime":"1700000000000","redeliveryCount":2,"key":"k"}`), streams)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID.Offset != 7 || m.RawID != id0 || string(m.Payload) != "hi" || m.Properties["p"] != "q" || m.Key != "k" || m.RedeliveryCount != 2 ||
		m.Stream != streams[0] || m.PublishTime.UnixMilli() != time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC).UnixMilli() ||
		m.EventTime.UnixMilli() != 1700000000000 {
		t.Fatalf("decoded %+v", m)
	}
	if m, err := decodeMessage([]byte(`{"messageId":"`+id1+`","payload":""}`), streams); err != nil || m.Stream != streams[1] {
		t.Fatalf("stream by id index: %+v %v", m, err)
	}
	if m, err := decodeMessage([]byte(`{"messageId":"`+id1+`","payload":"","topic":"persistent://x/y/z"}`), streams); err != nil || m.Stream != "persistent://x/y/z" {
		t.Fatalf("stream by topic: %+v %v", m, err)
	}
	for _, bad := range []string{
		`{"payload":"aGk="}`,
		`{"messageId":"!!","payload":"aGk="}`,
		`{"messageId":"` + id0 + `","payload":"***"}`,
		`{"messageId":"` + id0 + `","payload":"","publishTime":"noon"}`,
		`{"messageId":"` + id0 + `","payload":"","eventTime":"noon"}`,
		`[`,
	} {
		if _, err := decodeMessage([]byte(bad), streams); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: err %v, want ErrProtocol", bad, err)
		}
	}
}

func TestEncodeCommand(t *testing.T) {
	cases := []struct {
		cmd  wsproto.ConsumerCommand
		want string
	}{
		{wsproto.ConsumerCommand{MessageID: "X"}, `{"messageId":"X"}`},
		{wsproto.ConsumerCommand{Type: wsproto.CmdCumulativeAck, MessageID: "X"}, `{"type":"cumulativeAck","messageId":"X"}`},
		{wsproto.ConsumerCommand{Type: wsproto.CmdNegativeAck, MessageID: "X"}, `{"type":"negativeAcknowledge","messageId":"X"}`},
		{wsproto.ConsumerCommand{Type: wsproto.CmdPermit, PermitMessages: 3}, `{"type":"permit","permitMessages":3}`},
		{wsproto.ConsumerCommand{Type: wsproto.CmdUnsubscribe}, `{"type":"unsubscribe"}`},
	}
	for _, c := range cases {
		if got := string(encodeCommand(c.cmd)); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func FuzzDecodeAcks(f *testing.F) {
	id := wsproto.MessageID{Offset: 3, Partition: -1}.Encode()
	f.Add([]byte(`{"result":"ok","messageId":"` + id + `","context":"1"}`))
	f.Add([]byte(`[{"result":"ok","messageId":"` + id + `","context":"1"},{"result":"send-error:9","errorMsg":"x","context":"2"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		acks, err := decodeAcks(data)
		if err != nil {
			return
		}
		if len(acks) == 0 || len(acks) > wsproto.MaxBatchMessages {
			t.Fatalf("%d acks accepted", len(acks))
		}
		// Whatever decodes must be matchable without corrupting the outbox.
		o := newOutbox(0, 4)
		for range 2 {
			_ = o.add(ProducerMessage{}, func(wsproto.MessageID, error) {})
		}
		o.take(10, 1<<20)
		if cs, err := o.acked(acks); err != nil {
			if o.inflightN != 2 {
				t.Fatalf("rejected ack frame changed the outbox")
			}
		} else if len(cs) != 2 || o.pending() != 0 {
			t.Fatalf("%d completions, %d pending", len(cs), o.pending())
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	id := wsproto.MessageID{Stream: 1, Offset: 7, Partition: -1}.Encode()
	f.Add([]byte(`{"messageId":"` + id + `","payload":"aGk=","properties":{"p":"q"},"publishTime":"2024-01-02T03:04:05.678Z","redeliveryCount":2,"key":"k"}`))
	f.Add([]byte(`{"messageId":"` + id + `","payload":"","topic":"persistent://t/f/a"}`))
	f.Add([]byte(`{"messageId":"CAAQBRj///////////8B","payload":"","publishTime":"1700000000000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data, []string{"persistent://t/f/a"})
		if err != nil {
			return
		}
		if m.RawID == "" || m.Stream == "" {
			t.Fatalf("decoded message without id or stream: %+v", m)
		}
		if back, err := wsproto.ParseMessageID(m.RawID); err != nil || back != m.ID {
			t.Fatalf("id %q does not round trip: %v %v", m.RawID, back, err)
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// encodePublish renders what encoding/json renders for the same
// wsproto.ProducerMessage (byte for byte where encoding/json's HTML
// escaping does not apply).
func TestEncodePublishLikeEncodingJSON(t *testing.T) {
	et := time.UnixMilli(1700000000123)
	for _, m := range []ProducerMessage{
		{Payload: []byte("hello")},
		{Payload: nil, Key: "k\"\\\n\x01é", Properties: map[string]string{"z": "1", "a": "\u2028", "m": ""}, EventTime: et},
		{Payload: make([]byte, 1024), Properties: map[string]string{}},
		{Payload: []byte("<&>"), Key: "<&>"},
	} {
		got, err := encodePublish(m, 42)
		if err != nil {
			t.Fatal(err)
		}
		seq := int64(42)
		f := wsproto.ProducerMessage{Payload: base64.StdEncoding.EncodeToString(m.Payload), Properties: m.Properties,
			Context: "42", Key: m.Key, SequenceID: &seq}
		if !m.EventTime.IsZero() {
			f.EventTime = wsproto.FormatTime(m.EventTime.UnixMilli())
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(buf.String(), "\n"); string(got) != want {
			t.Errorf("encodePublish = %s\nencoding/json  %s", got, want)
		}
	}
}

func BenchmarkEncodePublish(b *testing.B) {
	m := ProducerMessage{Payload: make([]byte, 1024)}
	b.ReportAllocs()
	for i := range b.N {
		if _, err := encodePublish(m, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	id := wsproto.MessageID{Offset: 123456, Partition: -1}.Encode()
	frame := []byte(`{"messageId":"` + id + `","payload":"` + base64.StdEncoding.EncodeToString(make([]byte, 1024)) +
		`","properties":{},"publishTime":"2026-12-06T15:55:03.123Z","redeliveryCount":0}`)
	streams := []string{"persistent://t/f/s"}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for range b.N {
		if _, err := decodeMessage(frame, streams); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAcks(b *testing.B) {
	id := wsproto.MessageID{Offset: 123456, Partition: -1}.Encode()
	frame := []byte("[")
	for i := range 100 {
		if i > 0 {
			frame = append(frame, ',')
		}
		frame = fmt.Appendf(frame, `{"result":"ok","messageId":"%s","context":"%d"}`, id, i)
	}
	frame = append(frame, ']')
	b.ReportAllocs()
	for range b.N {
		if _, err := decodeAcks(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJSONBatchPartsJoinLikeJoinBatch(t *testing.T) {
	a, b, c := []byte(`{"payload":"YQ=="}`), []byte(`{"payload":"Yg=="}`), []byte(`{"payload":""}`)
	for _, frames := range [][][]byte{{a}, {a, b}, {a, b, c}} {
		if got, want := bytes.Join(jsonBatchParts(frames), nil), joinBatch(frames); !bytes.Equal(got, want) {
			t.Errorf("parts join to %s, want %s", got, want)
		}
	}
}
