package clients

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

// frameMessages decodes a publish frame (one object or a batch array).
func frameMessages(t testing.TB, frame []byte) []wsproto.ProducerMessage {
	t.Helper()
	if wsproto.IsBatch(frame) {
		var ms []wsproto.ProducerMessage
		if err := json.Unmarshal(frame, &ms); err != nil {
			t.Fatalf("batch frame %s: %v", frame, err)
		}
		return ms
	}
	var m wsproto.ProducerMessage
	if err := json.Unmarshal(frame, &m); err != nil {
		t.Fatalf("frame %s: %v", frame, err)
	}
	return []wsproto.ProducerMessage{m}
}

func okAck(ctx string, offset uint64) wsproto.ProducerAck {
	return wsproto.ProducerAck{Result: "ok", MessageID: wsproto.MessageID{Offset: offset, Partition: -1}.Encode(), Context: ctx}
}

// recorder collects completions in callback order.
type recorder struct{ got []string }

func (r *recorder) cb(name string) func(wsproto.MessageID, error) {
	return func(id wsproto.MessageID, err error) {
		if err != nil {
			r.got = append(r.got, name+":err")
			return
		}
		r.got = append(r.got, fmt.Sprintf("%s:%d", name, id.Offset))
	}
}

func run(cs []completion) {
	for _, c := range cs {
		c.done(c.id, c.err)
	}
}

func TestOutboxNumbering(t *testing.T) {
	o := newOutbox(41, 10)
	seven := int64(7)
	hundred := int64(100)
	for _, m := range []ProducerMessage{{}, {SequenceID: &seven}, {}, {SequenceID: &hundred}, {}} {
		if err := o.add(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	for _, m := range frameMessages(t, o.take(10, 1<<20)) {
		seqs = append(seqs, *m.SequenceID)
		if m.Context != strconv.FormatInt(*m.SequenceID, 10) {
			t.Errorf("context %q for sequence id %d", m.Context, *m.SequenceID)
		}
	}
	if fmt.Sprint(seqs) != "[42 7 43 100 101]" {
		t.Fatalf("sequence ids %v", seqs)
	}
}

func TestOutboxTakeBounds(t *testing.T) {
	o := newOutbox(0, 100)
	for i := range 5 {
		if err := o.add(ProducerMessage{Payload: []byte{byte(i)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	single := len(o.queued[0].frame)
	if got := frameMessages(t, o.take(2, 1<<20)); len(got) != 2 {
		t.Fatalf("maxMessages 2: took %d", len(got))
	}
	// Room for exactly two frames: '[' + f + ',' + f + ']'.
	f := o.take(10, 2*single+3)
	if got := frameMessages(t, f); len(got) != 2 || len(f) != 2*single+3 {
		t.Fatalf("maxBytes: took %d messages in %d bytes", len(got), len(f))
	}
	// A message larger than maxBytes goes alone, as a plain object.
	f = o.take(10, 1)
	if wsproto.IsBatch(f) || len(frameMessages(t, f)) != 1 {
		t.Fatalf("oversize message: frame %s", f)
	}
	if o.take(10, 1<<20) != nil || o.queuedBytes != 0 || o.inflightN != 5 || len(o.inflight) != 3 {
		t.Fatalf("state after taking all: queuedBytes %d inflight %d/%d", o.queuedBytes, o.inflightN, len(o.inflight))
	}
}

func TestOutboxResume(t *testing.T) {
	cases := []struct {
		initial, server, wantNext int64
	}{
		{0, -1, 1},
		{0, 500, 501},
		{41, 7, 42},
		{41, 41, 42},
	}
	for _, c := range cases {
		o := newOutbox(c.initial, 10)
		o.resume(c.server)
		_ = o.add(ProducerMessage{}, nil)
		if got := o.queued[0].seq; got != c.wantNext || o.lastAcked != max(c.initial, c.server) {
			t.Errorf("initial %d, server %d: first sequence id %d, lastAcked %d", c.initial, c.server, got, o.lastAcked)
		}
	}
}

func TestOutboxFull(t *testing.T) {
	o := newOutbox(0, 2)
	_ = o.add(ProducerMessage{}, nil)
	o.take(1, 1<<20)
	_ = o.add(ProducerMessage{}, nil)
	if !o.full() {
		t.Fatal("2 of 2 pending, not full")
	}
	if err := o.add(ProducerMessage{}, nil); !errors.Is(err, errOutboxFull) {
		t.Fatalf("add when full: %v", err)
	}
	if _, err := o.acked([]wsproto.ProducerAck{okAck("1", 1)}); err != nil || o.full() {
		t.Fatalf("after ack: %v full=%v", err, o.full())
	}
}

func TestOutboxAcked(t *testing.T) {
	cases := []struct {
		name    string
		acks    []wsproto.ProducerAck
		want    string // callbacks, or "" when the frame is a protocol error
		lastAck int64
	}{
		{"all ok", []wsproto.ProducerAck{okAck("1", 10), okAck("2", 11), okAck("3", 12)}, "[a:10 b:11 c:12]", 3},
		{"no contexts", []wsproto.ProducerAck{okAck("", 10), okAck("", 11), okAck("", 12)}, "[a:10 b:11 c:12]", 3},
		{"one failed", []wsproto.ProducerAck{okAck("1", 10), wsproto.SendError(9, "too big", "2"), okAck("3", 12)}, "[a:10 b:err c:12]", 3},
		{"whole batch failed", []wsproto.ProducerAck{wsproto.SendError(3, "invalid JSON batch", "")}, "[a:err b:err c:err]", 0},
		{"duplicate without id", []wsproto.ProducerAck{okAck("1", 10), {Result: "ok", Context: "2", ErrorMsg: "duplicate of a message stored earlier"}, okAck("3", 12)}, "[a:10 b:0 c:12]", 3},
		{"bad id", []wsproto.ProducerAck{okAck("1", 10), {Result: "ok", MessageID: "!!", Context: "2"}, okAck("3", 12)}, "[a:10 b:err c:12]", 3},
		{"too few", []wsproto.ProducerAck{okAck("1", 10), okAck("2", 11)}, "", 0},
		{"single ok for batch", []wsproto.ProducerAck{okAck("1", 10)}, "", 0},
		{"wrong context", []wsproto.ProducerAck{okAck("1", 10), okAck("3", 11), okAck("2", 12)}, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOutbox(0, 10)
			var r recorder
			for _, n := range []string{"a", "b", "c"} {
				_ = o.add(ProducerMessage{}, r.cb(n))
			}
			o.take(10, 1<<20)
			cs, err := o.acked(c.acks)
			if c.want == "" {
				if !errors.Is(err, ErrProtocol) || o.inflightN != 3 || len(o.inflight) != 1 {
					t.Fatalf("err %v, inflight %d: want ErrProtocol and nothing changed", err, o.inflightN)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			run(cs)
			if fmt.Sprint(r.got) != c.want || o.lastAcked != c.lastAck || o.pending() != 0 {
				t.Fatalf("got %v lastAcked %d pending %d, want %s %d", r.got, o.lastAcked, o.pending(), c.want, c.lastAck)
			}
		})
	}
}

func TestOutboxSendErrorCode(t *testing.T) {
	o := newOutbox(0, 10)
	var got error
	_ = o.add(ProducerMessage{}, func(_ wsproto.MessageID, err error) { got = err })
	o.take(10, 1<<20)
	cs, err := o.acked([]wsproto.ProducerAck{wsproto.SendError(wsproto.ErrCodePayloadTooLarge, "payload too large", "1")})
	if err != nil {
		t.Fatal(err)
	}
	run(cs)
	var se *SendError
	if !errors.As(got, &se) || se.Code != wsproto.ErrCodePayloadTooLarge || se.Msg != "payload too large" {
		t.Fatalf("got %v", got)
	}
}

func TestOutboxAckWithNothingInFlight(t *testing.T) {
	o := newOutbox(0, 10)
	_ = o.add(ProducerMessage{}, nil)
	if _, err := o.acked([]wsproto.ProducerAck{okAck("1", 1)}); !errors.Is(err, ErrProtocol) || len(o.queued) != 1 {
		t.Fatalf("ack of an unsent message: %v", err)
	}
}

func TestOutboxRequeueKeepsFramesAndOrder(t *testing.T) {
	o := newOutbox(0, 10)
	var r recorder
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		_ = o.add(ProducerMessage{Payload: []byte(n)}, r.cb(n))
	}
	first := o.take(2, 1<<20)
	second := o.take(2, 1<<20)
	cs, _ := o.acked([]wsproto.ProducerAck{okAck("1", 1), okAck("2", 2)})
	run(cs)
	o.requeue()
	if len(o.queued) != 3 || o.inflightN != 0 {
		t.Fatalf("after requeue: %d queued, %d in flight", len(o.queued), o.inflightN)
	}
	if again := o.take(2, 1<<20); string(again) != string(second) {
		t.Fatalf("resent frame %s, first sent as %s (first frame %s)", again, second, first)
	}
	run(o.failAll(ErrClosed))
	if fmt.Sprint(r.got) != "[a:1 b:2 c:err d:err e:err]" || o.pending() != 0 || o.queuedBytes != 0 {
		t.Fatalf("got %v pending %d", r.got, o.pending())
	}
}

// TestOutboxProperty drives random adds, takes, acks and dropped
// connections, and checks that every message completes exactly once, in
// send order, and that resent messages keep their sequence ids.
func TestOutboxProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := range 200 {
		o := newOutbox(int64(rng.IntN(100)), 1+rng.IntN(20))
		var completed []int
		seqOf := map[int]int64{} // message number -> sequence id first sent with
		var wire [][]byte        // frames written on the current connection, unacked
		next := 0
		for range 300 {
			switch rng.IntN(5) {
			case 0, 1:
				if o.full() {
					continue
				}
				n := next
				next++
				_ = o.add(ProducerMessage{Payload: []byte(strconv.Itoa(n))}, func(_ wsproto.MessageID, err error) {
					if err != nil {
						t.Fatalf("seed %d round %d: message %d failed: %v", seed, round, n, err)
					}
					completed = append(completed, n)
				})
			case 2:
				if f := o.take(1+rng.IntN(5), 1+rng.IntN(200)); f != nil {
					for _, m := range frameMessages(t, f) {
						n, _ := strconv.Atoi(string(mustB64(t, m.Payload)))
						if s, ok := seqOf[n]; ok && s != *m.SequenceID {
							t.Fatalf("seed %d round %d: message %d resent with sequence id %d, first %d", seed, round, n, *m.SequenceID, s)
						}
						seqOf[n] = *m.SequenceID
					}
					wire = append(wire, f)
				}
			case 3:
				if len(wire) == 0 {
					continue
				}
				var acks []wsproto.ProducerAck
				for _, m := range frameMessages(t, wire[0]) {
					acks = append(acks, okAck(m.Context, uint64(*m.SequenceID)))
				}
				wire = wire[1:]
				cs, err := o.acked(acks)
				if err != nil {
					t.Fatalf("seed %d round %d: %v", seed, round, err)
				}
				run(cs)
			case 4: // the connection drops
				wire = nil
				o.requeue()
			}
		}
		for i, n := range completed {
			if n != i {
				t.Fatalf("seed %d round %d: completion %d is message %d", seed, round, i, n)
			}
		}
		if len(completed)+o.pending() != next {
			t.Fatalf("seed %d round %d: %d completed + %d pending != %d sent", seed, round, len(completed), o.pending(), next)
		}
	}
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("payload %q: %v", s, err)
	}
	return b
}
