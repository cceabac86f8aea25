package replicator

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

func testConfig() Config {
	return Config{
		RetransmitTimeout:    100 * time.Millisecond,
		MaxRetransmitTimeout: 400 * time.Millisecond,
		RelayDelay:           300 * time.Millisecond,
		AckInterval:          time.Millisecond,
		FullAckInterval:      time.Second,
		// A fresh engine here is a new region; join_test.go tests joining.
		JoinTimeout: -1,
	}
}

func newTestEngine(t testing.TB, self string, regions ...string) *Engine {
	t.Helper()
	cfg := testConfig()
	cfg.Self, cfg.Regions = self, regions
	e, err := New(cfg, Restore{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"self missing", func(c *Config) { c.Self = "zz" }},
		{"empty self", func(c *Config) { c.Self = "" }},
		{"duplicate region", func(c *Config) { c.Regions = []string{"a", "a"} }},
		{"batch too big", func(c *Config) { c.MaxBatchOps = MaxBatchOps + 1 }},
		{"window below batch", func(c *Config) { c.MaxBatchOps = 10; c.MaxInflightOps = 5 }},
		{"negative relay", func(c *Config) { c.RelayDelay = -1 }},
		{"rto above max", func(c *Config) { c.RetransmitTimeout = time.Hour }},
	}
	for _, tc := range tests {
		c := testConfig()
		c.Self, c.Regions = "a", []string{"a", "b"}
		tc.mod(&c)
		if _, err := New(c, Restore{}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	c := testConfig()
	c.Self, c.Regions = "a", []string{"a", "b"}
	if _, err := New(c, Restore{Delivered: Vector{"zz": 1}}); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("restore with unknown region: %v", err)
	}
}

func TestPublishAssignsDotsDepsAndKeyframes(t *testing.T) {
	m := newTestMesh(t, []string{"a", "b"}, testConfig(), true)
	d1 := m.publish("a", "x")
	if d1.Dot() != (Dot{"a", 1}) || !d1.Keyframe || len(d1.Deps) != 0 {
		t.Fatalf("first op %+v", d1)
	}
	m.publish("b", "y")
	m.settle(10*time.Millisecond, 3)
	d2 := m.publish("a", "z")
	if d2.Dot() != (Dot{"a", 2}) || d2.Keyframe || !slices.Equal(d2.Deps, []Entry{{"b", 1}}) {
		t.Fatalf("second op %+v", d2)
	}
	d3 := m.publish("a", "w")
	if len(d3.Deps) != 0 {
		t.Fatalf("unchanged deps re-sent: %+v", d3)
	}
	if d2.HLC.Compare(d1.HLC) <= 0 || d3.HLC.Compare(d2.HLC) <= 0 {
		t.Fatalf("HLC not increasing: %s %s %s", d1.HLC, d2.HLC, d3.HLC)
	}
}

// Three regions: b replies to a's op; c gets b's reply before a's op and
// must hold it until a's op arrives.
func TestCausalDeliveryThroughBuffer(t *testing.T) {
	m := newTestMesh(t, []string{"a", "b", "c"}, testConfig(), true)
	m.cut[[2]string{"a", "c"}] = true
	m.publish("a", "question")
	m.settle(10*time.Millisecond, 2)
	m.publish("b", "answer")
	m.settle(10*time.Millisecond, 3)
	c := m.nodes["c"]
	if len(c.order) != 0 || c.e.Metrics().BufferedOps != 1 {
		t.Fatalf("c delivered %v, buffered %d; want nothing delivered, 1 buffered", c.order, c.e.Metrics().BufferedOps)
	}
	delete(m.cut, [2]string{"a", "c"})
	m.settle(50*time.Millisecond, 20)
	want := []Dot{{"a", 1}, {"b", 1}}
	if !slices.Equal(c.order, want) {
		t.Fatalf("c delivered %v, want %v", c.order, want)
	}
	if c.e.Metrics().BufferedOps != 0 {
		t.Fatal("buffer not drained")
	}
}

// With a -> c cut permanently, c still gets a's ops through b (relay), and
// only after RelayDelay.
func TestRelayThroughThirdRegion(t *testing.T) {
	cfg := testConfig()
	m := newTestMesh(t, []string{"a", "b", "c"}, cfg, true)
	m.cut[[2]string{"a", "c"}] = true
	m.cut[[2]string{"c", "a"}] = true
	for i := range 5 {
		m.publish("a", fmt.Sprint(i))
	}
	m.settle(10*time.Millisecond, 5)
	if got := m.nodes["c"].e.Delivered()["a"]; got != 0 {
		t.Fatalf("c got a's ops before the relay delay: %d", got)
	}
	if r := m.nodes["b"].e.Metrics().RelayedRanges; r != 0 {
		t.Fatalf("b relayed before the delay: %d", r)
	}
	m.settle(50*time.Millisecond, 20)
	if got := m.nodes["c"].e.Delivered()["a"]; got != 5 {
		t.Fatalf("c delivered %d of a's ops, want 5", got)
	}
	if m.nodes["b"].e.Metrics().RelayedRanges == 0 {
		t.Fatal("no relay counted")
	}
}

// In the normal case nothing is relayed and nothing is delivered twice.
func TestNoRelayWhenHealthy(t *testing.T) {
	m := newTestMesh(t, []string{"a", "b", "c", "d"}, testConfig(), true)
	for round := range 50 {
		for _, r := range m.names {
			m.publish(r, fmt.Sprint(round))
		}
		m.settle(20*time.Millisecond, 1)
	}
	m.settle(20*time.Millisecond, 50)
	for _, r := range m.names {
		met := m.nodes[r].e.Metrics()
		if met.RelayedRanges != 0 || met.DuplicateOps != 0 || met.Retransmits != 0 {
			t.Errorf("%s: %+v", r, met)
		}
		if got := m.nodes[r].e.Delivered(); !got.Equal(Vector{"a": 50, "b": 50, "c": 50, "d": 50}) {
			t.Errorf("%s delivered %v", r, got)
		}
	}
}

func TestRetransmitAfterLossWithBackoff(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b")
	e.Publish(t0, []byte("x"))
	e.Ready()
	e.Tick(t0)
	sends := e.Ready().Sends
	if !slices.Equal(sends, []SendRange{{Peer: "b", Origin: "a", From: 1, To: 1}}) {
		t.Fatalf("sends %v", sends)
	}
	// Lost; nothing new before the timeout.
	e.Tick(t0.Add(50 * time.Millisecond))
	if s := e.Ready().Sends; len(s) != 0 {
		t.Fatalf("early resend %v", s)
	}
	e.Tick(t0.Add(100 * time.Millisecond))
	if s := e.Ready().Sends; len(s) != 1 || s[0].From != 1 {
		t.Fatalf("no resend: %v", s)
	}
	// Timeout doubled: 200ms later, not 100ms.
	e.Tick(t0.Add(250 * time.Millisecond))
	if s := e.Ready().Sends; len(s) != 0 {
		t.Fatalf("resend before doubled timeout: %v", s)
	}
	e.Tick(t0.Add(300 * time.Millisecond))
	if s := e.Ready().Sends; len(s) != 1 {
		t.Fatalf("no second resend: %v", s)
	}
	if err := e.ReceiveAck(t0.Add(310*time.Millisecond), Ack{From: "b", To: "a", Delivered: []Entry{{"a", 1}}}); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0.Add(2 * time.Second))
	if s := e.Ready().Sends; len(s) != 0 {
		t.Fatalf("resend after ack: %v", s)
	}
	if e.Metrics().Retransmits != 2 {
		t.Fatalf("retransmits %d", e.Metrics().Retransmits)
	}
}

func TestWindowBoundsInflight(t *testing.T) {
	cfg := testConfig()
	cfg.Self, cfg.Regions = "a", []string{"a", "b"}
	cfg.MaxBatchOps, cfg.MaxInflightOps = 3, 7
	e, err := New(cfg, Restore{})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		e.Publish(t0, nil)
	}
	e.Ready()
	e.Tick(t0)
	// Only the very first range carries a full vector; the others are based
	// on the op sent just before them.
	want := []SendRange{{"b", "a", 1, 3, false, 0}, {"b", "a", 4, 6, true, 0}, {"b", "a", 7, 7, true, 0}}
	if got := e.Ready().Sends; !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
	if err := e.ReceiveAck(t0, Ack{From: "b", To: "a", Delivered: []Entry{{"a", 5}}}); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0)
	want = []SendRange{{"b", "a", 8, 10, true, 0}, {"b", "a", 11, 12, true, 0}}
	if got := e.Ready().Sends; !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
	if err := e.ReceiveAck(t0, Ack{From: "b", To: "a", Delivered: []Entry{{"a", 12}}}); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0)
	want = []SendRange{{"b", "a", 13, 15, true, 0}, {"b", "a", 16, 18, true, 0}, {"b", "a", 19, 19, true, 0}}
	if got := e.Ready().Sends; !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
	// A retransmission is never based.
	e.Tick(t0.Add(time.Second))
	want = []SendRange{{"b", "a", 13, 15, false, 0}, {"b", "a", 16, 18, false, 0}, {"b", "a", 19, 19, false, 0}}
	if got := e.Ready().Sends; !slices.Equal(got, want) {
		t.Fatalf("retransmission %v, want %v", got, want)
	}
}

// A based batch is rebuilt from the receiver's record of the op before it;
// without that record it is refused and changes nothing.
func TestBasedBatches(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b", "c")
	full := Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1, Deps: []Entry{{"c", 2}}}}}
	c := Batch{From: "c", To: "a", Origin: "c", Ops: []Op{{Seq: 1}, {Seq: 2}, {Seq: 3}}}
	if err := e.ReceiveBatch(t0, c); err != nil {
		t.Fatal(err)
	}
	// b:2 depends on c:2 (unchanged, omitted) and a:0; b:3 on c:3.
	based := Batch{From: "b", To: "a", Origin: "b", Based: true, Ops: []Op{{Seq: 2}, {Seq: 3, Deps: []Entry{{"c", 3}}}}}
	if err := e.ReceiveBatch(t0, based); !errors.Is(err, ErrMissingBase) {
		t.Fatalf("based batch without base: %v", err)
	}
	if got := e.Delivered(); !got.Equal(Vector{"c": 3}) {
		t.Fatalf("delivered %v", got)
	}
	if err := e.ReceiveBatch(t0, full); err != nil {
		t.Fatal(err)
	}
	e.Ready()
	if err := e.ReceiveBatch(t0, based); err != nil {
		t.Fatal(err)
	}
	ds := e.Ready().Deliveries
	if len(ds) != 2 || len(ds[0].Deps) != 0 || !slices.Equal(ds[1].Deps, []Entry{{"c", 3}}) {
		t.Fatalf("deliveries %+v", ds)
	}
	// After a restart without dependency records, based batches are refused;
	// with them (RestoreFromJournals), accepted.
	cfg := testConfig()
	cfg.Self, cfg.Regions = "a", []string{"a", "b", "c"}
	r, err := New(cfg, Restore{Delivered: Vector{"b": 3, "c": 3}})
	if err != nil {
		t.Fatal(err)
	}
	next := Batch{From: "b", To: "a", Origin: "b", Based: true, Ops: []Op{{Seq: 4}}}
	if err := r.ReceiveBatch(t0, next); !errors.Is(err, ErrMissingBase) {
		t.Fatalf("based batch after bare restart: %v", err)
	}
	r, err = New(cfg, Restore{Delivered: Vector{"b": 3, "c": 3}, LastDeps: map[string]Vector{"b": {"c": 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ReceiveBatch(t0, next); err != nil {
		t.Fatal(err)
	}
	// Its journal record continues the restored one: a delta, empty here.
	if ds := r.Ready().Deliveries; len(ds) != 1 || ds[0].Keyframe || len(ds[0].Deps) != 0 {
		t.Fatalf("deliveries %+v", ds)
	}
}

// snapshot captures everything observable about an engine.
type snapshot struct {
	delivered Vector
	metrics   Metrics
	stable    Vector
	adv       Vector
	hlc       Timestamp
}

func snap(t *testing.T, e *Engine) snapshot {
	t.Helper()
	adv, err := e.Advertised("b")
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{e.Delivered(), e.Metrics(), e.Stable(), adv, e.LastHLC()}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b", "c")
	e.Publish(t0, []byte("mine"))
	ok := Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1, Deps: []Entry{{"a", 1}}}}}
	if err := e.ReceiveBatch(t0, ok); err != nil {
		t.Fatal(err)
	}
	e.Ready()
	before := snap(t, e)
	tests := []struct {
		name string
		b    Batch
		want error
	}{
		{"wrong receiver", Batch{From: "b", To: "c", Origin: "b", Ops: []Op{{Seq: 2}}}, ErrInvalidBatch},
		{"unknown sender", Batch{From: "zz", To: "a", Origin: "b", Ops: []Op{{Seq: 2}}}, ErrUnknownRegion},
		{"sender is self", Batch{From: "a", To: "a", Origin: "b", Ops: []Op{{Seq: 2}}}, ErrUnknownRegion},
		{"unknown origin", Batch{From: "b", To: "a", Origin: "zz", Ops: []Op{{Seq: 1}}}, ErrUnknownRegion},
		{"no ops", Batch{From: "b", To: "a", Origin: "b"}, ErrInvalidBatch},
		{"seq zero", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 0}}}, ErrInvalidBatch},
		{"seq gap", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 2}, {Seq: 4}}}, ErrInvalidBatch},
		{"far future", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1 << 40}}}, ErrFutureDot},
		{"my own future op", Batch{From: "b", To: "a", Origin: "a", Ops: []Op{{Seq: 1}, {Seq: 2}}}, ErrFutureDot},
		{"depends on my future op", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 2, Deps: []Entry{{"a", 9}}}}}, ErrFutureDot},
		{"unknown dep region", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 2, Deps: []Entry{{"zz", 1}}}}}, ErrUnknownRegion},
		{"dep on origin", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 2, Deps: []Entry{{"b", 1}}}}}, ErrInvalidBatch},
		{"deps go back", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{
			{Seq: 2, Deps: []Entry{{"c", 5}}}, {Seq: 3, Deps: []Entry{{"c", 4}}}}}, ErrInvalidBatch},
		{"replay", ok, ErrDuplicateBatch},
		{"bad op valid prefix", Batch{From: "b", To: "a", Origin: "b", Ops: []Op{
			{Seq: 2}, {Seq: 3, Deps: []Entry{{"zz", 1}}}}}, ErrUnknownRegion},
	}
	for _, tc := range tests {
		err := e.ReceiveBatch(t0.Add(time.Second), tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		after := snap(t, e)
		// Duplicates are counted; nothing else may move.
		after.metrics.DuplicateOps = before.metrics.DuplicateOps
		if !reflect.DeepEqual(before, after) || !e.Ready().IsEmpty() {
			t.Errorf("%s: state changed:\n%+v\n%+v", tc.name, before, after)
		}
	}
	acks := []struct {
		name string
		a    Ack
		want error
	}{
		{"ack wrong receiver", Ack{From: "b", To: "c"}, ErrInvalidAck},
		{"ack unknown sender", Ack{From: "zz", To: "a"}, ErrUnknownRegion},
		{"ack unknown entry", Ack{From: "b", To: "a", Delivered: []Entry{{"b", 1}, {"zz", 1}}}, ErrUnknownRegion},
		{"ack claims my future ops", Ack{From: "b", To: "a", Delivered: []Entry{{"c", 3}, {"a", 2}}}, ErrFutureDot},
	}
	before = snap(t, e)
	for _, tc := range acks {
		if err := e.ReceiveAck(t0, tc.a); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if after := snap(t, e); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: state changed", tc.name)
		}
	}
}

func TestBufferBoundDropsThenRecovers(t *testing.T) {
	cfg := testConfig()
	cfg.Self, cfg.Regions = "c", []string{"a", "b", "c"}
	cfg.MaxBufferedOps = 2
	e, err := New(cfg, Restore{})
	if err != nil {
		t.Fatal(err)
	}
	// b's ops 1..4 all depend on a:1, which c lacks.
	var ops []Op
	for s := uint64(1); s <= 4; s++ {
		ops = append(ops, Op{Seq: s, Deps: []Entry{{"a", 1}}})
	}
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "c", Origin: "b", Ops: ops}); err != nil {
		t.Fatal(err)
	}
	if m := e.Metrics(); m.BufferedOps != 2 || m.DroppedOps != 2 {
		t.Fatalf("metrics %+v", m)
	}
	if err := e.ReceiveBatch(t0, Batch{From: "a", To: "c", Origin: "a", Ops: []Op{{Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Delivered(); !got.Equal(Vector{"a": 1, "b": 2}) {
		t.Fatalf("delivered %v", got)
	}
	// The sender's retransmission brings the dropped ops.
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "c", Origin: "b", Ops: ops}); err != nil {
		t.Fatal(err)
	}
	if got := e.Delivered(); !got.Equal(Vector{"a": 1, "b": 4}) {
		t.Fatalf("delivered %v", got)
	}
	var dots []Dot
	for _, d := range e.Ready().Deliveries {
		dots = append(dots, d.Dot())
	}
	if want := []Dot{{"b", 1}, {"b", 2}, {"a", 1}, {"b", 3}, {"b", 4}}; slices.Equal(dots, want) {
		t.Fatalf("delivered a:1 after b's ops: %v", dots)
	}
	if want := []Dot{{"a", 1}, {"b", 1}, {"b", 2}, {"b", 3}, {"b", 4}}; !slices.Equal(dots, want) {
		t.Fatalf("order %v, want %v", dots, want)
	}
}

func TestStabilityAndEviction(t *testing.T) {
	m := newTestMesh(t, []string{"a", "b", "c"}, testConfig(), true)
	m.publish("a", "1")
	m.publish("b", "2")
	m.settle(10*time.Millisecond, 5)
	want := Vector{"a": 1, "b": 1}
	for _, r := range m.names {
		if got := m.nodes[r].e.Stable(); !got.Equal(want) {
			t.Fatalf("%s stable %v, want %v", r, got, want)
		}
	}
	// c goes silent: new ops of a are not stable.
	m.cut[[2]string{"a", "c"}], m.cut[[2]string{"b", "c"}] = true, true
	m.cut[[2]string{"c", "a"}], m.cut[[2]string{"c", "b"}] = true, true
	m.publish("a", "3")
	m.settle(10*time.Millisecond, 5)
	a := m.nodes["a"].e
	if got := a.Stable(); !got.Equal(want) {
		t.Fatalf("stable %v while c is away", got)
	}
	if err := a.EvictRegion("c"); err != nil {
		t.Fatal(err)
	}
	if got := a.Stable(); !got.Equal(Vector{"a": 2, "b": 1}) {
		t.Fatalf("stable after eviction %v", got)
	}
	if err := a.ReceiveAck(m.now, Ack{From: "c", To: "a"}); !errors.Is(err, ErrEvicted) {
		t.Fatalf("ack from evicted: %v", err)
	}
	if err := a.ReceiveBatch(m.now, Batch{From: "c", To: "a", Origin: "c", Ops: []Op{{Seq: 1}}}); !errors.Is(err, ErrEvicted) {
		t.Fatalf("batch from evicted: %v", err)
	}
	if err := a.EvictRegion("a"); err == nil {
		t.Fatal("evicted self")
	}
}

func TestLag(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b")
	e.Publish(t0, nil)
	e.Publish(t0.Add(time.Second), nil)
	e.Publish(t0.Add(2*time.Second), nil)
	l, err := e.PeerLagOf(t0.Add(5*time.Second), "b")
	if err != nil {
		t.Fatal(err)
	}
	if l.OwnOps != 3 || l.AllOps != 3 || l.Behind != 5*time.Second || !l.BehindKnown {
		t.Fatalf("lag %+v", l)
	}
	if err := e.ReceiveAck(t0, Ack{From: "b", To: "a", Delivered: []Entry{{"a", 2}}}); err != nil {
		t.Fatal(err)
	}
	l, _ = e.PeerLagOf(t0.Add(5*time.Second), "b")
	if l.OwnOps != 1 || l.Behind != 3*time.Second {
		t.Fatalf("lag %+v", l)
	}
	if err := e.ReceiveAck(t0, Ack{From: "b", To: "a", Delivered: []Entry{{"a", 3}}}); err != nil {
		t.Fatal(err)
	}
	l, _ = e.PeerLagOf(t0.Add(5*time.Second), "b")
	if l.OwnOps != 0 || l.Behind != 0 {
		t.Fatalf("lag %+v", l)
	}
}

func TestAcksPartialAndFull(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b", "c")
	e.Publish(t0, nil)
	e.Tick(t0)
	acks := e.Ready().Acks
	if len(acks) != 2 || !acks[0].Full || !slices.Equal(acks[0].Delivered, []Entry{{"a", 1}}) {
		t.Fatalf("first acks %+v", acks)
	}
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0.Add(10 * time.Millisecond))
	acks = e.Ready().Acks
	if len(acks) != 2 || acks[0].Full || !slices.Equal(acks[0].Delivered, []Entry{{"b", 1}}) {
		t.Fatalf("partial acks %+v", acks)
	}
	e.Tick(t0.Add(20 * time.Millisecond))
	if acks := e.Ready().Acks; len(acks) != 0 {
		t.Fatalf("ack without change %+v", acks)
	}
	e.Tick(t0.Add(2 * time.Second))
	acks = e.Ready().Acks
	if len(acks) != 2 || !acks[1].Full || len(acks[1].Delivered) != 2 {
		t.Fatalf("full refresh %+v", acks)
	}
}

func TestRestartFromJournalEnds(t *testing.T) {
	cfg := testConfig()
	cfg.Self, cfg.Regions = "a", []string{"a", "b"}
	e, err := New(cfg, Restore{Delivered: Vector{"a": 10, "b": 3}, LastHLC: Timestamp{WallNanos: t0.Add(time.Hour).UnixNano()}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Publish(t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Seq != 11 || !d.Keyframe || !slices.Equal(d.Deps, []Entry{{"b", 3}}) {
		t.Fatalf("first op after restart %+v", d)
	}
	if d.HLC.WallNanos != t0.Add(time.Hour).UnixNano() || d.HLC.Logical != 1 {
		t.Fatalf("HLC went back after restart: %s", d.HLC)
	}
	// A remote op after restart is journaled as a keyframe too.
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 4, Deps: []Entry{{"a", 10}}}, {Seq: 5}}}); err != nil {
		t.Fatal(err)
	}
	ds := e.Ready().Deliveries
	if len(ds) != 3 || !ds[1].Keyframe || ds[2].Keyframe || len(ds[2].Deps) != 0 {
		t.Fatalf("deliveries %+v", ds)
	}
}

func TestAddRegion(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b")
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1, Deps: []Entry{{"n", 1}}}}}); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("unknown region accepted: %v", err)
	}
	if err := e.AddRegion("n"); err != nil {
		t.Fatal(err)
	}
	if err := e.AddRegion("n"); err == nil {
		t.Fatal("added twice")
	}
	if err := e.ReceiveBatch(t0, Batch{From: "b", To: "a", Origin: "b", Ops: []Op{{Seq: 1, Deps: []Entry{{"n", 1}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ReceiveBatch(t0, Batch{From: "n", To: "a", Origin: "n", Ops: []Op{{Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Delivered(); !got.Equal(Vector{"b": 1, "n": 1}) {
		t.Fatalf("delivered %v", got)
	}
	e.Tick(t0)
	if s := e.Ready().Sends; len(s) != 0 {
		t.Fatalf("sends %v", s)
	}
}

func TestPeerDownUp(t *testing.T) {
	e := newTestEngine(t, "a", "a", "b")
	e.Publish(t0, nil)
	if err := e.PeerDown("b"); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0)
	if out := e.Ready(); len(out.Sends) != 0 || len(out.Acks) != 0 {
		t.Fatalf("sent to a down peer: %+v", out)
	}
	if err := e.PeerUp(t0, "b"); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0)
	if out := e.Ready(); len(out.Sends) != 1 || len(out.Acks) != 1 || !out.Acks[0].Full {
		t.Fatalf("after up: %+v", out)
	}
	if err := e.PeerUp(t0, "zz"); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("unknown peer: %v", err)
	}
}
