package collections

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Dot names one operation: the region that made it and its sequence number
// in that region's replication log. Sequences start at 1 and grow by region.
type Dot struct {
	Region string
	Seq    uint64
}

// stableDot stands for entries folded by compaction: every future op has
// observed them, and every Vector covers it.
var stableDot = Dot{}

// String renders the dot as region:seq.
func (d Dot) String() string { return d.Region + ":" + strconv.FormatUint(d.Seq, 10) }

// Compare orders dots by region, then sequence.
func (d Dot) Compare(o Dot) int {
	if c := cmp.Compare(d.Region, o.Region); c != 0 {
		return c
	}
	return cmp.Compare(d.Seq, o.Seq)
}

func (d Dot) validate() error {
	if err := validateRegion(d.Region); err != nil {
		return err
	}
	if d.Seq == 0 {
		return fmt.Errorf("dot %s: sequence must be at least 1", d)
	}
	return nil
}

// VectorEntry is one region's count in a Vector.
type VectorEntry struct {
	Region string
	Seq    uint64
}

// Vector is a version vector: for each region, the highest sequence
// delivered from it (every lower one is delivered too, since each region's
// log is delivered in order). It is kept sorted by region with no zero
// entries, so equal vectors are equal slices. The zero value is empty.
type Vector []VectorEntry

// VectorOf builds a Vector from a map, dropping zero entries.
func VectorOf(m map[string]uint64) Vector {
	var v Vector
	for r, s := range m {
		if s != 0 {
			v = append(v, VectorEntry{Region: r, Seq: s})
		}
	}
	slices.SortFunc(v, func(a, b VectorEntry) int { return cmp.Compare(a.Region, b.Region) })
	return v
}

// find returns the index of region in v and whether it is present.
func (v Vector) find(region string) (int, bool) {
	if len(v) <= 8 {
		for i := range v {
			if c := cmp.Compare(v[i].Region, region); c >= 0 {
				return i, c == 0
			}
		}
		return len(v), false
	}
	return slices.BinarySearchFunc(v, region, func(e VectorEntry, r string) int { return cmp.Compare(e.Region, r) })
}

// Get returns the sequence delivered from region (0 when none).
func (v Vector) Get(region string) uint64 {
	if i, ok := v.find(region); ok {
		return v[i].Seq
	}
	return 0
}

// Covers reports whether the op named d is included in v. The dot of
// compacted entries is covered by every vector.
func (v Vector) Covers(d Dot) bool {
	if d.Seq == 0 {
		return true
	}
	i, ok := v.find(d.Region)
	return ok && v[i].Seq >= d.Seq
}

// raise lifts v's entry for region to seq in place (never lowers it).
func (v *Vector) raise(region string, seq uint64) {
	if seq == 0 {
		return
	}
	i, ok := v.find(region)
	if ok {
		if (*v)[i].Seq < seq {
			(*v)[i].Seq = seq
		}
		return
	}
	*v = slices.Insert(*v, i, VectorEntry{Region: region, Seq: seq})
}

// Merge returns the pointwise maximum of v and o.
func (v Vector) Merge(o Vector) Vector {
	out := slices.Clone(v)
	for _, e := range o {
		out.raise(e.Region, e.Seq)
	}
	return out
}

// Meet returns the pointwise minimum of v and o (regions missing from either
// count as 0). The meet of what every region has delivered is the causally
// stable vector that drives compaction.
func (v Vector) Meet(o Vector) Vector {
	var out Vector
	for _, e := range v {
		if s := min(e.Seq, o.Get(e.Region)); s > 0 {
			out = append(out, VectorEntry{Region: e.Region, Seq: s})
		}
	}
	return out
}

// Dominates reports whether v covers every entry of o.
func (v Vector) Dominates(o Vector) bool {
	for _, e := range o {
		if v.Get(e.Region) < e.Seq {
			return false
		}
	}
	return true
}

// Validate checks that v is sorted by region, free of duplicates and zero
// entries, and within bounds.
func (v Vector) Validate() error {
	if len(v) > maxVectorRegions {
		return fmt.Errorf("vector has %d regions, limit %d", len(v), maxVectorRegions)
	}
	for i, e := range v {
		if err := validateRegion(e.Region); err != nil {
			return err
		}
		if e.Seq == 0 {
			return fmt.Errorf("vector entry %q is zero", e.Region)
		}
		if i > 0 && v[i-1].Region >= e.Region {
			return fmt.Errorf("vector not sorted at %q", e.Region)
		}
	}
	return nil
}

// String renders v as {a:1 b:2}.
func (v Vector) String() string {
	b := []byte{'{'}
	for i, e := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, e.Region...)
		b = append(b, ':')
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	return string(append(b, '}'))
}

func validateRegion(r string) error {
	if r == "" || len(r) > maxRegionBytes || !utf8.ValidString(r) {
		return fmt.Errorf("region %q: want 1 to %d bytes of UTF-8", r, maxRegionBytes)
	}
	return nil
}
