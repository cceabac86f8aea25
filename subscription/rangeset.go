package subscription

import "sort"

// Range is a half-open range of offsets [From, To).
type Range struct {
	From, To uint64
}

// Len is the number of offsets in the range.
func (r Range) Len() uint64 { return r.To - r.From }

// rangeSet is a set of offsets stored as sorted, disjoint, non-adjacent
// ranges. The zero value is empty.
type rangeSet struct {
	rs []Range
}

// search returns the index of the first range whose To is > x, i.e. the only
// range that could contain x.
func (s *rangeSet) search(x uint64) int {
	return sort.Search(len(s.rs), func(i int) bool { return s.rs[i].To > x })
}

func (s *rangeSet) contains(x uint64) bool {
	i := s.search(x)
	return i < len(s.rs) && s.rs[i].From <= x
}

// add inserts [from, to) and returns how many offsets were not in the set.
func (s *rangeSet) add(from, to uint64) uint64 {
	if from >= to {
		return 0
	}
	// First range that overlaps or touches [from, to).
	i := sort.Search(len(s.rs), func(i int) bool { return s.rs[i].To >= from })
	// First range that starts strictly after to (neither overlaps nor touches).
	j := sort.Search(len(s.rs), func(j int) bool { return s.rs[j].From > to })
	merged := Range{From: from, To: to}
	var covered uint64
	for k := i; k < j; k++ {
		r := s.rs[k]
		covered += r.Len()
		merged.From = min(merged.From, r.From)
		merged.To = max(merged.To, r.To)
	}
	added := merged.Len() - covered
	switch {
	case i == j:
		s.rs = append(s.rs, Range{})
		copy(s.rs[i+1:], s.rs[i:])
		s.rs[i] = merged
	default:
		s.rs[i] = merged
		s.rs = append(s.rs[:i+1], s.rs[j:]...)
	}
	return added
}

// removeBelow drops every offset < x. The ranges dropped are sliced off
// the front, not copied over: the set is a queue whose front is acked away
// on every ack of a shared subscription (the next append that outgrows the
// array moves the rest).
func (s *rangeSet) removeBelow(x uint64) {
	i := s.search(x)
	if i < len(s.rs) && s.rs[i].From < x {
		s.rs[i].From = x
	}
	s.dropFront(i)
}

// foldFrom drops every offset < x and, when the set holds x, the range
// starting there; it returns the first offset >= x not in the set. It is
// how a mark-delete position advances over the acked ranges.
func (s *rangeSet) foldFrom(x uint64) uint64 {
	s.removeBelow(x)
	if len(s.rs) > 0 && s.rs[0].From == x {
		x = s.rs[0].To
		s.dropFront(1)
	}
	return x
}

// dropFront drops the first n ranges. An emptied set keeps its array from
// where it stands, so that in-order acks (one range, added and folded
// away each time) do not allocate.
func (s *rangeSet) dropFront(n int) {
	if n >= len(s.rs) {
		s.rs = s.rs[:0]
		return
	}
	s.rs = s.rs[n:]
}

// countIn returns how many offsets of [from, to) are in the set.
func (s *rangeSet) countIn(from, to uint64) uint64 {
	var n uint64
	for i := s.search(from); i < len(s.rs) && s.rs[i].From < to; i++ {
		lo, hi := max(s.rs[i].From, from), min(s.rs[i].To, to)
		if hi > lo {
			n += hi - lo
		}
	}
	return n
}

// nextOut returns the smallest y >= x not in the set.
func (s *rangeSet) nextOut(x uint64) uint64 {
	i := s.search(x)
	if i < len(s.rs) && s.rs[i].From <= x {
		return s.rs[i].To
	}
	return x
}

// nextIn returns the smallest y >= x in the set, or ok=false.
func (s *rangeSet) nextIn(x uint64) (uint64, bool) {
	i := s.search(x)
	if i == len(s.rs) {
		return 0, false
	}
	return max(s.rs[i].From, x), true
}

func (s *rangeSet) ranges() []Range { return append([]Range(nil), s.rs...) }

func (s *rangeSet) clear() { s.rs = s.rs[:0] }
