package wsproto

import (
	"errors"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/naming"
)

func TestMessageIDRoundTrip(t *testing.T) {
	for _, id := range []MessageID{{0, 0, -1}, {3, 1 << 40, 7}, {0, 12345, -1}} {
		got, err := ParseMessageID(id.Encode())
		if err != nil || got != id {
			t.Fatalf("round trip %v: got %v, %v", id, got, err)
		}
	}
}

func TestParseMessageIDRejects(t *testing.T) {
	for _, s := range []string{"", "!!!", "CAA=", strings.Repeat("A", 200), "EgA="} {
		if _, err := ParseMessageID(s); !errors.Is(err, ErrBadMessageID) {
			t.Errorf("ParseMessageID(%q) = %v, want ErrBadMessageID", s, err)
		}
	}
}

func st(persistent bool, name string) naming.Stream {
	return naming.Stream{Persistent: persistent, Tenant: "t", Fabric: "f", Name: name}
}

func TestParsePath(t *testing.T) {
	tr := true
	cases := []struct {
		path, topics string
		want         Endpoint
		ok           bool
	}{
		{"/ws/v2/producer/persistent/t/f/s", "", Endpoint{Kind: Producer, Streams: []naming.Stream{st(true, "s")}}, true},
		{"/ws/v2/consumer/non-persistent/t/f/s/sub", "", Endpoint{Kind: Consumer, Subscription: "sub", Streams: []naming.Stream{st(false, "s")}}, true},
		{"/ws/v2/reader/persistent/t/f/s", "", Endpoint{Kind: Reader, Streams: []naming.Stream{st(true, "s")}}, true},
		{"/_ws/ws/v2/producer/persistent/t/c8global.f/s", "", Endpoint{Kind: Producer, Global: &tr, Streams: []naming.Stream{st(true, "s")}}, true},
		{"/ws/v3/consumer/sub", "persistent://t/f/a,t/f/b", Endpoint{Kind: Consumer, Subscription: "sub", Streams: []naming.Stream{st(true, "a"), st(true, "b")}}, true},
		{"/ws/v3/consumer/sub", "", Endpoint{}, false},
		{"/ws/v3/consumer/sub", "t/f/a,t/f/a", Endpoint{}, false},
		{"/ws/v2/consumer/persistent/t/f/s", "", Endpoint{}, false},
		{"/ws/v2/producer/persistent/t/../s", "", Endpoint{}, false},
		{"/ws/v2/producer/bogus/t/f/s", "", Endpoint{}, false},
		{"/ws/v2/admin/persistent/t/f/s", "", Endpoint{}, false},
		{"/ws/v9/producer/persistent/t/f/s", "", Endpoint{}, false},
		{"/other", "", Endpoint{}, false},
	}
	for _, c := range cases {
		got, err := ParsePath(c.path, c.topics)
		if (err == nil) != c.ok {
			t.Errorf("ParsePath(%q) err=%v, want ok=%v", c.path, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		if got.Kind != c.want.Kind || got.Subscription != c.want.Subscription || len(got.Streams) != len(c.want.Streams) ||
			(c.want.Global != nil) != (got.Global != nil) {
			t.Errorf("ParsePath(%q) = %+v, want %+v", c.path, got, c.want)
			continue
		}
		for i := range got.Streams {
			if got.Streams[i] != c.want.Streams[i] {
				t.Errorf("ParsePath(%q) stream %d = %+v, want %+v", c.path, i, got.Streams[i], c.want.Streams[i])
			}
		}
	}
}

func TestDecodeProducerMessage(t *testing.T) {
	cases := []struct {
		in   string
		code int // 0 = ok
	}{
		{`{"payload":"aGVsbG8=","context":"1","key":"k","properties":{"a":"b"}}`, 0},
		{`{"payload":"aGVsbG8=","eventTime":"1700000000000"}`, 0},
		{`{"payload":"aGVsbG8=","eventTime":"yesterday"}`, ErrCodePayloadEncoding},
		{`{"payload":"not base64!"}`, ErrCodePayloadEncoding},
		{`{"payload":`, ErrCodeDeserialize},
		{`{"payload":"` + strings.Repeat("QUFB", 100) + `"}`, ErrCodePayloadTooLarge},
	}
	for _, c := range cases {
		_, err := DecodeProducerMessage([]byte(c.in), 64)
		var pe *PublishError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%s: unexpected %v", c.in, err)
		case c.code != 0 && (!errors.As(err, &pe) || pe.Code != c.code):
			t.Errorf("%s: got %v, want code %d", c.in, err, c.code)
		}
	}
}

func TestDecodeConsumerCommand(t *testing.T) {
	id := MessageID{Offset: 5, Partition: -1}.Encode()
	cases := []struct {
		in   string
		typ  string
		fail bool
	}{
		{`{"messageId":"` + id + `"}`, CmdAck, false},
		{`{"type":"negativeAcknowledge","messageId":"` + id + `"}`, CmdNegativeAck, false},
		{`{"type":"cumulativeAck","messageId":"` + id + `"}`, CmdCumulativeAck, false},
		{`{"type":"permit","permitMessages":10}`, CmdPermit, false},
		{`{"type":"permit","permitMessages":0}`, "", true},
		{`{"type":"isEndOfTopic"}`, CmdIsEndOfTopic, false},
		{`{"type":"launch"}`, "", true},
		{`{"messageId":"zz"}`, "", true},
		{`[`, "", true},
	}
	for _, c := range cases {
		cmd, _, err := DecodeConsumerCommand([]byte(c.in))
		if (err != nil) != c.fail || (!c.fail && cmd.Type != c.typ) {
			t.Errorf("%s: got %+v, %v", c.in, cmd, err)
		}
	}
}

func FuzzDecodeFrames(f *testing.F) {
	f.Add([]byte(`{"payload":"aGVsbG8=","context":"1"}`))
	f.Add([]byte(`{"type":"permit","permitMessages":3}`))
	f.Add([]byte(`{"messageId":"CAAQBRj///////////8B"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if d, err := DecodeProducerMessage(data, 1024); err == nil && len(d.Payload) > 1024 {
			t.Fatalf("payload over limit accepted")
		}
		if _, id, err := DecodeConsumerCommand(data); err == nil {
			_ = id.Encode()
		}
	})
}

func FuzzParseMessageID(f *testing.F) {
	f.Add(MessageID{Offset: 9, Partition: -1}.Encode())
	f.Add("CAEQAg==")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseMessageID(s)
		if err != nil {
			return
		}
		back, err := ParseMessageID(id.Encode())
		if err != nil || back != id {
			t.Fatalf("re-encode of %v: %v %v", id, back, err)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	f.Add("/ws/v2/consumer/persistent/t/f/s/sub", "")
	f.Add("/ws/v3/consumer/sub", "t/f/a,t/f/b")
	f.Fuzz(func(t *testing.T, path, topics string) {
		ep, err := ParsePath(path, topics)
		if err != nil {
			return
		}
		for _, s := range ep.Streams {
			if s.Validate() != nil {
				t.Fatalf("invalid stream accepted: %+v", s)
			}
		}
	})
}

func TestDecodeProducerBatch(t *testing.T) {
	msgs, errs, err := DecodeProducerBatch([]byte(` [{"payload":"YQ==","context":"1"},{"payload":"!"},{"payload":"Yg=="}]`), 10, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("got %d msgs, %v", len(msgs), err)
	}
	if errs[0] != nil || errs[1] == nil || errs[2] != nil || string(msgs[2].Payload) != "b" {
		t.Fatalf("per-element results wrong: %v", errs)
	}
	for _, bad := range []string{`[]`, `[`, `{"payload":"YQ=="}`} {
		if _, _, err := DecodeProducerBatch([]byte(bad), 10, 0); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if !IsBatch([]byte("\n [")) || IsBatch([]byte(`{"a":1}`)) {
		t.Fatal("IsBatch wrong")
	}
}
