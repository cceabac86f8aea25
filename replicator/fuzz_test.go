package replicator

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// batchBody returns the body (between header and trailer) of an encoded
// batch, the part the fuzzers mutate under a valid seal.
func batchBody(t testing.TB, c *Codec, b Batch) []byte {
	w, err := c.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return w[headerBytes : len(w)-trailerBytes]
}

func ackBody(t testing.TB, c *Codec, a Ack) []byte {
	w, err := c.AppendAck(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	return w[headerBytes : len(w)-trailerBytes]
}

func FuzzDecodeBatch(f *testing.F) {
	c := testCodec(f)
	if err := c.SetMembership([]string{"us", "eu", "ap", "sa", "af"}); err != nil {
		f.Fatal(err)
	}
	compact := sampleBatch()
	compact.Membership = MembershipDigest([]string{"us", "eu", "ap", "sa", "af"})
	f.Add(batchBody(f, c, compact), true)
	good, err := c.AppendBatch(nil, sampleBatch())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, false)
	f.Add(batchBody(f, c, sampleBatch()), true)
	basedSample := sampleBatch()
	basedSample.Based = true
	f.Add(batchBody(f, c, basedSample), true)
	f.Add([]byte{}, false)
	f.Add([]byte{WireVersion, byte(KindBatch)}, false)
	f.Add(body(func(d []byte) []byte { return appendUvarints(d, 1, 1<<40, 0) }), true)
	f.Fuzz(func(t *testing.T, data []byte, sealed bool) {
		msg := data
		if sealed {
			msg = seal(t, c, KindBatch, data)
		}
		b, err := c.DecodeBatch(msg)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnauthenticated) &&
				!errors.Is(err, ErrVersion) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMembershipMismatch) {
				t.Fatalf("error outside the sentinels: %v", err)
			}
			return
		}
		if !sealed && !reflect.DeepEqual(data, good) {
			t.Fatalf("unsealed garbage decoded: %x", data)
		}
		// A decoded batch re-encodes to an equivalent batch.
		w, err := c.AppendBatch(nil, b)
		if err != nil {
			t.Fatalf("decoded batch does not re-encode: %v\n%+v", err, b)
		}
		b2, err := c.DecodeBatch(w)
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, b, b2)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	c := testCodec(f)
	members := []string{"a", "b", "c"}
	if err := c.SetMembership(members); err != nil {
		f.Fatal(err)
	}
	f.Add(ackBody(f, c, Ack{From: "b", To: "a", Membership: MembershipDigest(members), Compact: true,
		Delivered: []Entry{{"a", 1}, {"c", 9}}}))
	f.Add(ackBody(f, c, Ack{From: "b", To: "a", Full: true, Delivered: []Entry{{"a", 1}, {"c", 9}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := c.DecodeAck(seal(t, c, KindAck, data))
		if err != nil {
			return
		}
		w, err := c.AppendAck(nil, a)
		if err != nil {
			t.Fatalf("decoded ack does not re-encode: %v", err)
		}
		if a2, err := c.DecodeAck(w); err != nil || !reflect.DeepEqual(a, a2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(AppendMeta(nil, Delivery{Seq: 1, HLC: Timestamp{5, 1}, Keyframe: true, Deps: []Entry{{"a", 3}}}))
	f.Add([]byte{metaVersion, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMeta(data)
		if err != nil {
			return
		}
		again, err := DecodeMeta(AppendMeta(nil, Delivery{HLC: m.HLC, Keyframe: m.Keyframe, Deps: m.Deps}))
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzEngine feeds an engine ("a" among a, b, c) with up to three decoded,
// authenticated messages (batches or acks, as the first byte says) and
// checks its invariants after each: a refused input changes nothing;
// deliveries are per-origin FIFO, never repeated, causally ordered
// (dependencies rebuilt from the delivery metadata are all delivered
// before), and the buffer stays within bounds.
func FuzzEngine(f *testing.F) {
	c := testCodec(f)
	b1 := batchBody(f, c, Batch{From: "b", To: "a", Origin: "b", Ops: []Op{
		{Seq: 1, Deps: []Entry{{"c", 1}}, Body: []byte("x")}, {Seq: 2, Deps: []Entry{{"c", 2}}}}})
	c1 := batchBody(f, c, Batch{From: "c", To: "a", Origin: "c", Ops: []Op{{Seq: 1}, {Seq: 2, Deps: []Entry{{"b", 1}}}}})
	relay := batchBody(f, c, Batch{From: "b", To: "a", Origin: "c", Ops: []Op{{Seq: 1}}})
	ack := ackBody(f, c, Ack{From: "b", To: "a", Delivered: []Entry{{"b", 2}, {"c", 1}}})
	f.Add(append([]byte{0}, b1...), append([]byte{0}, c1...), append([]byte{1}, ack...))
	f.Add(append([]byte{0}, c1...), append([]byte{0}, relay...), append([]byte{0}, b1...))
	based := batchBody(f, c, Batch{From: "c", To: "a", Origin: "c", Based: true, Ops: []Op{{Seq: 3, Deps: []Entry{{"b", 2}}}}})
	f.Add(append([]byte{0}, b1...), append([]byte{0}, c1...), append([]byte{0}, based...))
	f.Fuzz(func(t *testing.T, m1, m2, m3 []byte) {
		cfg := testConfig()
		cfg.Self, cfg.Regions = "a", []string{"a", "b", "c"}
		cfg.MaxBufferedOps = 8
		cfg.MaxAheadOps = 64
		e, err := New(cfg, Restore{})
		if err != nil {
			t.Fatal(err)
		}
		e.Publish(t0, nil)
		delivered := Vector{}
		lastDeps := map[string]Vector{}
		check := func() {
			for _, d := range e.Ready().Deliveries {
				if d.Seq != delivered[d.Origin]+1 {
					t.Fatalf("delivered %s after %d", d.Dot(), delivered[d.Origin])
				}
				deps := Apply(nil, d.Deps)
				if !d.Keyframe {
					base, ok := lastDeps[d.Origin]
					if !ok {
						t.Fatalf("%s: delta without keyframe", d.Dot())
					}
					deps = Apply(base.Clone(), d.Deps)
				}
				delete(deps, d.Origin)
				if !deps.LessEq(delivered) {
					t.Fatalf("%s delivered before its deps %v (have %v)", d.Dot(), deps, delivered)
				}
				lastDeps[d.Origin] = deps
				delivered[d.Origin] = d.Seq
			}
			if !e.Delivered().Equal(delivered) {
				t.Fatalf("engine says %v, deliveries say %v", e.Delivered(), delivered)
			}
			if m := e.Metrics(); m.BufferedOps > cfg.MaxBufferedOps || m.BufferedOps < 0 {
				t.Fatalf("buffer %d ops", m.BufferedOps)
			}
		}
		check()
		now := t0
		for _, m := range [][]byte{m1, m2, m3} {
			if len(m) == 0 {
				continue
			}
			now = now.Add(time.Second)
			before := e.Delivered()
			var err error
			if m[0]%2 == 0 {
				var b Batch
				if b, err = c.DecodeBatch(seal(t, c, KindBatch, m[1:])); err != nil {
					continue
				}
				err = e.ReceiveBatch(now, b)
			} else {
				var a Ack
				if a, err = c.DecodeAck(seal(t, c, KindAck, m[1:])); err != nil {
					continue
				}
				err = e.ReceiveAck(now, a)
			}
			if err != nil {
				if out := e.Ready(); !out.IsEmpty() || !e.Delivered().Equal(before) {
					t.Fatalf("refused input (%v) changed state: %+v", err, out)
				}
			}
			check()
			e.Tick(now)
			e.Ready()
			_ = e.Stable()
			_ = e.Lag(now)
		}
	})
}
