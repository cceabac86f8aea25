package shell

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/causeway/causeway/replicator"
)

// sliceCursor is a restoreCursor over ops in memory.
type sliceCursor struct {
	ops []restoreOp
	i   int
}

func (c *sliceCursor) Peek() (*restoreOp, error) {
	if c.i >= len(c.ops) {
		return nil, nil
	}
	return &c.ops[c.i], nil
}

func (c *sliceCursor) Next() { c.i++ }

// cursorsOf builds cursors where ops[o] lists the dependency vectors of
// o's ops from seq from[o]+1 on.
func cursorsOf(from replicator.Vector, ops map[string][]replicator.Vector) map[string]restoreCursor {
	out := map[string]restoreCursor{}
	for o, deps := range ops {
		c := &sliceCursor{}
		for i, d := range deps {
			c.ops = append(c.ops, restoreOp{Seq: from[o] + 1 + uint64(i), Deps: d})
		}
		out[o] = c
	}
	return out
}

func TestMergeCausal(t *testing.T) {
	v := func(kv ...any) replicator.Vector {
		out := replicator.Vector{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = uint64(kv[i+1].(int))
		}
		return out
	}
	tests := []struct {
		name    string
		applied replicator.Vector
		ops     map[string][]replicator.Vector
		order   []string
		cut     replicator.Vector
	}{
		{"nothing", v("x", 3), nil, nil, v("x", 3)},
		{"one remote origin", nil, map[string][]replicator.Vector{"x": {{}, {}}}, []string{"x:1", "x:2"}, v("x", 2)},
		{"interleaved", nil, map[string][]replicator.Vector{
			"x": {{}, v("y", 1)}, "y": {v("x", 1)}}, []string{"x:1", "y:1", "x:2"}, v("x", 2, "y", 1)},
		{"dependency lost in a crash", v("y", 2), map[string][]replicator.Vector{
			"x": {v("y", 1), v("y", 3), v("y", 3)}}, []string{"x:1"}, v("x", 1, "y", 2)},
		{"own op kept without its dependency", v("y", 2), map[string][]replicator.Vector{
			"self": {v("y", 1), v("y", 3)}}, []string{"self:1", "self:2"}, v("self", 2, "y", 2)},
		{"remote op after a forced own op", nil, map[string][]replicator.Vector{
			"self": {v("y", 1)}, "r": {v("self", 1)}}, []string{"self:1", "r:1"}, v("self", 1, "r", 1)},
		{"watermark counts as applied", v("x", 5), map[string][]replicator.Vector{
			"y": {v("x", 5)}, "x": {v("y", 1)}}, []string{"y:1", "x:6"}, v("x", 6, "y", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var order []string
			cut, err := mergeCausal("self", tc.applied, cursorsOf(tc.applied, tc.ops), func(o string, op *restoreOp) error {
				order = append(order, fmt.Sprintf("%s:%d", o, op.Seq))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(order, tc.order) || !cut.Equal(tc.cut) {
				t.Fatalf("order %v cut %v, want %v %v", order, cut, tc.order, tc.cut)
			}
		})
	}
}

func TestMergeCausalErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := mergeCausal("self", nil, cursorsOf(nil, map[string][]replicator.Vector{"x": {{}}}),
		func(string, *restoreOp) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("apply error: %v", err)
	}
	gap := map[string]restoreCursor{"x": &sliceCursor{ops: []restoreOp{{Seq: 2}}}}
	if _, err := mergeCausal("self", nil, gap, func(string, *restoreOp) error { return nil }); !errors.Is(err, ErrJournal) {
		t.Fatalf("gap: %v", err)
	}
}

// TestMergeCausalProperty generates causal histories of three regions,
// cuts every journal at a random point (a crash with writes in flight) and
// checks that the merge applies ops in causal order (own ops aside), that
// the cut of remote origins is consistent and maximal, and that every own
// op is applied.
func TestMergeCausalProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	origins := []string{"self", "x", "y"}
	for iter := range 500 {
		// History: each op's deps are its origin's view when created.
		view := map[string]replicator.Vector{}
		ops := map[string][]replicator.Vector{}
		for _, o := range origins {
			view[o] = replicator.Vector{}
		}
		for range 20 + rng.IntN(40) {
			o := origins[rng.IntN(3)]
			if rng.IntN(2) == 0 { // o learns what another region delivered
				from := origins[rng.IntN(3)]
				view[o].Merge(view[from])
				continue
			}
			deps := view[o].Clone()
			delete(deps, o)
			ops[o] = append(ops[o], deps)
			view[o][o] = uint64(len(ops[o]))
		}
		applied := replicator.Vector{}
		trunc := map[string][]replicator.Vector{}
		for _, o := range origins {
			n := len(ops[o])
			if n == 0 {
				continue
			}
			trunc[o] = ops[o][:rng.IntN(n+1)]
		}
		var order []string
		at := map[string]int{}
		cut, err := mergeCausal("self", applied, cursorsOf(applied, trunc), func(o string, op *restoreOp) error {
			if o != "self" && !depsApplied(o, op.Deps, vectorOf(at)) {
				return fmt.Errorf("%s:%d applied before its dependencies %v (applied %v)", o, op.Seq, op.Deps, at)
			}
			at[o] = int(op.Seq)
			order = append(order, fmt.Sprintf("%s:%d", o, op.Seq))
			return nil
		})
		if err != nil {
			t.Fatalf("iteration %d (seed %d): %v", iter, seed, err)
		}
		if cut["self"] != uint64(len(trunc["self"])) {
			t.Fatalf("iteration %d (seed %d): own ops applied %d of %d", iter, seed, cut["self"], len(trunc["self"]))
		}
		for _, o := range []string{"x", "y"} {
			if next := int(cut[o]); next < len(trunc[o]) && depsApplied(o, trunc[o][next], cut) {
				t.Fatalf("iteration %d (seed %d): cut %v not maximal: %s:%d could go", iter, seed, cut, o, next+1)
			}
		}
	}
}

func vectorOf(m map[string]int) replicator.Vector {
	v := replicator.Vector{}
	for k, n := range m {
		v[k] = uint64(n)
	}
	return v
}
