package wsbin

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

func TestPublishRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		msgs []Publish
	}{
		{"bare payload", []Publish{{Payload: []byte("hello"), SequenceID: -1}}},
		{"empty payload", []Publish{{Payload: []byte{}, SequenceID: -1}}},
		{"every field", []Publish{{Key: "k", Properties: map[string]string{"b": "2", "a": "1"}, Payload: []byte{0, 1, 2},
			SequenceID: 1 << 40, EventTime: 1700000000000}}},
		{"negative event time", []Publish{{Payload: []byte("x"), SequenceID: 0, EventTime: -5}}},
		{"many", func() []Publish {
			out := make([]Publish, 100)
			for i := range out {
				out[i] = Publish{Payload: bytes.Repeat([]byte{byte(i)}, i), SequenceID: int64(i), Key: strings.Repeat("k", i%3)}
			}
			return out
		}()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := AppendPublish(nil, 42, c.msgs)
			f, err := DecodePublish(frame, PublishLimits{MaxPayloadBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if f.Context != 42 || len(f.Messages) != len(c.msgs) {
				t.Fatalf("context %d, %d messages", f.Context, len(f.Messages))
			}
			for i, m := range f.Messages {
				if f.Errs[i] != nil {
					t.Fatalf("message %d refused: %v", i, f.Errs[i])
				}
				if !reflect.DeepEqual(m, c.msgs[i]) {
					t.Fatalf("message %d: got %+v, want %+v", i, m, c.msgs[i])
				}
			}
		})
	}
}

func TestDecodePublishLimits(t *testing.T) {
	many := map[string]string{}
	for i := range MaxPropertiesPerMessage + 1 {
		many[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = ""
	}
	frame := AppendPublish(nil, 7, []Publish{
		{Payload: make([]byte, 11), SequenceID: -1},                                      // over the payload limit
		{Payload: []byte("ok"), SequenceID: 3},                                           // fine
		{Key: strings.Repeat("k", MaxMetaBytes+1), Payload: []byte("x"), SequenceID: -1}, // key too large
		{Properties: map[string]string{"p": strings.Repeat("v", MaxMetaBytes)}, Payload: []byte("x"), SequenceID: -1},
		{Properties: many, Payload: []byte("x"), SequenceID: -1},
	})
	f, err := DecodePublish(frame, PublishLimits{MaxPayloadBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true, true, true} {
		var pe *wsproto.PublishError
		refused := errors.As(f.Errs[i], &pe)
		if refused != want || (refused && pe.Code != wsproto.ErrCodePayloadTooLarge) {
			t.Errorf("message %d: err %v, want refused=%v with code 9", i, f.Errs[i], want)
		}
	}
	if string(f.Messages[1].Payload) != "ok" || f.Messages[1].SequenceID != 3 {
		t.Fatalf("valid message: %+v", f.Messages[1])
	}
}

func TestDecodePublishRefusesFrame(t *testing.T) {
	one := []Publish{{Payload: []byte("x"), SequenceID: -1}}
	good := AppendPublish(nil, 9, one)
	props := map[string]string{}
	for i := range 1000 {
		props[strings.Repeat("p", i%50)+string(rune('A'+i/50))] = ""
	}
	overBudget := make([]Publish, 70)
	for i := range overBudget {
		overBudget[i] = Publish{Properties: props, SequenceID: -1}
	}
	cases := []struct {
		name    string
		frame   []byte
		maxMsgs int
		want    error
		context uint64
	}{
		{"empty", nil, 0, ErrMalformed, 0},
		{"wrong type", AppendPermit(nil, 1), 0, ErrMalformed, 0},
		{"no count", good[:2], 0, ErrMalformed, 9},
		{"zero messages", AppendPublishHeader(nil, 9, 0), 0, ErrMalformed, 9},
		{"count past the frame", AppendPublishHeader(nil, 9, 5), 0, ErrMalformed, 9},
		{"truncated payload", good[:len(good)-1], 0, ErrMalformed, 9},
		{"trailing byte", append(append([]byte{}, good...), 0), 0, ErrMalformed, 9},
		{"unknown flag", AppendPublishMessage(AppendPublishHeader(nil, 9, 1), &one[0])[:3:3], 0, ErrMalformed, 9},
		{"over the batch limit", AppendPublish(nil, 9, []Publish{one[0], one[0], one[0]}), 2, ErrMalformed, 9},
		{"sequence id past int64", append(AppendPublishHeader(nil, 9, 1), pubSequenceID, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0), 0, ErrMalformed, 9},
		{"too many properties in the frame", AppendPublish(nil, 9, overBudget), 0, ErrTooLarge, 9},
	}
	cases[7].frame = append(cases[7].frame[:2:2], 1, 0x80, 0) // count 1, flags 0x80, empty payload
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := DecodePublish(c.frame, PublishLimits{MaxPayloadBytes: 100, MaxMessages: c.maxMsgs})
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if f.Context != c.context || f.Messages != nil {
				t.Fatalf("refused frame returned context %d and %d messages", f.Context, len(f.Messages))
			}
		})
	}
}

func TestPublishAckForms(t *testing.T) {
	cases := []struct {
		name    string
		results []PublishResult
		compact bool
	}{
		{"all stored", []PublishResult{{Offset: 10}, {Offset: 11}, {Offset: 12}}, true},
		{"one stored", []PublishResult{{Offset: 0}}, true},
		{"gap", []PublishResult{{Offset: 10}, {Offset: 12}}, false},
		{"mixed", []PublishResult{
			{Status: Stored, Offset: 5},
			{Status: Duplicate, Offset: 1},
			{Status: DuplicateForgotten},
			{Status: Refused, Code: wsproto.ErrCodePayloadTooLarge, Error: "too big"},
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frame := AppendPublishAck(nil, 77, c.results)
			if compact := frame[2] == ackAllStored; compact != c.compact {
				t.Fatalf("compact form %v, want %v", compact, c.compact)
			}
			a, err := DecodePublishAck(frame)
			if err != nil {
				t.Fatal(err)
			}
			if a.Context != 77 || a.Count != len(c.results) || a.Refusal != nil {
				t.Fatalf("ack %+v", a)
			}
			for i, want := range c.results {
				if got := a.Result(i); got != want {
					t.Fatalf("result %d: %+v, want %+v", i, got, want)
				}
			}
		})
	}
	a, err := DecodePublishAck(AppendPublishRefusal(nil, 3, wsproto.ErrCodeDeserialize, strings.Repeat("e", 2*MaxErrorBytes)))
	if err != nil || a.Refusal == nil || a.Refusal.Code != wsproto.ErrCodeDeserialize || len(a.Refusal.Msg) != MaxErrorBytes || a.Count != 0 || a.Context != 3 {
		t.Fatalf("refusal: %+v, %v", a, err)
	}
}

func TestDecodePublishAckRejects(t *testing.T) {
	for name, frame := range map[string][]byte{
		"empty":             {},
		"no form":           {byte(TypePublishAck), 1},
		"unknown form":      {byte(TypePublishAck), 1, 9},
		"zero count":        {byte(TypePublishAck), 1, ackAllStored, 0, 0},
		"offset overflow":   {byte(TypePublishAck), 1, ackAllStored, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"unknown status":    {byte(TypePublishAck), 1, ackEach, 1, 7},
		"count past frame":  {byte(TypePublishAck), 1, ackEach, 3, 2},
		"trailing":          append(AppendPublishAck(nil, 1, []PublishResult{{}}), 0),
		"huge error text":   AppendPublishRefusal(nil, 1, 3, "")[:4:4],
		"truncated refusal": AppendPublishRefusal(nil, 1, 3, "boom")[:6],
	} {
		if name == "huge error text" {
			frame = append(frame, 0x81, 0x40) // length 8193
			frame = append(frame, make([]byte, 8193)...)
		}
		if _, err := DecodePublishAck(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	msgs := []Message{
		{ID: wsproto.MessageID{Offset: 0, Partition: -1}, PublishTime: 1700000000000, Payload: []byte{}},
		{ID: wsproto.MessageID{Stream: 3, Offset: 1 << 50, Partition: -1}, PublishTime: 1, EventTime: -2, RedeliveryCount: 4,
			Key: "key", Properties: map[string]string{"x": "y", "": ""}, Payload: []byte("payload")},
	}
	frame := AppendMessages(nil, msgs)
	got, err := DecodeMessages(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, msgs) {
		t.Fatalf("got %+v, want %+v", got, msgs)
	}
	for i := range msgs {
		if n := MessageBytes(&msgs[i]); n < len(AppendMessage(nil, &msgs[i])) {
			t.Fatalf("MessageBytes %d under the encoded size", n)
		}
	}
}

func TestDecodeMessagesRejects(t *testing.T) {
	one := AppendMessages(nil, []Message{{Payload: []byte("p")}})
	props := map[string]string{}
	for i := range 40000 {
		props[string(rune(0x100+i))] = ""
	}
	big := []Message{{Properties: props}, {Properties: props}}
	for name, c := range map[string]struct {
		frame []byte
		want  error
	}{
		"empty":                {nil, ErrMalformed},
		"zero count":           {AppendMessagesHeader(nil, 0), ErrMalformed},
		"over the count":       {AppendMessagesHeader(nil, MaxMessagesPerFrame+1), ErrMalformed},
		"count past frame":     {append(AppendMessagesHeader(nil, 2), one[2:]...), ErrMalformed},
		"unknown flags":        {[]byte{byte(TypeMessages), 1, 0x40, 0, 0, 0, 0}, ErrMalformed},
		"trailing":             {append(append([]byte{}, one...), 1), ErrMalformed},
		"truncated":            {one[:len(one)-1], ErrMalformed},
		"properties per frame": {AppendMessages(nil, big), ErrTooLarge},
	} {
		if _, err := DecodeMessages(c.frame); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", name, err, c.want)
		}
	}
	// A single message may carry more properties than a frame's budget.
	if _, err := DecodeMessages(AppendMessages(nil, []Message{{Properties: props}})); err != nil {
		t.Fatalf("single message with %d properties: %v", len(props), err)
	}
}

func TestAcksRoundTrip(t *testing.T) {
	acks := []Ack{
		{Kind: AckIndividual, ID: wsproto.MessageID{Offset: 100, Partition: -1}},
		{Kind: AckIndividual, ID: wsproto.MessageID{Offset: 101, Partition: -1}},
		{Kind: Nack, ID: wsproto.MessageID{Offset: 3, Partition: -1}},
		{Kind: AckCumulative, ID: wsproto.MessageID{Stream: 7, Offset: 1<<64 - 1, Partition: -1}},
		{Kind: AckIndividual, ID: wsproto.MessageID{Offset: 0, Partition: -1}},
	}
	frame := AppendAcks(nil, acks)
	got, err := DecodeAcks(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, acks) {
		t.Fatalf("got %+v, want %+v", got, acks)
	}
	if n := len(AppendAcks(nil, acks[:2])) - len(AppendAcks(nil, acks[:1])); n != 3 {
		t.Fatalf("the ack of the next offset takes %d bytes, want 3", n)
	}
	for name, frame := range map[string][]byte{
		"empty":        {},
		"zero":         {byte(TypeAcks), 0},
		"unknown kind": {byte(TypeAcks), 1, 3, 0, 0},
		"truncated":    frame[:len(frame)-1],
		"trailing":     append(append([]byte{}, frame...), 0),
		"too many":     AppendAcks(nil, make([]Ack, MaxAcksPerFrame+1)),
	} {
		if _, err := DecodeAcks(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestPermitAndError(t *testing.T) {
	for _, n := range []int{1, 1000, MaxPermitsPerFrame} {
		if got, err := DecodePermit(AppendPermit(nil, n)); err != nil || got != n {
			t.Fatalf("permit %d: %d, %v", n, got, err)
		}
	}
	for _, n := range []int{0, MaxPermitsPerFrame + 1} {
		if _, err := DecodePermit(AppendPermit(nil, n)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("permit %d accepted", n)
		}
	}
	id := wsproto.MessageID{Stream: 1, Offset: 9, Partition: -1}
	for _, c := range []ErrorFrame{{Error: "no id"}, {HasID: true, ID: id, Error: "unknown message"}} {
		var p *wsproto.MessageID
		if c.HasID {
			p = &c.ID
		}
		got, err := DecodeError(AppendError(nil, p, c.Error))
		if err != nil || got != c {
			t.Fatalf("error frame %+v: %+v, %v", c, got, err)
		}
	}
	if _, err := DecodeError([]byte{byte(TypeError), 2, 0}); !errors.Is(err, ErrMalformed) {
		t.Fatal("bad id flag accepted")
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct {
		frame []byte
		want  Type
		ok    bool
	}{
		{AppendPermit(nil, 1), TypePermit, true},
		{AppendPublishHeader(nil, 0, 1), TypePublish, true},
		{nil, 0, false},
		{[]byte{0}, 0, false},
		{[]byte{7}, 0, false},
		{[]byte("{")[:1], 0, false},
	} {
		got, err := TypeOf(c.frame)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("TypeOf(%x) = %v, %v", c.frame, got, err)
		}
	}
}
