package replicator

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// joinConfig is testConfig for regions that join when they start empty.
func joinConfig() Config {
	cfg := testConfig()
	cfg.JoinTimeout = 2 * time.Second
	return cfg
}

// wipe replaces region's engine and journals with fresh ones, as a node
// whose disk was wiped and that restarted; messages in flight from its
// previous life are lost with it.
func (m *tmesh) wipe(region string, cfg Config) {
	m.tb.Helper()
	cfg.Self, cfg.Regions = region, m.names
	e, err := New(cfg, Restore{})
	if err != nil {
		m.tb.Fatal(err)
	}
	m.nodes[region] = &tnode{e: e, builder: NewBatchBuilder(region, 1<<20), journals: make(map[string][]JournalEntry)}
	kept := m.queue[:0]
	for _, msg := range m.queue {
		if msg.from != region && msg.to != region {
			kept = append(kept, msg)
		}
	}
	m.queue = kept
	// The peers see the connection drop and come back.
	for _, r := range m.names {
		if r != region {
			if err := m.nodes[r].e.PeerUp(m.now, region); err != nil {
				m.tb.Fatal(err)
			}
		}
	}
}

// TestNewFabricJoinsInTwoRoundTrips: the first full acks say Joining, the
// answers to them SeenJoining, and only those count.
func TestNewFabricJoinsInTwoRoundTrips(t *testing.T) {
	names := []string{"a", "b", "c"}
	m := newTestMesh(t, names, joinConfig(), true)
	for _, r := range names {
		if !m.nodes[r].e.Joining() {
			t.Fatalf("%s: a fresh region must join", r)
		}
		if _, err := m.nodes[r].e.Publish(m.now, []byte("x")); !errors.Is(err, ErrJoining) {
			t.Fatalf("%s: publish while joining: %v, want ErrJoining", r, err)
		}
	}
	m.tick(time.Millisecond) // full acks out, saying Joining
	m.deliver()
	m.tick(time.Millisecond) // full answers, saying SeenJoining
	for _, r := range names {
		if !m.nodes[r].e.Joining() {
			t.Fatalf("%s: joined on full acks sent before its peers saw it joining", r)
		}
	}
	m.deliver()
	m.tick(time.Millisecond)
	for _, r := range names {
		if m.nodes[r].e.Joining() {
			t.Fatalf("%s: still joining after every peer saw it joining", r)
		}
	}
	m.publish("a", "a1")
	m.settle(10*time.Millisecond, 50)
	for _, r := range names {
		if got := m.nodes[r].e.Delivered()["a"]; got != 1 {
			t.Fatalf("%s delivered %d of a", r, got)
		}
	}
}

func TestJoinTimeoutWithAPeerDown(t *testing.T) {
	names := []string{"a", "b", "c"}
	m := newTestMesh(t, names, joinConfig(), false)
	m.cut[[2]string{"c", "a"}] = true
	m.cut[[2]string{"c", "b"}] = true
	m.tick(time.Millisecond)
	m.deliver()
	m.tick(time.Millisecond)
	if !m.nodes["a"].e.Joining() {
		t.Fatal("a joined without hearing from c")
	}
	m.tick(2 * time.Second)
	if m.nodes["a"].e.Joining() || m.nodes["b"].e.Joining() {
		t.Fatal("a and b still joining after JoinTimeout")
	}
	if m.nodes["a"].e.Metrics().Joining {
		t.Fatal("metrics say joining")
	}
}

// TestWipedRegionGetsItsOpsBackAndContinues: b's disk is wiped after its
// ops reached a and c. On restart b joins, gets its own ops back from its
// peers (and everything else), and numbers new ops after them; every
// region ends with the same ops, none taken for a duplicate.
func TestWipedRegionGetsItsOpsBackAndContinues(t *testing.T) {
	names := []string{"a", "b", "c"}
	cfg := joinConfig()
	m := newTestMesh(t, names, cfg, true)
	m.settle(10*time.Millisecond, 5)
	for i := range 20 {
		m.publish(names[i%3], fmt.Sprintf("old-%d", i))
	}
	m.settle(10*time.Millisecond, 50)
	before := m.nodes["a"].e.Delivered()
	if before["b"] == 0 {
		t.Fatal("setup: b created nothing")
	}

	m.wipe("b", cfg)
	b := m.nodes["b"].e
	if !b.Joining() {
		t.Fatal("wiped b must join")
	}
	for range 400 {
		m.tick(10 * time.Millisecond)
		m.deliver()
		if !b.Joining() {
			break
		}
	}
	if b.Joining() {
		t.Fatalf("b still joining; delivered %v", b.Delivered())
	}
	if got := b.Delivered()["b"]; got != before["b"] {
		t.Fatalf("b recovered %d of its own ops, peers held %d", got, before["b"])
	}
	if got := b.Metrics().RecoveredOwnOps; got != before["b"] {
		t.Fatalf("RecoveredOwnOps %d, want %d", got, before["b"])
	}
	d := m.publish("b", "new")
	if d.Seq != before["b"]+1 {
		t.Fatalf("b's first new op is %s, want seq %d", d.Dot(), before["b"]+1)
	}
	m.settle(10*time.Millisecond, 400)
	want := m.nodes["a"].e.Delivered()
	for _, r := range names {
		if got := m.nodes[r].e.Delivered(); !got.Equal(want) {
			t.Fatalf("%s delivered %v, a %v", r, got, want)
		}
		j := m.nodes[r].journals["b"]
		if last := j[len(j)-1]; string(last.Body) != "new" {
			t.Fatalf("%s: b's last op is %q, want the new one", r, last.Body)
		}
	}
	if m.nodes["a"].e.Metrics().PeerRegressions == 0 {
		t.Fatal("a never saw b regress")
	}
}

// TestRejoinAfterCrashWhileJoining: the Rejoin flag makes a region whose
// journals are no longer empty join again.
func TestRejoinAfterCrashWhileJoining(t *testing.T) {
	cfg := joinConfig()
	cfg.Self, cfg.Regions = "a", []string{"a", "b"}
	e, err := New(cfg, Restore{Delivered: Vector{"a": 3}, Rejoin: true})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Joining() {
		t.Fatal("Rejoin must join")
	}
	e2, err := New(cfg, Restore{Delivered: Vector{"a": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Joining() {
		t.Fatal("a region with journals and no Rejoin must not join")
	}
	// A peer advertising more of a's ops than a has keeps a joining until
	// it has them.
	if err := e.ReceiveAck(t0, Ack{From: "b", To: "a", Full: true, Delivered: []Entry{{Region: "a", Seq: 5}}}); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0)
	if !e.Joining() {
		t.Fatal("joined while b holds a:4..5")
	}
	e.Tick(t0.Add(time.Hour))
	if !e.Joining() {
		t.Fatal("joined past the timeout without a:4..5")
	}
}

// newJoinEngine is a region self of a, b, c restarted from st, joining when
// st is empty.
func newJoinEngine(t *testing.T, self string, st Restore) *Engine {
	t.Helper()
	cfg := joinConfig()
	cfg.JoinTimeout = time.Hour
	cfg.Self, cfg.Regions = self, []string{"a", "b", "c"}
	e, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustAck(t *testing.T, e *Engine, a Ack) {
	t.Helper()
	if err := e.ReceiveAck(t0, a); err != nil {
		t.Fatal(err)
	}
}

// A peer holding a buffered op of a region's previous life (b received
// a:3 relayed by c, waiting for c:1; a was wiped before anyone delivered
// it) drops it when a says it is joining, so it cannot deliver it after a
// joined and numbered a new a:3; and its answer says SeenJoining.
func TestJoiningAckDropsThePreviousLifesBufferedOps(t *testing.T) {
	b := newJoinEngine(t, "b", Restore{Delivered: Vector{"a": 2}})
	old := Batch{From: "c", To: "b", Origin: "a", Ops: []Op{{Seq: 3, HLC: Timestamp{WallNanos: 1}, Deps: []Entry{{Region: "c", Seq: 1}}, Body: []byte("old a:3")}}}
	if err := b.ReceiveBatch(t0, old); err != nil {
		t.Fatal(err)
	}
	if n := b.Metrics().BufferedOps; n != 1 {
		t.Fatalf("setup: %d ops buffered, want a:3", n)
	}
	mustAck(t, b, Ack{From: "a", To: "b", Full: true, Joining: true, Delivered: []Entry{{Region: "a", Seq: 2}}})
	if n := b.Metrics().BufferedOps; n != 0 {
		t.Fatalf("%d ops still buffered after a said it joins", n)
	}
	c1 := Batch{From: "c", To: "b", Origin: "c", Ops: []Op{{Seq: 1, HLC: Timestamp{WallNanos: 1}, Body: []byte("c:1")}}}
	if err := b.ReceiveBatch(t0, c1); err != nil {
		t.Fatal(err)
	}
	if got := b.Delivered()["a"]; got != 2 {
		t.Fatalf("b delivered a:%d, the previous life's a:3 from its buffer", got)
	}
	b.Tick(t0)
	var answered bool
	for _, a := range b.Ready().Acks {
		if a.To == "a" {
			answered = a.Full && a.SeenJoining
		}
	}
	if !answered {
		t.Fatal("b's next ack to a is not a full ack saying SeenJoining")
	}
}

// A joining region counts only full acks that say SeenJoining, and waits
// for the most of its own ops each peer advertised since that peer last
// joined itself: a peer wiped since forgets them (simulator seed 49262
// stayed joining forever for ops only a since-wiped peer had), a stale
// reordered full ack does not.
func TestJoinCountsAnswersAndCurrentAdvertisements(t *testing.T) {
	for _, tc := range []struct {
		name    string
		acks    []Ack
		joining bool
	}{
		{"full acks sent before the peers saw it joining", []Ack{
			{From: "b", To: "a", Full: true},
			{From: "c", To: "a", Full: true},
		}, true},
		{"one peer answered", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true},
			{From: "c", To: "a", Full: true},
		}, true},
		{"both answered", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true},
			{From: "c", To: "a", Full: true, SeenJoining: true},
		}, false},
		{"a peer holds own ops", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 5}}},
			{From: "c", To: "a", Full: true, SeenJoining: true},
		}, true},
		// Storm seeds 6997, 19609: c may hold what b had; both answer again.
		{"the peer that held them was wiped since (it joins)", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 5}}},
			{From: "c", To: "a", Full: true, SeenJoining: true},
			{From: "b", To: "a", Full: true, Joining: true, SeenJoining: true},
		}, true},
		{"the peer that held them was wiped since, and both answered again", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 5}}},
			{From: "c", To: "a", Full: true, SeenJoining: true},
			{From: "b", To: "a", Full: true, Joining: true, SeenJoining: true},
			{From: "b", To: "a", Full: true, Joining: true, SeenJoining: true},
			{From: "c", To: "a", Full: true, SeenJoining: true},
		}, false},
		// Storm seed 14920: a stale Joining full ack (stamped before the
		// latest) does not reset what the peer advertised.
		{"a stale joining full ack", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true, Stamp: Timestamp{WallNanos: 2}, Delivered: []Entry{{Region: "a", Seq: 5}}},
			{From: "c", To: "a", Full: true, SeenJoining: true},
			{From: "b", To: "a", Full: true, Joining: true, SeenJoining: true, Stamp: Timestamp{WallNanos: 1}},
		}, true},
		// Seed 93076: a stale full ack, reordered, is not a wipe.
		{"a stale full ack that goes back", []Ack{
			{From: "b", To: "a", Full: true, SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 5}}},
			{From: "c", To: "a", Full: true, SeenJoining: true},
			{From: "b", To: "a", Full: true, SeenJoining: true},
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newJoinEngine(t, "a", Restore{})
			for _, ack := range tc.acks {
				mustAck(t, a, ack)
			}
			a.Tick(t0)
			if a.Joining() != tc.joining {
				t.Fatalf("joining %v, want %v", a.Joining(), tc.joining)
			}
		})
	}
}

// An evicted peer's last advertisement of this region's ops still counts:
// what it relayed before it went may be delivered elsewhere (simulator
// seed 11045: a joined without a:1..4, which c then delivered from the
// evicted b's relay).
func TestJoinWaitsForOwnOpsAnEvictedPeerAdvertised(t *testing.T) {
	a := newJoinEngine(t, "a", Restore{})
	mustAck(t, a, Ack{From: "b", To: "a", Full: true, SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 4}}})
	if err := a.EvictRegion("b"); err != nil {
		t.Fatal(err)
	}
	mustAck(t, a, Ack{From: "c", To: "a", Full: true, SeenJoining: true})
	a.Tick(t0)
	if !a.Joining() {
		t.Fatal("joined without a:1..4, which the evicted b advertised")
	}
	mustAck(t, a, Ack{From: "c", To: "a", SeenJoining: true, Delivered: []Entry{{Region: "a", Seq: 4}}})
	if !a.Joining() {
		t.Fatal("joined on c's advertisement before delivering a:1..4")
	}
}

// A peer wiped while a region joins may have passed the region's ops it
// advertised to another peer after that peer answered (delivered there,
// its ack not arrived, or buffered there): every peer must answer again, a
// Joining ack sent after the wiped peer's first full ack (storm seeds 6997
// and 19609: b delivered a:1..12 from its buffer after a joined without
// them).
func TestJoinAsksAgainWhenAPeerLostOwnOpsItAdvertised(t *testing.T) {
	a := newJoinEngine(t, "a", Restore{})
	now := t0
	stamp := func(wall int64) Timestamp { return Timestamp{WallNanos: now.UnixNano() + wall} }
	// ask ticks a and returns the stamps of its acks, which must say
	// Joining and be full.
	ask := func() (b, c Timestamp) {
		t.Helper()
		a.Tick(now)
		for _, ack := range a.Ready().Acks {
			if ack.Joining && ack.Full && ack.To == "b" {
				b = ack.Stamp
			}
			if ack.Joining && ack.Full && ack.To == "c" {
				c = ack.Stamp
			}
		}
		return b, c
	}
	askB, askC := ask()
	if askB.IsZero() || askC.IsZero() {
		t.Fatal("a asked nothing")
	}
	mustAck(t, a, Ack{From: "b", To: "a", Full: true, SeenJoining: true, Stamp: stamp(1), Answers: askB})
	mustAck(t, a, Ack{From: "c", To: "a", Full: true, SeenJoining: true, Stamp: stamp(1), Answers: askC,
		Delivered: []Entry{{Region: "a", Seq: 12}}})
	if !a.Joining() {
		t.Fatal("joined without a:1..12, which c advertised")
	}
	// c loses its disk; its next life joins and answers.
	now = now.Add(time.Millisecond)
	if err := a.PeerUp(now, "c"); err != nil {
		t.Fatal(err)
	}
	mustAck(t, a, Ack{From: "c", To: "a", Full: true, Joining: true, Stamp: stamp(2)})
	newB, askC := ask()
	if newB.IsZero() || askC.IsZero() {
		t.Fatal("a did not ask both peers again")
	}
	mustAck(t, a, Ack{From: "c", To: "a", Full: true, Joining: true, SeenJoining: true, Stamp: stamp(3), Answers: askC})
	a.Tick(now)
	if !a.Joining() {
		t.Fatal("joined on b's answer from before c lost a:1..12 (b may hold them)")
	}
	// A full ack from b answering the old question does not count.
	mustAck(t, a, Ack{From: "b", To: "a", Full: true, SeenJoining: true, Stamp: stamp(4), Answers: askB})
	a.Tick(now)
	if !a.Joining() {
		t.Fatal("joined on b's answer to a question asked before c lost a:1..12")
	}
	mustAck(t, a, Ack{From: "b", To: "a", Full: true, SeenJoining: true, Stamp: stamp(5), Answers: newB})
	a.Tick(now)
	if a.Joining() {
		t.Fatal("still joining after every peer answered again")
	}
}

// A peer answers a Joining ack that asks at once, with a full ack echoing
// its stamp.
func TestPeerEchoesTheJoiningAckItAnswers(t *testing.T) {
	b := newJoinEngine(t, "b", Restore{Delivered: Vector{"a": 2}})
	for i, s := range []int64{10, 20} {
		mustAck(t, b, Ack{From: "a", To: "b", Joining: true, Asking: true, Stamp: Timestamp{WallNanos: s}})
		b.Tick(t0.Add(time.Duration(i) * time.Millisecond))
		var got *Ack
		for _, a := range b.Ready().Acks {
			if a.To == "a" {
				got = &a
			}
		}
		if got == nil || !got.Full || !got.SeenJoining || got.Answers != (Timestamp{WallNanos: s}) {
			t.Fatalf("answer to the Joining ack stamped %d: %+v", s, got)
		}
	}
}
