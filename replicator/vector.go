package replicator

import (
	"cmp"
	"slices"
)

// Entry is one component of a vector: a region and a count of its
// operations (equivalently the sequence number of the last one).
type Entry struct {
	Region string
	Seq    uint64
}

// Vector maps a region to a count of its operations: for a delivered vector,
// how many of the region's operations were delivered (its seq numbers are
// dense from 1, so this is also the last delivered seq). Missing means 0.
type Vector map[string]uint64

// Clone returns an independent copy.
func (v Vector) Clone() Vector {
	out := make(Vector, len(v))
	for r, s := range v {
		if s != 0 {
			out[r] = s
		}
	}
	return out
}

// LessEq reports whether every component of v is <= the one of w
// (v happened before or equals w).
func (v Vector) LessEq(w Vector) bool {
	for r, s := range v {
		if s > w[r] {
			return false
		}
	}
	return true
}

// Equal reports whether v and w have the same non-zero components.
func (v Vector) Equal(w Vector) bool {
	return v.LessEq(w) && w.LessEq(v)
}

// IsZero reports whether every component of v is 0.
func (v Vector) IsZero() bool {
	for _, s := range v {
		if s != 0 {
			return false
		}
	}
	return true
}

// Merge raises every component of v to at least the one of w.
func (v Vector) Merge(w Vector) {
	for r, s := range w {
		if s > v[r] {
			v[r] = s
		}
	}
}

// Entries returns the non-zero components sorted by region, the canonical
// order used by encoders and tests.
func (v Vector) Entries() []Entry {
	out := make([]Entry, 0, len(v))
	for r, s := range v {
		if s != 0 {
			out = append(out, Entry{Region: r, Seq: s})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Region, b.Region) })
	return out
}

// Diff returns the entries of next that are greater than in prev, sorted by
// region: the delta that turns prev into next when next >= prev. Entries of
// next that are lower than prev are ignored (vectors only grow).
func Diff(prev, next Vector) []Entry {
	var out []Entry
	for r, s := range next {
		if s > prev[r] {
			out = append(out, Entry{Region: r, Seq: s})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Region, b.Region) })
	return out
}

// Apply raises v's components to the entries of delta (absolute values, as
// produced by Diff) and returns v (allocated when nil).
func Apply(v Vector, delta []Entry) Vector {
	if v == nil {
		v = make(Vector, len(delta))
	}
	for _, e := range delta {
		if e.Seq > v[e.Region] {
			v[e.Region] = e.Seq
		}
	}
	return v
}
