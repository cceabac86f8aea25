package wsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The hand-written decoders must read every frame as encoding/json reads it
// into the frame structs (the reference: what the server decoded before),
// and refuse what encoding/json refuses. The one leniency: a payload string
// read on the fast path may hold raw control characters, which the base64
// check then refuses (hasControl).

var jsonSeeds = []string{
	`{"payload":"aGVsbG8=","context":"1","key":"k","properties":{"a":"b"}}`,
	`{"payload":"aGVsbG8=","eventTime":"1700000000000","sequenceId":-3,"replicationClusters":["a","b"]}`,
	`{"Payload":"aGk=","CONTEXT":"x","properties":null,"sequenceId":null,"extra":{"deep":[1,2.5e3,true,false,null,"s"]}}`,
	`{"payload":"aGVs\/bG8=","key":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t","context":"\u0041"}`,
	`{"payload":"aGk=","payload":null,"key":"a","key":null,"properties":{"a":"1"},"properties":{"b":null}}`,
	` [{"payload":"YQ==","context":"1"},{"payload":"!"},null,{"payload":"Yg=="}] `,
	`{"type":"permit","permitMessages":10}`,
	`{"messageId":"CAAQBRj///////////8B","type":"negativeAcknowledge"}`,
	`{"permitMessages":1.5}`, `{"permitMessages":99999999999999999999}`, `{"sequenceId":1e3}`,
	`{"result":"ok","messageId":"CAAQAxj///////////8B","context":"1"}`,
	`[{"result":"ok"},{"result":"send-error:3","errorMsg":"x"}]`,
	`{"messageId":"CAAQBxj///////////8B","payload":"aGk=","properties":{"p":"q"},"publishTime":"2024-01-02T03:04:05.678Z","eventTime":"1700000000000","redeliveryCount":2,"key":"k","topic":"t"}`,
	`{"payload":"aGk=` + "\n" + `"}`, `{"payload":"aGk=","key":"` + "\xff" + `"}`, `{"a":[1,]}`, `{"a":01}`, `{"a":-}`, `{,}`, `{"a"}`,
	`{"a":tru}`, `nul`, `null`, `"x"`, `[]`, `{}`, `{"payload":5}`, `{"properties":{"a":1}}`, `{"replicationClusters":"a"}`,
}

func addSeeds(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
}

// hasControl reports a raw control character (invalid in a JSON string)
// anywhere in data.
func hasControl(data []byte) bool {
	return bytes.ContainsFunc(data, func(r rune) bool { return r < 0x20 && r != ' ' && r != '\t' && r != '\r' && r != '\n' }) ||
		bytes.ContainsAny(data, "\t\r\n")
}

func sameStrings(a, b map[string]string) bool { return len(a) == len(b) && maps.Equal(a, b) }

func checkPublishFrame(t *testing.T, data []byte, got rawPublish, want ProducerMessage) {
	t.Helper()
	g := got.frame
	if !sameStrings(g.Properties, want.Properties) || g.Context != want.Context || g.Key != want.Key ||
		!slices.Equal(g.ReplicationClusters, want.ReplicationClusters) || (g.ReplicationClusters == nil) != (want.ReplicationClusters == nil) ||
		g.EventTime != want.EventTime || (g.SequenceID == nil) != (want.SequenceID == nil) ||
		(g.SequenceID != nil && *g.SequenceID != *want.SequenceID) {
		t.Fatalf("%q: decoded %+v, encoding/json %+v", data, g, want)
	}
	if utf8.Valid(got.payload) && string(got.payload) != want.Payload {
		t.Fatalf("%q: payload %q, encoding/json %q", data, got.payload, want.Payload)
	}
}

func FuzzPublishLikeEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var want ProducerMessage
		refErr := json.Unmarshal(data, &want)
		s := scanner{data: data}
		var got rawPublish
		err := s.parsePublish(&got)
		if err == nil {
			err = s.end()
		}
		switch {
		case refErr == nil && err != nil:
			t.Fatalf("%q: refused (%v), encoding/json accepts", data, err)
		case refErr == nil:
			checkPublishFrame(t, data, got, want)
		case err == nil && !hasControl(data):
			t.Fatalf("%q: accepted, encoding/json refuses: %v", data, refErr)
		}
		d, err := DecodeProducerMessage(data, 1024)
		if err == nil && (refErr != nil || len(d.Payload) > 1024) {
			t.Fatalf("%q: accepted %+v (encoding/json: %v)", data, d, refErr)
		}
		if refErr == nil {
			p, perr := base64.StdEncoding.DecodeString(want.Payload)
			if perr == nil && len(p) <= 1024 && (want.EventTime == "" || validTime(want.EventTime)) && err != nil {
				t.Fatalf("%q: refused (%v), the old decoder accepts", data, err)
			}
			if err == nil && !bytes.Equal(p, d.Payload) {
				t.Fatalf("%q: payload %q, want %q", data, d.Payload, p)
			}
		}
		var pe *PublishError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%q: error %v is not a PublishError", data, err)
		}
	})
}

func validTime(s string) bool { _, err := ParseTime(s); return err == nil }

func FuzzBatchLikeEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []ProducerMessage
		refErr := json.Unmarshal(data, &want)
		if refErr == nil && (len(want) == 0 || len(want) > 5) {
			refErr = errors.New("count")
		}
		msgs, errs, err := DecodeProducerBatch(data, 1024, 5)
		switch {
		case refErr == nil && err != nil:
			t.Fatalf("%q: refused (%v), encoding/json accepts", data, err)
		case err == nil && refErr != nil && !hasControl(data):
			t.Fatalf("%q: accepted, encoding/json refuses: %v", data, refErr)
		case err != nil || refErr != nil:
			return
		}
		if len(msgs) != len(want) || len(errs) != len(want) {
			t.Fatalf("%q: %d messages, want %d", data, len(msgs), len(want))
		}
		for i, w := range want {
			p, perr := base64.StdEncoding.DecodeString(w.Payload)
			ok := perr == nil && len(p) <= 1024 && (w.EventTime == "" || validTime(w.EventTime))
			if ok != (errs[i] == nil) && !hasControl(data) {
				t.Fatalf("%q: element %d: error %v, old decoder ok=%v", data, i, errs[i], ok)
			}
			if errs[i] == nil && (!bytes.Equal(p, msgs[i].Payload) || msgs[i].Frame.Key != w.Key || msgs[i].Frame.Context != w.Context) {
				t.Fatalf("%q: element %d: %+v, want %+v", data, i, msgs[i], w)
			}
		}
	})
}

func FuzzCommandLikeEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var want ConsumerCommand
		refErr := json.Unmarshal(data, &want)
		got, err := parseCommand(data)
		switch {
		case refErr == nil && err != nil:
			t.Fatalf("%q: refused (%v), encoding/json accepts", data, err)
		case refErr != nil && err == nil:
			t.Fatalf("%q: accepted %+v, encoding/json refuses: %v", data, got, refErr)
		case err == nil && got != want:
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, got, want)
		}
		if c, id, err := DecodeConsumerCommand(data); err == nil {
			if c.Type == CmdAck && id.Encode() == "" {
				t.Fatal("ack without id")
			}
		} else if !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrBadMessageID) {
			t.Fatalf("%q: error %v", data, err)
		}
		if err == nil {
			back, err := parseCommand(AppendConsumerCommand(nil, got))
			if err != nil || (utf8.ValidString(got.Type) && utf8.ValidString(got.MessageID) && back != got) {
				t.Fatalf("%+v re-encoded: %+v %v", got, back, err)
			}
		}
	})
}

func FuzzAcksLikeEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []ProducerAck
		var refErr error
		if IsBatch(data) {
			refErr = json.Unmarshal(data, &want)
			if refErr == nil && len(want) > MaxBatchMessages {
				refErr = errors.New("too many")
			}
		} else {
			var a ProducerAck
			refErr = json.Unmarshal(data, &a)
			want = []ProducerAck{a}
		}
		got, err := DecodeProducerAcks(data)
		switch {
		case refErr == nil && err != nil:
			t.Fatalf("%q: refused (%v), encoding/json accepts", data, err)
		case refErr != nil && err == nil:
			t.Fatalf("%q: accepted %+v, encoding/json refuses: %v", data, got, refErr)
		case err == nil && !slices.Equal(got, want):
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, got, want)
		case err != nil && !errors.Is(err, ErrBadFrame):
			t.Fatalf("%q: error %v", data, err)
		}
	})
}

// oldPush is how the Go client decoded a pushed message before: with
// encoding/json, then the id, the payload and the times.
func oldPush(data []byte) (ConsumerMessage, []byte, error) {
	var f ConsumerMessage
	if err := json.Unmarshal(data, &f); err != nil {
		return f, nil, err
	}
	if _, err := ParseMessageID(f.MessageID); err != nil {
		return f, nil, err
	}
	p, err := base64.StdEncoding.DecodeString(f.Payload)
	if err != nil {
		return f, nil, err
	}
	for _, ts := range []string{f.PublishTime, f.EventTime} {
		if ts != "" {
			if _, err := ParseTime(ts); err != nil {
				return f, nil, err
			}
		}
	}
	return f, p, nil
}

func FuzzPushLikeEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantPayload, refErr := oldPush(data)
		got, err := DecodeConsumerMessage(data)
		switch {
		case refErr == nil && err != nil:
			t.Fatalf("%q: refused (%v), the old decoder accepts", data, err)
		case refErr != nil && err == nil && !hasControl(data):
			t.Fatalf("%q: accepted %+v, the old decoder refuses: %v", data, got, refErr)
		case err != nil && !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrBadMessageID):
			t.Fatalf("%q: error %v", data, err)
		case err != nil || refErr != nil:
			return
		}
		if got.RawID != want.MessageID || !bytes.Equal(got.Payload, wantPayload) || !sameStrings(got.Properties, want.Properties) ||
			got.RedeliveryCount != want.RedeliveryCount || got.Key != want.Key || got.Topic != want.Topic ||
			got.HasPublishTime != (want.PublishTime != "") || got.HasEventTime != (want.EventTime != "") {
			t.Fatalf("%q: decoded %+v, old %+v", data, got, want)
		}
		if got.HasPublishTime {
			if ms, _ := ParseTime(want.PublishTime); ms != got.PublishTime {
				t.Fatalf("%q: publishTime %d, want %d", data, got.PublishTime, ms)
			}
		}
	})
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("q\"b\\n\n\r\t\x01\u2028\u2029\xff<&>é😀")
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q rendered %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte; so does AppendJSONString.
			ref, _ := json.Marshal(s)
			_ = json.Unmarshal(ref, &want)
		}
		if back != want {
			t.Fatalf("%q rendered %s read back %q, want %q", s, b, back, want)
		}
		sc := scanner{data: b}
		got, _, err := sc.str("s")
		if err != nil || got != want {
			t.Fatalf("%q: scanner read %q, %v", b, got, err)
		}
	})
}

func FuzzTimes(f *testing.F) {
	f.Add(int64(1700000000123), "2024-01-02T03:04:05.678Z")
	f.Add(int64(-1), "2024-02-30T03:04:05.678Z")
	f.Add(int64(253402300800000), "1700000000000")
	f.Fuzz(func(t *testing.T, ms int64, s string) {
		if ms > -62135596800000 && ms < 253402300800000 { // years 1..9999
			want := time.UnixMilli(ms).UTC().Format(timeLayout)
			if got := FormatTime(ms); got != want {
				t.Fatalf("FormatTime(%d) = %s, want %s", ms, got, want)
			}
			if back, err := parseTimeBytes([]byte(FormatTime(ms))); err != nil || back != ms {
				t.Fatalf("%d round trip: %d %v", ms, back, err)
			}
		}
		want, wantErr := ParseTime(s)
		got, err := parseTimeBytes([]byte(s))
		if (err == nil) != (wantErr == nil) || got != want {
			t.Fatalf("parseTimeBytes(%q) = %d, %v; ParseTime: %d, %v", s, got, err, want, wantErr)
		}
	})
}

func TestScannerDepthLimit(t *testing.T) {
	deep := `{"x":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `,"payload":"YQ=="}`
	if _, err := DecodeProducerMessage([]byte(deep), 10); err == nil {
		t.Fatal("nesting past the limit accepted")
	}
	ok := `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"payload":"YQ=="}`
	if d, err := DecodeProducerMessage([]byte(ok), 10); err != nil || string(d.Payload) != "a" {
		t.Fatalf("nesting of 100: %v", err)
	}
}

func TestPayloadControlCharacters(t *testing.T) {
	for _, in := range []string{"{\"payload\":\"aGk=\n\"}", "{\"payload\":\"aG\rk=\"}", "{\"payload\":\"a\x01Gk=\"}"} {
		if _, err := DecodeProducerMessage([]byte(in), 10); err == nil {
			t.Errorf("%q accepted", in)
		}
		if _, err := DecodeConsumerMessage([]byte(strings.Replace(in, "{", `{"messageId":"CAAQBRj///////////8B",`, 1))); err == nil {
			t.Errorf("pushed %q accepted", in)
		}
	}
	// Escaped line breaks are accepted, as encoding/json and base64 did.
	if d, err := DecodeProducerMessage([]byte(`{"payload":"aGk=\n"}`), 10); err != nil || string(d.Payload) != "hi" {
		t.Fatalf("escaped line break: %q %v", d.Payload, err)
	}
}

func TestAppendTimeLikeFormat(t *testing.T) {
	for _, ms := range []int64{0, -1, 1, 999, 1700000000123, -62135596800000, 253402300799999, 253402300800000, -62135596800001} {
		if got, want := FormatTime(ms), time.UnixMilli(ms).UTC().Format(timeLayout); got != want {
			t.Errorf("FormatTime(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestMessageIDAppend(t *testing.T) {
	id := MessageID{Stream: 2, Offset: 1 << 33, Partition: -1}
	if got := string(id.AppendEncoded([]byte("x"))); got != "x"+id.Encode() {
		t.Fatalf("AppendEncoded = %s", got)
	}
}

func FuzzEncodeBase64(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("hello, world"))
	f.Add(bytes.Repeat([]byte{0xff, 0, 0x80}, 100))
	f.Fuzz(func(t *testing.T, src []byte) {
		got := AppendJSONBase64([]byte("x"), src)
		if want := `x"` + base64.StdEncoding.EncodeToString(src) + `"`; string(got) != want {
			t.Fatalf("%x: %s, want %s", src, got, want)
		}
	})
}

func BenchmarkAppendJSONBase64(b *testing.B) {
	src := bytes.Repeat([]byte{1, 2, 3, 0xfe}, 256)
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(src)))
	for range b.N {
		buf = AppendJSONBase64(buf[:0], src)
	}
}
