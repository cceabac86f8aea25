package collections

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	propSeed  = flag.Uint64("collections.seed", 0, "first seed of the property tests (0: from the clock)")
	propSeeds = flag.Int("collections.seeds", 400, "number of seeds the property tests run")
)

// replica is a fresh region fed the whole history: it applies ops as the
// replicator would hand them over, and compacts when asked, keeping the
// floor under which ops are known duplicates.
type replica struct {
	docs      map[string]*Doc
	delivered Vector
	floor     Vector
}

func newReplica() *replica { return &replica{docs: map[string]*Doc{}} }

func (rp *replica) deliver(t testing.TB, op Op) bool {
	if rp.floor.Covers(op.Dot) {
		return false
	}
	d := rp.docs[op.Key]
	if d == nil {
		d = NewDoc(op.Collection, op.Key)
		rp.docs[op.Key] = d
	}
	applied := mustApply(t, d, op)
	rp.delivered.raise(op.Dot.Region, op.Dot.Seq)
	mustRoundTrip(t, d)
	return applied
}

// compact compacts every document at stable, checking that nothing visible
// changes, and drops the documents that are gone.
func (rp *replica) compact(t testing.TB, stable Vector) {
	for key, d := range rp.docs {
		before := snapshot(t, d)
		if d.Compact(stable) {
			if d.Exists() {
				t.Fatalf("compaction dropped live document %s", key)
			}
			delete(rp.docs, key)
			continue
		}
		mustRoundTrip(t, d)
		if after := snapshot(t, d); after != before {
			t.Fatalf("compaction at %s changed document %s:\nbefore %s\nafter  %s", stable, key, before, after)
		}
	}
	rp.floor = rp.floor.Merge(stable)
}

// snapshot renders everything a reader can see of a document.
func snapshot(t testing.TB, d *Doc) string {
	return fmt.Sprintf("exists=%v attrs=%s rev=%s expires=%d conflicts=%q", d.Exists(), attrs(t, d), d.Rev(), d.ExpiresAt(), conflictStrings(d))
}

// encodings returns each document's binary state, by key.
func (rp *replica) encodings() map[string][]byte {
	out := map[string][]byte{}
	for k, d := range rp.docs {
		out[k] = d.AppendBinary(nil)
	}
	return out
}

// mustRoundTrip checks that d's binary state decodes (the store reads back
// every state it writes) to a state that encodes identically.
func mustRoundTrip(t testing.TB, d *Doc) {
	t.Helper()
	enc := d.AppendBinary(nil)
	back, err := DecodeDoc(enc)
	if err != nil {
		t.Fatalf("state of %s does not decode: %v\n%s", d.ID(), err, d.debugString())
	}
	if again := back.AppendBinary(nil); !bytes.Equal(again, enc) {
		t.Fatalf("state of %s re-encodes differently", d.ID())
	}
}

// stableVector is what a replica may compact with: everything it delivered
// that every op still to come has in its context.
func stableVector(delivered Vector, pending []Op) Vector {
	s := slices.Clone(delivered)
	for i := range s {
		for j := range pending {
			s[i].Seq = min(s[i].Seq, pending[j].Context.Get(s[i].Region))
		}
	}
	return slices.DeleteFunc(s, func(e VectorEntry) bool { return e.Seq == 0 })
}

// deliverAll feeds ops to rp in a random causally valid order, re-delivering
// already delivered ops now and then (which must change nothing), and, when
// compactEvery > 0, compacting at the stable vector about that often.
func deliverAll(t testing.TB, rng *rand.Rand, rp *replica, ops []Op, compactEvery int) {
	pending := slices.Clone(ops)
	var done []Op
	for len(pending) > 0 {
		if len(done) > 0 && rng.IntN(5) == 0 {
			dup := done[rng.IntN(len(done))]
			before := rp.docs[dup.Key]
			var enc []byte
			if before != nil {
				enc = before.AppendBinary(nil)
			}
			if rp.deliver(t, dup) {
				t.Fatalf("duplicate of %s applied", dup.Dot)
			}
			if before != nil && !bytes.Equal(enc, before.AppendBinary(nil)) {
				t.Fatalf("duplicate of %s changed the state", dup.Dot)
			}
			continue
		}
		var ready []int
		for i := range pending {
			if deliverable(rp.delivered, &pending[i]) {
				ready = append(ready, i)
			}
		}
		i := ready[rng.IntN(len(ready))]
		op := pending[i]
		pending = slices.Delete(pending, i, i+1)
		if !rp.deliver(t, op) {
			t.Fatalf("first delivery of %s reported as a duplicate", op.Dot)
		}
		done = append(done, op)
		if compactEvery > 0 && rng.IntN(compactEvery) == 0 {
			rp.compact(t, stableVector(rp.delivered, pending))
		}
	}
}

func opsOfKey(ops []Op, key string) []Op {
	var out []Op
	for _, op := range ops {
		if op.Key == key {
			out = append(out, op)
		}
	}
	return out
}

// propertyCounts tallies how often the survival properties were exercised,
// so a generator that stops producing the interesting cases is noticed.
type propertyCounts struct {
	updateVsDelete, counters, counterIncs, laterWins, compactions int
}

// TestConvergenceAndSurvival runs random fabrics of 2 to 5 regions, then
// replays their history into fresh replicas in many random causal orders
// with duplicates (some compacting as they go), and checks that all end in
// the same state, that the state matches the declarative rules (oracle), and
// the survival properties: updates concurrent with a delete survive, no
// increment is lost, causally later writes win.
func TestConvergenceAndSurvival(t *testing.T) {
	base := *propSeed
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	seeds := *propSeeds
	if testing.Short() || raceEnabled {
		seeds = max(1, seeds/4)
	}
	t.Logf("seeds %d..%d (rerun one with -collections.seed=N -collections.seeds=1)", base, base+uint64(seeds)-1)
	var counts propertyCounts
	for i := range seeds {
		seed := base + uint64(i)
		ok := t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			checkHistory(t, seed, &counts)
		})
		if !ok {
			t.Fatalf("failed at seed %d: rerun with -run TestConvergenceAndSurvival -collections.seed=%d -collections.seeds=1", seed, seed)
		}
	}
	t.Logf("exercised: %+v", counts)
	if counts.updateVsDelete == 0 || counts.counterIncs == 0 || counts.laterWins == 0 || counts.compactions == 0 {
		t.Fatalf("the generator no longer exercises every property: %+v", counts)
	}
}

func checkHistory(t *testing.T, seed uint64, counts *propertyCounts) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := newSim(t, rng, 2+rng.IntN(4))
	steps := 60 + rng.IntN(120)
	if rng.IntN(8) == 0 {
		steps = 500 // a long history now and then
	}
	s.run(steps)

	// The simulated regions themselves converged.
	want := map[string][]byte{}
	for _, key := range s.keys {
		for _, r := range s.regions {
			d := r.docs[key]
			if d == nil {
				continue
			}
			enc := d.AppendBinary(nil)
			if w, ok := want[key]; !ok {
				want[key] = enc
			} else if !bytes.Equal(w, enc) {
				t.Fatalf("regions %s and %s diverge on %s", s.regions[0].name, r.name, key)
			}
		}
	}

	// Fresh replicas, fed in random orders with duplicates, end identical.
	var compacted []*replica
	for n := range 6 {
		rp := newReplica()
		compactEvery := 0
		if n >= 3 {
			compactEvery = 1 + n*3
		}
		deliverAll(t, rng, rp, s.ops, compactEvery)
		if compactEvery > 0 {
			compacted = append(compacted, rp)
			counts.compactions++
			continue
		}
		got := rp.encodings()
		if len(got) != len(want) {
			t.Fatalf("replica %d holds %d documents, regions %d", n, len(got), len(want))
		}
		for key, enc := range got {
			if !bytes.Equal(enc, want[key]) {
				t.Fatalf("replica %d diverges on %s", n, key)
			}
		}
	}

	// Against the rules, stated over the whole history.
	reference := newReplica()
	for _, op := range s.ops {
		reference.deliver(t, op)
	}
	for _, key := range s.keys {
		ops := opsOfKey(s.ops, key)
		d := reference.docs[key]
		if d == nil {
			continue
		}
		checkOracle(t, d, ops)
		checkUpdateVsDelete(t, d, ops, counts)
		checkCounter(t, d, ops, counts)
		checkLaterWins(t, d, ops, counts)
	}

	// Compaction: replicas that compacted at different points see the same
	// documents, and once all compact at the final stable vector (every op
	// is stable), they hold identical states.
	final := slices.Clone(reference.delivered)
	reference.compact(t, final)
	finalEnc := reference.encodings()
	for i, rp := range compacted {
		rp.compact(t, final)
		got := rp.encodings()
		if len(got) != len(finalEnc) {
			t.Fatalf("compacting replica %d holds %d documents, want %d", i, len(got), len(finalEnc))
		}
		for key, enc := range got {
			if !bytes.Equal(enc, finalEnc[key]) {
				t.Fatalf("compacting replica %d diverges on %s:\n got %s\nwant %s", i, key, snapshot(t, rp.docs[key]), snapshot(t, reference.docs[key]))
			}
		}
	}
}

func checkOracle(t *testing.T, d *Doc, ops []Op) {
	o := computeOracle(t, ops)
	if d.Exists() != o.exists {
		t.Fatalf("%s: exists %v, rules say %v", d.Key(), d.Exists(), o.exists)
	}
	if got := attrs(t, d); got != o.attrs {
		t.Fatalf("%s: document\n got %s\nwant %s (by the rules)", d.Key(), got, o.attrs)
	}
	if got := conflictStrings(d); !slices.Equal(got, o.conflicts) {
		t.Fatalf("%s: conflicts\n got %q\nwant %q (by the rules)", d.Key(), got, o.conflicts)
	}
	if got := d.ExpiresAt(); got != o.expiresAt {
		t.Fatalf("%s: expires at %d, rules say %d", d.Key(), got, o.expiresAt)
	}
}

// checkUpdateVsDelete: each "u<n>" attribute is set once, so only a
// whole-document op can remove it. Unless one observed it, it is in the
// document, whatever deletes ran concurrently.
func checkUpdateVsDelete(t *testing.T, d *Doc, ops []Op, counts *propertyCounts) {
	view := map[string]any{}
	if b, ok := d.JSON(); ok {
		view = decodeJSONObject(t, b)
	}
	for _, x := range ops {
		if x.Kind != KindSet || !strings.HasPrefix(x.Path[0], "u") {
			continue
		}
		observedByDocOp, concurrentDelete := false, false
		for _, y := range ops {
			if !y.Kind.wholeDocument() {
				continue
			}
			if y.Context.Covers(x.Dot) {
				observedByDocOp = true
			} else if y.Kind == KindDelete && !x.Context.Covers(y.Dot) {
				concurrentDelete = true
			}
		}
		got, present := view[x.Path[0]]
		if observedByDocOp {
			if present {
				t.Fatalf("%s: %s=%v survived a whole-document op that observed it", d.Key(), x.Path[0], got)
			}
			continue
		}
		if concurrentDelete {
			counts.updateVsDelete++
		}
		if want := fmt.Sprintf("%s", x.Dot); got != want {
			t.Fatalf("%s: update %s lost (concurrent delete: %v): got %v", d.Key(), x.Dot, concurrentDelete, got)
		}
	}
}

// checkCounter: "cnt" only ever holds integers. Its value is the winning
// surviving set (0 without one) plus every increment that no causally later
// set, unset or whole-document op overrode.
func checkCounter(t *testing.T, d *Doc, ops []Op, counts *propertyCounts) {
	cnt := []string{"cnt"}
	var base *Op
	var baseValue, sum int64
	incs, sets := 0, 0
	for i := range ops {
		x := &ops[i]
		var v json.RawMessage
		switch {
		case x.Kind == KindSet && slices.Equal(x.Path, cnt):
			v = x.Value
		case x.Kind == KindInsert || x.Kind == KindReplace:
			var body map[string]json.RawMessage
			if err := json.Unmarshal(x.Value, &body); err != nil {
				t.Fatal(err)
			}
			v = body["cnt"]
		case x.Kind == KindIncrement && slices.Equal(x.Path, cnt):
			if !overridden(ops, x.Dot, cnt) {
				var delta int64
				if err := json.Unmarshal(x.Value, &delta); err != nil {
					t.Fatal(err)
				}
				sum += delta
				incs++
			}
			continue
		}
		if v == nil || overridden(ops, x.Dot, cnt) {
			continue
		}
		sets++
		if base == nil || x.HLC > base.HLC || (x.HLC == base.HLC && x.Dot.Compare(base.Dot) > 0) {
			base = x
			if err := json.Unmarshal(v, &baseValue); err != nil {
				t.Fatal(err)
			}
		}
	}
	view := map[string]any{}
	if b, ok := d.JSON(); ok {
		view = decodeJSONObject(t, b)
	}
	got, present := view["cnt"]
	if sets == 0 && incs == 0 {
		if present {
			t.Fatalf("%s: cnt=%v, but every write of it was overridden", d.Key(), got)
		}
		return
	}
	counts.counters++
	counts.counterIncs += incs
	if want := json.Number(fmt.Sprint(baseValue + sum)); got != want {
		t.Fatalf("%s: cnt=%v, want %s (base %d + %d surviving increments summing %d)", d.Key(), got, want, baseValue, incs, sum)
	}
}

// checkLaterWins: no value that a causally later op overrode is visible or
// listed as a conflict. Values from ops that overrode were checked by the
// oracle; here every listed conflict is checked against the history.
func checkLaterWins(t *testing.T, d *Doc, ops []Op, counts *propertyCounts) {
	for _, c := range d.Conflicts() {
		if overridden(ops, c.Dot, c.Path) {
			t.Fatalf("%s: conflict %s at %q was overridden by a causally later op", d.Key(), c.Dot, c.Path)
		}
	}
	for _, x := range ops {
		for _, y := range ops {
			if x.Kind == KindSet && y.Kind == KindSet && slices.Equal(x.Path, y.Path) && y.Context.Covers(x.Dot) && y.HLC < x.HLC {
				counts.laterWins++ // a later write with an older clock
			}
		}
	}
}
