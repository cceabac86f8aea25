package subscription

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var propSeed = flag.Uint64("prop.seed", 0, "run the dispatcher property test with this seed only")

// TestDispatcherProperty drives random interleavings of consumer joins and
// leaves, permits, log growth and retention, dispatches with random room,
// acks, cumulative acks, nacks, ack timeouts, dead-lettering (succeeding and
// failing), skips and seeks, and checks after every step that:
//   - the acknowledged set is exactly what explicit operations acknowledged
//     (nothing acked implicitly, no ack lost);
//   - every offset below the read position is acked, outstanding or queued
//     (nothing lost), and the internal invariants hold;
//   - deliveries respect permits, room and the unacked bound and never carry
//     an acknowledged offset;
//   - a failed call changes nothing;
//   - on Key_Shared subscriptions, a message goes to a consumer only while
//     every unacknowledged message of its key below it is outstanding at
//     that consumer (per-key order of first deliveries and redeliveries),
//     and no two consumers hold unacknowledged messages of one key;
//
// and at the end that a drain (permits, acks, time passing) acknowledges
// every offset of the log.
func TestDispatcherProperty(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	if *propSeed != 0 {
		runProperty(t, *propSeed, -1)
		return
	}
	for i := range seeds {
		seed := uint64(i)*0x9E3779B97F4A7C15 + 1
		if !runProperty(t, seed, -1) {
			return
		}
	}
}

// TestKeySharedProperty runs the property test on Key_Shared subscriptions
// only (consumers still sometimes ask for another type).
func TestKeySharedProperty(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	if *propSeed != 0 {
		runProperty(t, *propSeed, KeyShared)
		return
	}
	for i := range seeds {
		seed := uint64(i)*0x9E3779B97F4A7C15 + 7
		if !runProperty(t, seed, KeyShared) {
			return
		}
	}
}

type propModel struct {
	acked map[uint64]bool
}

// runProperty runs one seed; typ -1 picks the subscription type at random.
func runProperty(t *testing.T, seed uint64, forceType Type) (ok bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	fail := func(step int, format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d (rerun: go test ./subscription -run %s -prop.seed=%d), step %d: %s", seed, t.Name(), seed, step, fmt.Sprintf(format, args...))
	}
	typ := []Type{Exclusive, Shared, Failover, KeyShared}[rng.IntN(4)]
	if forceType >= 0 {
		typ = forceType
	}
	nkeys := 1 + rng.IntN(6)
	keySalt := rng.Uint64()
	keyOf := func(off uint64) string { // a few keys, some messages without one
		if k := (off*0x9E3779B97F4A7C15 ^ keySalt) % uint64(nkeys+1); k > 0 {
			return fmt.Sprintf("k%d", k)
		}
		return ""
	}
	maxUnacked := []int{0, 1, 3, 8}[rng.IntN(4)]
	end := uint64(rng.IntN(20))
	d, err := NewDispatcher(DispatcherConfig{Name: "p", Type: typ, MaxUnackedPerConsumer: maxUnacked}, CursorState{}, 0, end)
	if err != nil {
		t.Fatal(err)
	}
	dispatch := func(now time.Time, room func(ConsumerID) int, maxMessages int) []Assignment {
		return dispatchWithKeys(d, keyOf, now, room, maxMessages)
	}
	model := propModel{acked: map[uint64]bool{}}
	ackModel := func(from, to uint64) {
		for o := from; o < to; o++ {
			model.acked[o] = true
		}
	}
	now := epoch
	var ids []ConsumerID
	permitModel := map[ConsumerID]int{}
	names := 0
	var inflightDead []uint64
	outstanding := func() []Assignment { // what consumers hold, per the dispatcher
		var out []Assignment
		for _, c := range d.order {
			for off := range c.out {
				out = append(out, Assignment{Consumer: c.id, Offset: off})
			}
		}
		slices.SortFunc(out, func(a, b Assignment) int { return int(a.Offset) - int(b.Offset) })
		return out
	}
	snapshot := func() any { return [2]any{d.Cursor(), d.Stats()} }

	// rewound models the stale-ack rule: an offset at or past the read
	// position but below the highest read position the cursor was moved
	// back from was dispatched before the move; its ack is ignored.
	var rewound uint64
	stale := func(off uint64) bool { return off >= d.ReadPosition() && off < rewound }

	const steps = 400
	for step := range steps {
		before := snapshot()
		readBefore := d.ReadPosition()
		var callErr error
		switch op := rng.IntN(100); {
		case op < 8: // join
			cfg := ConsumerConfig{
				Name:     fmt.Sprintf("c%d", names%5),
				Priority: rng.IntN(3),
				Type:     typ,
				Permits:  rng.IntN(6),
			}
			if rng.IntN(10) == 0 {
				cfg.Type = Type(rng.IntN(4))
			}
			if rng.IntN(2) == 0 {
				cfg.AckTimeout = time.Duration(1+rng.IntN(5)) * time.Second
			}
			cfg.NackDelay = time.Duration(rng.IntN(4)) * time.Second
			cfg.MaxRedeliverCount = rng.IntN(4)
			names++
			id, err := d.AddConsumer(cfg)
			callErr = err
			if err == nil {
				ids = append(ids, id)
				permitModel[id] = cfg.Permits
			} else if !errors.Is(err, ErrExclusiveBusy) && !errors.Is(err, ErrTypeMismatch) && !errors.Is(err, ErrUnsupportedType) {
				fail(step, "AddConsumer: unexpected error %v", err)
			}
		case op < 13: // leave
			if len(ids) > 0 {
				i := rng.IntN(len(ids))
				if err := d.RemoveConsumer(ids[i]); err != nil {
					fail(step, "RemoveConsumer: %v", err)
				}
				ids = append(ids[:i], ids[i+1:]...)
			}
		case op < 23: // permits
			if len(ids) > 0 {
				id, n := ids[rng.IntN(len(ids))], rng.IntN(6)-1
				callErr = d.AddPermits(id, n)
				if callErr == nil {
					permitModel[id] += n
				}
			}
		case op < 30: // log grows
			end += uint64(rng.IntN(5))
			d.LogEnd(end)
		case op < 31: // retention
			s := d.start + uint64(rng.IntN(3))
			s = min(s, end)
			if s > d.start {
				ackModel(0, s)
			}
			d.LogStart(s)
		case op < 50: // dispatch
			room := map[ConsumerID]int{}
			for _, id := range ids {
				room[id] = rng.IntN(5)
			}
			permits := map[ConsumerID]int{}
			unacked := map[ConsumerID]int{}
			for _, c := range d.Stats().Consumers {
				permits[c.ID], unacked[c.ID] = c.Permits, c.Unacked
			}
			as := dispatch(now, func(id ConsumerID) int { return room[id] }, 1+rng.IntN(10))
			got := map[ConsumerID]int{}
			for _, a := range as {
				got[a.Consumer]++
				permitModel[a.Consumer]--
				if model.acked[a.Offset] {
					fail(step, "delivered acked offset %d", a.Offset)
				}
				if a.Offset >= end {
					fail(step, "delivered offset %d past end %d", a.Offset, end)
				}
				if !d.multi() {
					if act, ok := d.Active(); !ok || act != a.Consumer {
						fail(step, "delivered to inactive consumer %d", a.Consumer)
					}
				}
			}
			if d.Type() == KeyShared {
				if err := checkKeyOrder(d, keyOf, as); err != nil {
					fail(step, "%v", err)
				}
			}
			for id, n := range got {
				if n > permits[id] || n > room[id] || (maxUnacked > 0 && unacked[id]+n > maxUnacked) {
					fail(step, "consumer %d got %d messages with %d permits, %d room, %d unacked", id, n, permits[id], room[id], unacked[id])
				}
			}
			// Sometimes the shell cannot deliver one.
			if len(as) > 0 && rng.IntN(8) == 0 {
				a := as[rng.IntN(len(as))]
				d.Cancel(a)
				permitModel[a.Consumer]++
			}
		case op < 65: // ack
			if len(ids) == 0 {
				break
			}
			id := ids[rng.IntN(len(ids))]
			var off uint64
			if out := outstanding(); len(out) > 0 && rng.IntN(4) > 0 {
				off = out[rng.IntN(len(out))].Offset
			} else {
				off = uint64(rng.IntN(int(end) + 3))
			}
			ignored := stale(off)
			if rng.IntN(5) == 0 {
				callErr = d.AckCumulative(id, off)
				if callErr == nil && !ignored {
					ackModel(0, off+1)
				}
			} else {
				callErr = d.Ack(id, off)
				if callErr == nil && !ignored {
					model.acked[off] = true
				}
			}
			if ignored && callErr == nil && !reflect.DeepEqual(before, snapshot()) {
				fail(step, "a stale ack of %d changed state", off)
			}
			if callErr != nil && !errors.Is(callErr, ErrUnknownMessage) && !errors.Is(callErr, ErrCumulativeAckShared) {
				fail(step, "ack: unexpected error %v", callErr)
			}
		case op < 75: // nack
			if out := outstanding(); len(out) > 0 {
				a := out[rng.IntN(len(out))]
				if err := d.Nack(a.Consumer, a.Offset, now); err != nil {
					fail(step, "Nack of outstanding %d: %v", a.Offset, err)
				}
			}
		case op < 85: // time passes
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			d.Tick(now)
		case op < 92: // dead letters
			for _, dl := range d.TakeDeadLetters() {
				inflightDead = append(inflightDead, dl.Offset)
			}
			if len(inflightDead) > 0 {
				i := rng.IntN(len(inflightDead))
				off := inflightDead[i]
				inflightDead = append(inflightDead[:i], inflightDead[i+1:]...)
				if rng.IntN(3) == 0 {
					d.DeadLetterFailed(off, now.Add(time.Second))
				} else if d.DeadLettered(off) {
					model.acked[off] = true
				}
			}
		case op < 96: // skip
			n := rng.IntN(4)
			k, err := d.Skip(n)
			if err != nil {
				fail(step, "Skip: %v", err)
			}
			for o := uint64(0); k > 0 && o < end; o++ {
				if !model.acked[o] {
					model.acked[o] = true
					k--
				}
			}
			if k != 0 {
				fail(step, "Skip reported more than the backlog")
			}
		default: // seek
			to := d.Seek(uint64(rng.IntN(int(end) + 3)))
			for o := range model.acked {
				if o >= to {
					delete(model.acked, o)
				}
			}
			ackModel(0, to)
			inflightDead = inflightDead[:0]
		}
		if callErr != nil {
			if after := snapshot(); !reflect.DeepEqual(before, after) {
				fail(step, "failed call (%v) changed state:\n%v\n%v", callErr, before, after)
			}
		}
		if d.ReadPosition() < readBefore {
			rewound = max(rewound, readBefore)
		}
		if err := d.checkInvariants(); err != nil {
			fail(step, "invariant: %v", err)
		}
		for o := uint64(0); o < end; o++ {
			if d.IsAcked(o) != model.acked[o] {
				fail(step, "offset %d: dispatcher acked=%v, model acked=%v", o, d.IsAcked(o), model.acked[o])
			}
		}
		for _, c := range d.Stats().Consumers {
			if c.Permits != permitModel[c.ID] {
				fail(step, "consumer %d has %d permits, model says %d", c.ID, c.Permits, permitModel[c.ID])
			}
		}
		if t.Failed() {
			return false
		}
	}

	// Drain: one consumer, plenty of permits, ack everything, let time pass.
	for _, id := range ids {
		_ = d.RemoveConsumer(id)
	}
	id, err := d.AddConsumer(ConsumerConfig{Name: "drain", Type: d.Type(), Permits: 1 << 20})
	if err != nil {
		fail(steps, "drain consumer: %v", err)
		return false
	}
	for round := 0; ; round++ {
		if round > 100 {
			fail(steps, "drain did not finish: %+v", d.Stats())
			return false
		}
		now = now.Add(time.Minute)
		d.Tick(now)
		for _, dl := range d.TakeDeadLetters() {
			d.DeadLettered(dl.Offset)
		}
		for _, off := range inflightDead {
			d.DeadLettered(off)
		}
		inflightDead = nil
		for _, a := range dispatch(now, nil, 1<<20) {
			if err := d.Ack(id, a.Offset); err != nil {
				fail(steps, "drain ack: %v", err)
			}
		}
		if d.MarkDelete() == end {
			break
		}
	}
	return true
}

// dispatchWithKeys runs Dispatch the way the shell does: on Key_Shared
// subscriptions it first feeds the keys the dispatcher asks for, and goes
// on while MoreKeys says so.
func dispatchWithKeys(d *Dispatcher, keyOf func(uint64) string, now time.Time, room func(ConsumerID) int, maxMessages int) []Assignment {
	var out []Assignment
	given := map[ConsumerID]int{} // room is what was left before this call
	roomLeft := func(id ConsumerID) int {
		if room == nil {
			return math.MaxInt
		}
		return room(id) - given[id]
	}
	for {
		if from, n := d.KeysWanted(maxMessages); n > 0 {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = keyOf(from + uint64(i))
			}
			d.LearnKeys(from, keys)
		}
		as := d.Dispatch(now, roomLeft, maxMessages-len(out))
		for _, a := range as {
			given[a.Consumer]++
		}
		out = append(out, as...)
		if len(out) >= maxMessages || !d.MoreKeys() {
			return out
		}
	}
}

// checkKeyOrder checks Key_Shared's ordering rule for a batch of
// assignments just made: every unacknowledged message of the same key below
// an assigned one is outstanding at the same consumer.
func checkKeyOrder(d *Dispatcher, keyOf func(uint64) string, as []Assignment) error {
	for _, a := range as {
		k := keyOf(a.Offset)
		for o := d.markDelete; o < a.Offset; o++ {
			if keyOf(o) != k || d.IsAcked(o) {
				continue
			}
			if !d.Outstanding(a.Consumer, o) {
				return fmt.Errorf("offset %d (key %q) went to consumer %d while offset %d of that key is unacknowledged and not held by it", a.Offset, k, a.Consumer, o)
			}
		}
	}
	return nil
}

// TestQueuesStayBounded: lazily deleted queue entries do not pile up when
// one message stays outstanding while many others are delivered and acked.
func TestQueuesStayBounded(t *testing.T) {
	d, err := NewDispatcher(DispatcherConfig{Name: "b", Type: Shared}, CursorState{}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.AddConsumer(ConsumerConfig{Name: "a", Type: Shared, Permits: maxPermits, AckTimeout: time.Hour, NackDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	d.LogEnd(1)
	d.Dispatch(epoch, nil, 1) // offset 0 stays outstanding
	for i := uint64(1); i < 10_000; i++ {
		d.LogEnd(i + 1)
		for _, a := range d.Dispatch(epoch, nil, 10) {
			if i%2 == 0 {
				if err := d.Nack(id, a.Offset, epoch); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Ack(id, a.Offset); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := d.consumers[id]
	if len(c.timeouts) > 200 || len(d.delayed) > 200 || len(d.msgs) != 1 {
		t.Fatalf("timeouts %d, delayed %d, tracked %d", len(c.timeouts), len(d.delayed), len(d.msgs))
	}
}
