package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator/shell"
)

// batchNames are the regions of the batch tests: x and y write, p only
// applies what they made.
var batchNames = []string{"p", "x", "y"}

// batchKeys are the document keys the batch tests write.
var batchKeys = []string{"k1", "k2", "k3", "k4", "k5"}

// newLoneRegion starts region self of a fabric of names with nobody else
// running: the test hands it payloads itself.
func newLoneRegion(t *testing.T, self string, names []string) *fakeRegion {
	t.Helper()
	f := &fakeFabric{t: t, rng: rand.New(rand.NewPCG(1, 2)), names: names, regions: map[string]*fakeRegion{},
		down: map[[2]string]bool{}, changed: make(chan struct{}, 1)}
	r := &fakeRegion{f: f, name: self, dir: t.TempDir(), delivered: map[string]uint64{},
		clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	f.regions[self] = r
	r.start()
	t.Cleanup(r.stop)
	return r
}

// batchHistory makes x and y write three collections, partitioned for a
// while (a same-attribute conflict, concurrent increments, an update
// concurrent with a delete, writes concurrent with a drop), with index and
// collection changes among the document ops, and returns what they
// published in a causal order picked by rng.
func batchHistory(t *testing.T, seed uint64) []shell.KindItem {
	t.Helper()
	f := newFakeFabric(t, seed, "x", "y")
	x, y := f.regions["x"], f.regions["y"]
	a, b, c := sysRef("a"), sysRef("b"), sysRef("c")
	num := func(n int) json.Number { return json.Number(fmt.Sprint(n)) }
	inc := func(n int) map[string]any { return map[string]any{"$inc": num(n)} }
	patch := func(key string, doc map[string]any) Write {
		return Write{Kind: Update, Key: key, Doc: doc, KeepNull: true, MergeObjects: true}
	}
	for _, name := range []string{"a", "b"} {
		if _, err := x.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	var ins []Write
	for i, k := range batchKeys {
		ins = append(ins, Write{Kind: Insert, Key: k, Doc: map[string]any{"n": num(i), "v": "x0"}})
	}
	x.write(a, ins...)
	x.write(b, ins[:2]...)
	f.settle()

	f.partition(true, []string{"x"}, []string{"y"})
	x.clock.Advance(time.Second)
	y.clock.Advance(2 * time.Second)
	// k1 touched twice in one request and again in another; y's v is the
	// later one, x's stays as a conflict.
	x.write(a, patch("k1", map[string]any{"v": "x1"}), patch("k1", map[string]any{"w": num(1), "n": inc(1)}))
	x.write(a, patch("k1", map[string]any{"n": inc(2)}))
	y.write(a, patch("k1", map[string]any{"v": "y1", "n": inc(10)}))
	x.write(a, patch("k2", map[string]any{"gone": nil}), Write{Kind: Delete, Key: "k3"})
	y.write(a, patch("k3", map[string]any{"back": "y"}))
	y.write(b, patch("k1", map[string]any{"late": "y"}))
	if _, err := x.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	x.write(c, Write{Kind: Insert, Key: "k1", Doc: map[string]any{"n": num(1)}}, patch("k1", map[string]any{"n": inc(1)}))
	if _, _, err := x.svc.CreateIndex(a, "byV", "v"); err != nil {
		t.Fatal(err)
	}
	if err := x.svc.DropCollection(b); err != nil {
		t.Fatal(err)
	}
	y.write(a, patch("k4", map[string]any{"y": "1"}), patch("k5", map[string]any{"y": "1"}), patch("k4", map[string]any{"y": "2"}))
	f.settle()

	f.partition(false, []string{"x"}, []string{"y"})
	f.settle()
	x.write(a, Write{Kind: Delete, Key: "k5"}, patch("k4", map[string]any{"after": "x"}))
	y.write(c, patch("k1", map[string]any{"n": inc(5)}), Write{Kind: Insert, Key: "k2", Doc: map[string]any{"y": "c"}})
	y.write(a, patch("k2", map[string]any{"z": num(3)}))
	f.settle()

	// x's and y's logs in a causal order.
	rng := rand.New(rand.NewPCG(seed, 77))
	logs := map[string][]fakeEntry{"x": slices.Clone(x.log), "y": slices.Clone(y.log)}
	next := map[string]int{}
	var items []shell.KindItem
	for {
		var ready []string
		for _, o := range []string{"x", "y"} {
			if next[o] >= len(logs[o]) {
				continue
			}
			e := logs[o][next[o]]
			ok := true
			for d, s := range e.deps {
				if d != o && uint64(next[d]) < s {
					ok = false
				}
			}
			if ok {
				ready = append(ready, o)
			}
		}
		if len(ready) == 0 {
			break
		}
		o := ready[rng.IntN(len(ready))]
		e := logs[o][next[o]]
		next[o]++
		items = append(items, shell.KindItem{Origin: o, Seq: e.seq, Payload: e.payload})
	}
	if len(items) != len(logs["x"])+len(logs["y"]) {
		t.Fatalf("%d items of %d", len(items), len(logs["x"])+len(logs["y"]))
	}
	return items
}

// withOddItems adds what a batch must also get right: a payload that does
// not decode, one applied before (same origin and seq), an op applied
// before under a new seq (the collection's vector covers it) and an op
// shipped by another origin.
func withOddItems(t *testing.T, items []shell.KindItem) []shell.KindItem {
	t.Helper()
	var xop shell.KindItem
	for _, it := range items {
		if p, err := decodeReplPayload(it.Payload); err == nil && p.Op != nil && it.Origin == "x" {
			xop = it
			break
		}
	}
	if xop.Origin == "" {
		t.Fatal("no document op of x")
	}
	mid := len(items) / 2
	out := slices.Clone(items[:mid])
	out = append(out, shell.KindItem{Origin: items[mid].Origin, Seq: items[mid].Seq, Payload: []byte{replPayloadVersion, 9}})
	out = append(out, items[mid-1], items[mid/2])
	out = append(out, items[mid:]...)
	return append(out,
		shell.KindItem{Origin: "x", Seq: 1 << 40, Payload: xop.Payload},
		shell.KindItem{Origin: "y", Seq: 1 << 40, Payload: xop.Payload})
}

// applyOneByOne applies items with ApplyReplicated, one after another.
func applyOneByOne(r *fakeRegion, items []shell.KindItem) []error {
	errs := make([]error, len(items))
	for i, it := range items {
		r.applyMu.Lock()
		errs[i] = r.svc.ApplyReplicated(it.Origin, it.Seq, it.Payload)
		r.applyMu.Unlock()
	}
	return errs
}

// applyBatches applies items with ApplyReplicatedBatch, in batches of the
// given sizes (the last one takes the rest).
func applyBatches(r *fakeRegion, items []shell.KindItem, sizes ...int) []error {
	var errs []error
	for len(items) > 0 {
		n := len(items)
		if len(sizes) > 0 {
			n, sizes = min(sizes[0], n), sizes[1:]
		}
		r.applyMu.Lock()
		errs = append(errs, r.svc.ApplyReplicatedBatch(items[:n])...)
		r.applyMu.Unlock()
		items = items[n:]
	}
	return errs
}

// viewState describes what a region holds of the batch tests'
// collections: descriptions, indexes, documents and their conflicts.
func viewState(t *testing.T, r *fakeRegion) string {
	t.Helper()
	var sb strings.Builder
	for _, name := range []string{"a", "b", "c"} {
		ref := sysRef(name)
		info, err := r.svc.Collection(ref)
		if errors.Is(err, ErrCollectionNotFound) {
			fmt.Fprintf(&sb, "%s: none\n", name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ixs, err := r.svc.Indexes(ref)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s: type %d kv %v indexes %d", name, info.Type, info.KeyValue, len(ixs))
		for _, ix := range ixs {
			fmt.Fprintf(&sb, " %s(%s)", ix.Name, ix.Field)
		}
		sb.WriteString("\n")
		for _, k := range batchKeys {
			raw, _, err := r.svc.Document(ref, k)
			switch {
			case errors.Is(err, ErrDocumentNotFound):
				fmt.Fprintf(&sb, "  %s: none\n", k)
			case err != nil:
				t.Fatal(err)
			default:
				fmt.Fprintf(&sb, "  %s: %s conflicts %s\n", k, raw, conflictsString(r, ref, k))
			}
		}
	}
	return sb.String()
}

func errStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, err := range errs {
		out[i] = fmt.Sprint(err)
	}
	return out
}

// TestApplyReplicatedBatchMatchesOneByOne applies one history of two
// regions (several collections, metadata events among the document ops,
// documents touched several times, a payload that does not decode,
// payloads applied before, an op shipped by the wrong origin) one payload
// at a time, as one batch, and in random batches, and checks the per-item
// results, documents, conflicts and indexes are identical.
func TestApplyReplicatedBatchMatchesOneByOne(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Logf("seed %d (replay with -run %s)", seed, t.Name())
			items := withOddItems(t, batchHistory(t, seed))
			one, whole, split := newLoneRegion(t, "p", batchNames), newLoneRegion(t, "p", batchNames), newLoneRegion(t, "p", batchNames)
			want := errStrings(applyOneByOne(one, items))
			wantState := viewState(t, one)
			rng := rand.New(rand.NewPCG(seed, 99))
			var sizes []int
			for range len(items) {
				sizes = append(sizes, 1+rng.IntN(40))
			}
			for _, tc := range []struct {
				name string
				r    *fakeRegion
				errs []error
			}{
				{"one batch", whole, applyBatches(whole, items)},
				{"random batches", split, applyBatches(split, items, sizes...)},
			} {
				got := errStrings(tc.errs)
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s: item %d (%s:%d): %s, one by one: %s", tc.name, i, items[i].Origin, items[i].Seq, got[i], want[i])
					}
				}
				if st := viewState(t, tc.r); st != wantState {
					t.Errorf("%s: state\n%s\none by one:\n%s", tc.name, st, wantState)
				}
			}
			// The history is not trivial.
			for _, s := range []string{"conflicts [v]=\"x1\"@x;", "k3: {", "b: none", "c: type", "byV(v)"} {
				if !strings.Contains(wantState, s) {
					t.Errorf("state lacks %q:\n%s", s, wantState)
				}
			}
			if bad := slices.IndexFunc(want, func(s string) bool { return strings.Contains(s, "corrupt") }); bad < 0 {
				t.Errorf("no item failed: %v", want)
			}
		})
	}
}

// TestApplyReplicatedBatchAfterCrash: a crash after a batch's entries are
// in the op log but before the replicated vector is saved makes the shell
// apply the batch again after the restart; it changes nothing. The same
// holds for the whole history applied again over the view.
func TestApplyReplicatedBatchAfterCrash(t *testing.T) {
	items := withOddItems(t, batchHistory(t, 3))
	one := newLoneRegion(t, "p", batchNames)
	applyOneByOne(one, items)
	wantState := viewState(t, one)

	r := newLoneRegion(t, "p", batchNames)
	cut := len(items) * 2 / 3
	applyBatches(r, items[:cut])
	before, err := r.svc.store.ReplApplied()
	if err != nil {
		t.Fatal(err)
	}
	applyBatches(r, items[cut:])
	for _, rollback := range []map[string]uint64{before, {}} {
		if err := r.svc.store.SetReplApplied(rollback, true); err != nil {
			t.Fatal(err)
		}
		r.stop()
		r.start()
		from := cut
		if len(rollback) == 0 {
			from = 0
		}
		applyBatches(r, items[from:])
		if st := viewState(t, r); st != wantState {
			t.Fatalf("re-applied from item %d after a restart:\n%s\nwant:\n%s", from, st, wantState)
		}
	}
}

// TestApplyReplicatedBatchAcrossDomains: the node's domain and a pinned
// fabric's number an origin's ops separately, each from 1; a history
// delivered through two domains, interleaved, ends in the view it ends in
// through one (no op taken as applied because the other domain's
// sequence for its origin is higher).
func TestApplyReplicatedBatchAcrossDomains(t *testing.T) {
	items := batchHistory(t, 1)
	one, two := newLoneRegion(t, "p", batchNames), newLoneRegion(t, "p", batchNames)
	applyBatches(one, items)
	split := make([]shell.KindItem, len(items))
	next := map[string]uint64{}
	for i, it := range items {
		if i%3 == 1 {
			it.Domain = "p,x,y"
		}
		next[it.Origin+"@"+it.Domain]++
		it.Seq = next[it.Origin+"@"+it.Domain]
		split[i] = it
	}
	applyBatches(two, split, 5)
	if got, want := viewState(t, two), viewState(t, one); got != want {
		t.Errorf("through two domains:\n%s\nthrough one:\n%s", got, want)
	}
}
