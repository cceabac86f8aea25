package replicator

import (
	"slices"
	"testing"
)

func TestVectorCompare(t *testing.T) {
	tests := []struct {
		name         string
		v, w         Vector
		lessEq, eq   bool
		merged       Vector
		diffWFromV   []Entry
		appliedDiffs Vector
	}{
		{"empty", Vector{}, Vector{}, true, true, Vector{}, nil, Vector{}},
		{"nil vs zero entry", nil, Vector{"a": 0}, true, true, Vector{}, nil, Vector{}},
		{"before", Vector{"a": 1}, Vector{"a": 2, "b": 1}, true, false, Vector{"a": 2, "b": 1},
			[]Entry{{"a", 2}, {"b", 1}}, Vector{"a": 2, "b": 1}},
		{"after", Vector{"a": 3}, Vector{"a": 2}, false, false, Vector{"a": 3}, nil, Vector{"a": 3}},
		{"concurrent", Vector{"a": 1, "b": 0}, Vector{"b": 1}, false, false, Vector{"a": 1, "b": 1},
			[]Entry{{"b", 1}}, Vector{"a": 1, "b": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.LessEq(tc.w); got != tc.lessEq {
				t.Errorf("LessEq = %v, want %v", got, tc.lessEq)
			}
			if got := tc.v.Equal(tc.w); got != tc.eq {
				t.Errorf("Equal = %v, want %v", got, tc.eq)
			}
			m := tc.v.Clone()
			m.Merge(tc.w)
			if !m.Equal(tc.merged) {
				t.Errorf("Merge = %v, want %v", m, tc.merged)
			}
			d := Diff(tc.v, tc.w)
			if !slices.Equal(d, tc.diffWFromV) {
				t.Errorf("Diff = %v, want %v", d, tc.diffWFromV)
			}
			if got := Apply(tc.v.Clone(), d); !got.Equal(tc.appliedDiffs) {
				t.Errorf("Apply(Diff) = %v, want %v", got, tc.appliedDiffs)
			}
		})
	}
}

func TestVectorEntriesSortedNonZero(t *testing.T) {
	v := Vector{"c": 3, "a": 1, "b": 0, "d": 7}
	want := []Entry{{"a", 1}, {"c", 3}, {"d", 7}}
	if got := v.Entries(); !slices.Equal(got, want) {
		t.Fatalf("Entries = %v, want %v", got, want)
	}
	if got := Apply(nil, want); !got.Equal(v) {
		t.Fatalf("Apply(nil, Entries) = %v, want %v", got, v)
	}
	c := v.Clone()
	c["a"] = 9
	if v["a"] != 1 {
		t.Fatal("Clone shares storage")
	}
}
