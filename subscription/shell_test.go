package subscription

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/causeway/causeway/broker/segment"
	cvfs "github.com/causeway/causeway/broker/vfs"
)

// waitFor bounds every wait on a channel; tests never sleep.
const waitFor = 10 * time.Second

// testSource is a Source a test can publish to.
type testSource interface {
	Source
	publish(n int)
}

// segSource is the real segment log on an in-memory filesystem.
type segSource struct {
	*segment.Log
	t testing.TB
}

func (s segSource) publish(n int) {
	recs := make([]segment.Record, n)
	end := s.EndOffset()
	for i := range recs {
		off := end + uint64(i)
		recs[i] = segment.Record{PublishTime: int64(off) * 1000, Payload: fmt.Appendf(nil, "m%d", off)}
	}
	if _, err := s.Append(recs); err != nil {
		s.t.Fatal(err)
	}
}

func newSegSource(t testing.TB) segSource {
	l, err := segment.Open(cvfs.NewMem(), "log", segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return segSource{Log: l, t: t}
}

// eachSource runs f against the fake source and the real segment log.
func eachSource(t *testing.T, f func(t *testing.T, src testSource)) {
	t.Run("mem", func(t *testing.T) { t.Parallel(); f(t, newMemSource()) })
	t.Run("segment", func(t *testing.T) { t.Parallel(); f(t, newSegSource(t)) })
}

func open(t *testing.T, cfg Config, src Source, store Store) *Subscription {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "sub"
	}
	s, err := Open(cfg, src, store, "k")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func attach(t *testing.T, s *Subscription, spec ConsumerSpec) *Consumer {
	t.Helper()
	c, err := s.Attach(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func recvN(t *testing.T, c *Consumer, n int) []Delivery {
	t.Helper()
	var out []Delivery
	deadline := time.After(waitFor)
	for len(out) < n {
		select {
		case d := <-c.Messages():
			out = append(out, d)
		case <-deadline:
			t.Fatalf("%s: received %d of %d messages: %v", c.Name(), len(out), n, offsetsOf(out))
		}
	}
	return out
}

func offsetsOf(ds []Delivery) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Record.Offset
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}

// expectIdle waits for a full dispatch round and checks that the consumers
// received nothing more.
func expectIdle(t *testing.T, s *Subscription, cs ...*Consumer) {
	t.Helper()
	if !s.sync() {
		t.Fatal("subscription closed")
	}
	for _, c := range cs {
		if n := len(c.ch); n > 0 {
			d := <-c.ch
			t.Fatalf("%s: %d unexpected messages, first %d", c.Name(), n, d.Record.Offset)
		}
	}
}

func TestExclusiveEndToEnd(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		src.publish(3)
		s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", Type: Exclusive})
		_, err := s.Attach(ConsumerSpec{Name: "b", Type: Exclusive})
		if !errors.Is(err, ErrExclusiveBusy) || !contains(err, `"sub"`, "exclusive") {
			t.Fatalf("second consumer: %v", err)
		}
		_, err = s.Attach(ConsumerSpec{Name: "c", Type: Shared})
		if !errors.Is(err, ErrTypeMismatch) || !contains(err, "Exclusive", "Shared") {
			t.Fatalf("type mismatch: %v", err)
		}
		src.publish(7)
		got := offsetsOf(recvN(t, a, 10))
		if !slices.Equal(got, seq(0, 10)) {
			t.Fatalf("got %v", got)
		}
		if err := a.AckCumulative(6); err != nil {
			t.Fatal(err)
		}
		if err := a.Ack(20); !errors.Is(err, ErrUnknownMessage) {
			t.Fatalf("ack of undelivered offset: %v", err)
		}
		st := s.Stats()
		if st.MarkDelete != 7 || st.Backlog != 3 || len(st.Consumers) != 1 || st.Consumers[0].Unacked != 3 || st.Type != Exclusive {
			t.Fatalf("stats %+v", st)
		}
		expectIdle(t, s, a)
	})
}

func contains(err error, subs ...string) bool {
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			return false
		}
	}
	return true
}

func TestFailoverEndToEnd(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		s := open(t, Config{Type: Failover, Initial: Earliest}, src, NewMemStore())
		b := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "b", Type: Failover, Priority: 1})
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", Type: Failover, Priority: 1})
		// Published once both are attached: b, alone for a moment, would
		// be the active consumer and could receive them (a CI flake).
		src.publish(6)
		// a (same level, lower name) is active; b receives nothing.
		got := offsetsOf(recvN(t, a, 6))
		if !slices.Equal(got, seq(0, 6)) {
			t.Fatalf("a got %v", got)
		}
		expectIdle(t, s, b)
		for _, off := range []uint64{0, 1, 3} {
			if err := a.Ack(off); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		select {
		case <-a.Done():
		default:
			t.Fatal("Done not closed after Close")
		}
		if err := a.Ack(2); !errors.Is(err, ErrClosed) {
			t.Fatalf("ack after close: %v", err)
		}
		src.publish(2)
		// b takes over from the last acked position: 2, 4, 5, then 6, 7.
		got = offsetsOf(recvN(t, b, 5))
		if !slices.Equal(got, []uint64{2, 4, 5, 6, 7}) {
			t.Fatalf("b got %v", got)
		}
		expectIdle(t, s, b)
	})
}

func TestSharedEndToEnd(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		s := open(t, Config{Type: Shared, Initial: Earliest}, src, NewMemStore())
		cs := []*Consumer{
			attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", Type: Shared, ReceiverQueue: 10}),
			attach(t, s, ConsumerSpec{Initial: Earliest, Name: "b", Type: Shared, ReceiverQueue: 10}),
			attach(t, s, ConsumerSpec{Initial: Earliest, Name: "c", Type: Shared, ReceiverQueue: 10}),
		}
		src.publish(30)
		var all []uint64
		for _, c := range cs {
			ds := recvN(t, c, 10)
			all = append(all, offsetsOf(ds)...)
		}
		slices.Sort(all)
		if !slices.Equal(all, seq(0, 30)) {
			t.Fatalf("delivered %v", all)
		}
		if err := cs[0].AckCumulative(0); !errors.Is(err, ErrCumulativeAckShared) {
			t.Fatalf("cumulative ack on shared: %v", err)
		}
		// Out of permits: nothing more until permits arrive.
		src.publish(1)
		expectIdle(t, s, cs...)
		cs[1].AddPermits(1)
		if d := recvN(t, cs[1], 1); d[0].Record.Offset != 30 {
			t.Fatalf("got %d", d[0].Record.Offset)
		}
		// A consumer leaving returns its unacked messages (even those still
		// in its channel) to the others.
		cs[2].Close()
		cs[0].AddPermits(10)
		got := offsetsOf(recvN(t, cs[0], 10))
		slices.Sort(got)
		want := []uint64{}
		for _, o := range all {
			if o%3 == 2 {
				want = append(want, o)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("a got %v after c left, want c's %v", got, want)
		}
		for _, d := range got {
			if err := cs[0].Ack(d); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestNackRedelivery(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		src.publish(3)
		s := open(t, Config{Type: Shared, Initial: Earliest, NackDelay: 20 * time.Millisecond}, src, NewMemStore())
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", Type: Shared})
		ds := recvN(t, a, 3)
		for _, d := range ds {
			if d.RedeliveryCount != 0 {
				t.Fatalf("first delivery with count %d", d.RedeliveryCount)
			}
		}
		if err := a.Ack(0); err != nil {
			t.Fatal(err)
		}
		if err := a.Ack(2); err != nil {
			t.Fatal(err)
		}
		if err := a.Nack(1); err != nil {
			t.Fatal(err)
		}
		d := recvN(t, a, 1)[0]
		if d.Record.Offset != 1 || d.RedeliveryCount != 1 || string(d.Record.Payload) != "m1" {
			t.Fatalf("redelivered %+v", d)
		}
		if err := a.Nack(1); err != nil {
			t.Fatal(err)
		}
		if d := recvN(t, a, 1)[0]; d.Record.Offset != 1 || d.RedeliveryCount != 2 {
			t.Fatalf("redelivered %+v", d)
		}
	})
}

func TestAckTimeout(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		src.publish(4)
		s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", AckTimeout: 30 * time.Millisecond})
		recvN(t, a, 4)
		for _, off := range []uint64{0, 2} {
			if err := a.Ack(off); err != nil {
				t.Fatal(err)
			}
		}
		ds := recvN(t, a, 2)
		if got := offsetsOf(ds); !slices.Equal(got, []uint64{1, 3}) || ds[0].RedeliveryCount != 1 {
			t.Fatalf("redelivered %v (count %d)", got, ds[0].RedeliveryCount)
		}
		for _, off := range []uint64{1, 3} {
			if err := a.Ack(off); err != nil {
				t.Fatal(err)
			}
		}
		if st := s.Stats(); st.Backlog != 0 || st.MarkDelete != 4 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestDeadLetter(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		src.publish(2)
		var mu sync.Mutex
		var dead []segment.Record
		fails := 1 // the first publish fails and is retried
		cfg := Config{Type: Shared, Initial: Earliest, NackDelay: 5 * time.Millisecond, MaxRedeliverCount: 2,
			DeadLetter: func(rec segment.Record) error {
				mu.Lock()
				defer mu.Unlock()
				if fails > 0 {
					fails--
					return errors.New("dead-letter stream unavailable")
				}
				dead = append(dead, rec)
				return nil
			}}
		s := open(t, cfg, src, NewMemStore())
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", Type: Shared})
		recvN(t, a, 2)
		if err := a.Ack(1); err != nil {
			t.Fatal(err)
		}
		// Delivered with counts 0, 1, 2; the third nack dead-letters it.
		for want := 0; want < 3; want++ {
			if want > 0 {
				if d := recvN(t, a, 1)[0]; d.Record.Offset != 0 || d.RedeliveryCount != want {
					t.Fatalf("delivery %d: %+v", want, d)
				}
			}
			if err := a.Nack(0); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.After(waitFor)
		for s.Stats().MarkDelete != 2 {
			select {
			case <-deadline:
				t.Fatalf("not dead-lettered: %+v", s.Stats())
			case d := <-a.Messages():
				t.Fatalf("redelivered instead of dead-lettered: %+v", d)
			default:
				s.sync()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(dead) != 1 || dead[0].Offset != 0 || string(dead[0].Payload) != "m0" || fails != 0 {
			t.Fatalf("dead-lettered %+v (fails left %d)", dead, fails)
		}
	})
}

func TestDeadLetterNeedsPublisher(t *testing.T) {
	if _, err := Open(Config{Name: "s", MaxRedeliverCount: 3}, newMemSource(), NewMemStore(), "k"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Open: %v", err)
	}
	s := open(t, Config{}, newMemSource(), NewMemStore())
	if _, err := s.Attach(ConsumerSpec{MaxRedeliverCount: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Attach: %v", err)
	}
}

func TestSeek(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		src.publish(10)
		s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
		a := attach(t, s, ConsumerSpec{Initial: Earliest, Name: "a", ReceiverQueue: 4})
		recvN(t, a, 2)
		a.AddPermits(2) // as a push-mode front end does
		if !s.sync() {
			t.Fatal("closed")
		}
		// 2 and 3 sit in the channel; the seek drops them.
		if err := s.Seek(5); err != nil {
			t.Fatal(err)
		}
		got := offsetsOf(recvN(t, a, 4))
		if !slices.Equal(got, seq(5, 9)) {
			t.Fatalf("after seek got %v", got)
		}
		if st := s.Stats(); st.MarkDelete != 5 {
			t.Fatalf("mark-delete %d", st.MarkDelete)
		}
		// By time: publish time of offset o is 1000*o ms.
		if err := s.SeekTime(1500); err != nil {
			t.Fatal(err)
		}
		a.AddPermits(4)
		got = offsetsOf(recvN(t, a, 4))
		if !slices.Equal(got, seq(2, 6)) {
			t.Fatalf("after seek by time got %v", got)
		}
		if err := s.Skip(3); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.MarkDelete != 5 || st.Backlog != 5 {
			t.Fatalf("after skip %+v", st)
		}
		if err := s.Skip(-1); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("skip -1: %v", err)
		}
	})
}

// TestRestart: close and reopen with the same Pebble store keeps every ack
// and redelivers exactly the unacknowledged messages.
func TestRestart(t *testing.T) {
	src := newSegSource(t)
	src.publish(10)
	db, err := pebble.Open("cursors", &pebble.Options{FS: vfs.NewMem(), Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := NewPebbleStore(db)

	s, err := Open(Config{Name: "sub", Type: Shared, Initial: Earliest}, src, store, "t/f/s/sub")
	if err != nil {
		t.Fatal(err)
	}
	a := attach(t, s, ConsumerSpec{Name: "a", Type: Shared, Initial: Earliest})
	recvN(t, a, 10)
	acked := []uint64{0, 1, 2, 3, 5, 7}
	for _, off := range acked {
		if err := a.Ack(off); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Done():
	default:
		t.Fatal("consumer not detached by Close")
	}

	s2, err := Open(Config{Name: "sub", Type: Shared, Initial: Latest}, src, store, "t/f/s/sub")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	b := attach(t, s2, ConsumerSpec{Name: "b", Type: Shared, Initial: Latest})
	got := offsetsOf(recvN(t, b, 4))
	if !slices.Equal(got, []uint64{4, 6, 8, 9}) {
		t.Fatalf("after restart got %v, want exactly the unacked 4 6 8 9", got)
	}
	expectIdle(t, s2, b)
	if st := s2.Stats(); st.MarkDelete != 4 || st.Backlog != 4 {
		t.Fatalf("stats after restart %+v", st)
	}
}

// TestNewSubscriptionPositionIsDurable: a subscription created at Latest
// keeps that position across a restart even if nothing was acked.
func TestNewSubscriptionPositionIsDurable(t *testing.T) {
	src := newMemSource()
	src.publish(5)
	store := NewMemStore()
	s := open(t, Config{Type: Exclusive, Initial: Latest}, src, store)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	src.publish(2)
	s2 := open(t, Config{Type: Exclusive, Initial: Earliest}, src, store)
	a := attach(t, s2, ConsumerSpec{Initial: Earliest})
	if got := offsetsOf(recvN(t, a, 2)); !slices.Equal(got, []uint64{5, 6}) {
		t.Fatalf("got %v", got)
	}
}

// TestFirstConsumerInitialPosition: the first consumer of a newly created
// subscription decides its initial position.
func TestFirstConsumerInitialPosition(t *testing.T) {
	src := newMemSource()
	src.publish(3)
	s := open(t, Config{Type: Exclusive, Initial: Latest}, src, NewMemStore())
	a := attach(t, s, ConsumerSpec{Initial: Earliest})
	if got := offsetsOf(recvN(t, a, 3)); !slices.Equal(got, seq(0, 3)) {
		t.Fatalf("got %v", got)
	}
}

// countingStore counts saves and can hold them.
type countingStore struct {
	Store
	saves atomic.Int64
	hold  chan struct{} // while non-nil and open, Save blocks
	held  chan struct{} // signalled when a Save starts blocking
}

func (c *countingStore) Save(key string, st CursorState) error {
	c.saves.Add(1)
	if c.hold != nil {
		select {
		case c.held <- struct{}{}:
		default:
		}
		<-c.hold
	}
	return c.Store.Save(key, st)
}

// TestPersisterCoalesces: acks arriving while a cursor write is in flight
// are batched into the next write; Close flushes the last state.
func TestPersisterCoalesces(t *testing.T) {
	src := newMemSource()
	src.publish(100)
	inner := NewMemStore()
	store := &countingStore{Store: inner}
	s := open(t, Config{Type: Shared, Initial: Earliest}, src, store)
	store.saves.Store(0)
	store.hold, store.held = make(chan struct{}), make(chan struct{}, 1)
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(store.hold) }) })
	a := attach(t, s, ConsumerSpec{Initial: Earliest, Type: Shared, ReceiverQueue: 100})
	recvN(t, a, 100)
	if err := a.Ack(0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-store.held:
	case <-time.After(waitFor):
		t.Fatal("no cursor write started")
	}
	for off := uint64(1); off < 100; off += 2 { // leaves holes: 2, 4, ...
		if err := a.Ack(off); err != nil {
			t.Fatal(err)
		}
	}
	release.Do(func() { close(store.hold) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := store.saves.Load(); n != 2 {
		t.Errorf("%d cursor writes for 51 acks, want 2 (one in flight, one coalesced)", n)
	}
	st, ok, err := inner.Load("k")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if st.MarkDelete != 2 || len(st.Acked) != 49 {
		t.Fatalf("stored %d acked ranges from %d", len(st.Acked), st.MarkDelete)
	}
}

// TestPullModeRoom: permits beyond the channel's capacity are honoured as
// the channel drains.
func TestPullModeRoom(t *testing.T) {
	src := newMemSource()
	src.publish(20)
	s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
	a := attach(t, s, ConsumerSpec{Initial: Earliest, ReceiverQueue: 2})
	a.AddPermits(18)
	var got []uint64
	for len(got) < 20 {
		got = append(got, offsetsOf(recvN(t, a, 1))...)
	}
	if !slices.Equal(got, seq(0, 20)) {
		t.Fatalf("got %v", got)
	}
}

// TestPullMode: a pull-mode consumer starts without permits and receives
// exactly what its permit frames grant, even past its channel's capacity.
func TestPullMode(t *testing.T) {
	src := newMemSource()
	src.publish(10)
	s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
	a := attach(t, s, ConsumerSpec{Initial: Earliest, ReceiverQueue: 2, PullMode: true})
	expectIdle(t, s, a)
	if st := s.Stats(); st.Consumers[0].Permits != 0 {
		t.Fatalf("pull-mode consumer starts with %d permits", st.Consumers[0].Permits)
	}
	a.AddPermits(3)
	var got []uint64
	for len(got) < 3 {
		got = append(got, offsetsOf(recvN(t, a, 1))...)
	}
	if !slices.Equal(got, seq(0, 3)) {
		t.Fatalf("got %v", got)
	}
	expectIdle(t, s, a)
}

// TestRetentionMovesCursor: retention removing unacked messages moves the
// cursor past them.
func TestRetentionMovesCursor(t *testing.T) {
	src := newMemSource()
	src.publish(10)
	s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
	a := attach(t, s, ConsumerSpec{Initial: Earliest, ReceiverQueue: 2})
	recvN(t, a, 2)
	src.trim(6)
	a.AddPermits(2)
	if got := offsetsOf(recvN(t, a, 2)); !slices.Equal(got, []uint64{6, 7}) {
		t.Fatalf("got %v", got)
	}
	if st := s.Stats(); st.MarkDelete != 6 {
		t.Fatalf("mark-delete %d", st.MarkDelete)
	}
}

// TestReadErrorRetried: a failing Read delays delivery; nothing is lost.
func TestReadErrorRetried(t *testing.T) {
	src := newMemSource()
	src.failReads = 2
	src.publish(3)
	s := open(t, Config{Type: Exclusive, Initial: Earliest}, src, NewMemStore())
	a := attach(t, s, ConsumerSpec{Initial: Earliest})
	if got := offsetsOf(recvN(t, a, 3)); !slices.Equal(got, seq(0, 3)) {
		t.Fatalf("got %v", got)
	}
}

func TestCloseDetaches(t *testing.T) {
	s := open(t, Config{Type: Shared}, newMemSource(), NewMemStore())
	a := attach(t, s, ConsumerSpec{Type: Shared})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Done():
	case <-time.After(waitFor):
		t.Fatal("Done not closed")
	}
	if _, err := s.Attach(ConsumerSpec{Type: Shared}); !errors.Is(err, ErrClosed) {
		t.Fatalf("attach after close: %v", err)
	}
	if err := s.Seek(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("seek after close: %v", err)
	}
	a.AddPermits(1) // ignored
	a.Close()       // idempotent
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadSpecs(t *testing.T) {
	s := open(t, Config{Type: Shared}, newMemSource(), NewMemStore())
	for _, spec := range []ConsumerSpec{
		{Type: Shared, ReceiverQueue: -1},
		{Type: Shared, ReceiverQueue: MaxReceiverQueue + 1},
		{Type: Shared, AckTimeout: -time.Second},
		{Type: Type(-1)},
		{Type: Type(9)},
		{Type: Shared, Initial: Position(5)},
	} {
		if _, err := s.Attach(spec); err == nil {
			t.Errorf("Attach(%+v) succeeded", spec)
		}
	}
	if st := s.Stats(); len(st.Consumers) != 0 {
		t.Fatalf("a failed attach left a consumer: %+v", st)
	}
	for _, cfg := range []Config{{Type: Type(4)}, {NackDelay: -1}, {Initial: Position(3)}} {
		if _, err := Open(cfg, newMemSource(), NewMemStore(), "k"); err == nil {
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
