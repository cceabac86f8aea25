package shell

import (
	"fmt"
	"slices"
	"testing"

	"github.com/causeway/causeway/replicator"
)

// TestMergeApplied: ops come back in the order they were first applied
// while that order is recorded, dense and causal; mergeApplied stops at
// the first gap (an op whose journal write a crash lost), at an op with no
// order (journaled before orders were recorded) or at one whose
// dependencies are not applied, and leaves the rest to mergeCausal.
func TestMergeApplied(t *testing.T) {
	type op struct {
		order uint64
		deps  replicator.Vector
	}
	tests := []struct {
		name    string
		applied replicator.Vector
		ops     map[string][]op
		want    []string
	}{
		{"interleaved as applied", nil, map[string][]op{
			"a": {{1, nil}, {3, nil}, {4, nil}},
			"b": {{2, nil}, {5, replicator.Vector{"a": 3}}},
		}, []string{"a:1", "b:1", "a:2", "a:3", "b:2"}},
		{"from a watermark", replicator.Vector{"a": 2, "b": 1}, map[string][]op{
			"a": {{9, nil}},
			"b": {{8, nil}, {10, nil}},
		}, []string{"b:2", "a:3", "b:3"}},
		{"a gap stops", nil, map[string][]op{
			"a": {{1, nil}, {2, nil}, {5, nil}},
			"b": {{3, nil}, {6, nil}},
		}, []string{"a:1", "a:2", "b:1"}},
		{"no order recorded", nil, map[string][]op{
			"a": {{0, nil}, {0, nil}},
		}, nil},
		{"dependency missing stops", nil, map[string][]op{
			"a": {{1, nil}},
			"b": {{2, replicator.Vector{"a": 1, "c": 4}}},
		}, []string{"a:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cursors := map[string]restoreCursor{}
			for o, ops := range tc.ops {
				c := &sliceCursor{}
				for i, p := range ops {
					c.ops = append(c.ops, restoreOp{Seq: tc.applied[o] + 1 + uint64(i), Deps: p.deps, Order: p.order})
				}
				cursors[o] = c
			}
			var got []string
			end, err := mergeApplied(tc.applied, cursors, func(o string, op *restoreOp) error {
				got = append(got, fmt.Sprintf("%s:%d", o, op.Seq))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("applied %v, want %v", got, tc.want)
			}
			for o, c := range cursors {
				if n := uint64(c.(*sliceCursor).i); end[o] != tc.applied[o]+n {
					t.Errorf("%s: end %d after %d ops from %d", o, end[o], n, tc.applied[o])
				}
			}
		})
	}
}
