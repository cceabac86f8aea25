package subscription

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestRangeSetAdd(t *testing.T) {
	tests := []struct {
		name  string
		start []Range
		add   Range
		want  []Range
		added uint64
	}{
		{"into empty", nil, Range{3, 5}, []Range{{3, 5}}, 2},
		{"empty range", []Range{{1, 2}}, Range{4, 4}, []Range{{1, 2}}, 0},
		{"before, apart", []Range{{5, 7}}, Range{1, 3}, []Range{{1, 3}, {5, 7}}, 2},
		{"after, apart", []Range{{1, 3}}, Range{5, 7}, []Range{{1, 3}, {5, 7}}, 2},
		{"touching below", []Range{{5, 7}}, Range{3, 5}, []Range{{3, 7}}, 2},
		{"touching above", []Range{{5, 7}}, Range{7, 9}, []Range{{5, 9}}, 2},
		{"bridging two", []Range{{1, 3}, {5, 7}}, Range{3, 5}, []Range{{1, 7}}, 2},
		{"covering many", []Range{{1, 3}, {5, 7}, {9, 10}}, Range{0, 12}, []Range{{0, 12}}, 7},
		{"inside", []Range{{1, 10}}, Range{3, 5}, []Range{{1, 10}}, 0},
		{"overlap right", []Range{{1, 5}, {8, 9}}, Range{4, 6}, []Range{{1, 6}, {8, 9}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rangeSet{rs: append([]Range(nil), tt.start...)}
			if got := s.add(tt.add.From, tt.add.To); got != tt.added {
				t.Errorf("added %d, want %d", got, tt.added)
			}
			if !reflect.DeepEqual(s.rs, tt.want) && !(len(s.rs) == 0 && len(tt.want) == 0) {
				t.Errorf("got %v, want %v", s.rs, tt.want)
			}
		})
	}
}

// TestRangeSetAgainstMap compares the range set with a plain map under random
// operations.
func TestRangeSetAgainstMap(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		var s rangeSet
		m := map[uint64]bool{}
		for step := 0; step < 100; step++ {
			switch rng.IntN(4) {
			case 0, 1:
				from := uint64(rng.IntN(60))
				to := from + uint64(rng.IntN(5))
				var want uint64
				for o := from; o < to; o++ {
					if !m[o] {
						want++
					}
					m[o] = true
				}
				if got := s.add(from, to); got != want {
					t.Fatalf("seed %d step %d: add(%d,%d)=%d, want %d", seed, step, from, to, got, want)
				}
			case 2:
				x := uint64(rng.IntN(60))
				s.removeBelow(x)
				for o := range m {
					if o < x {
						delete(m, o)
					}
				}
			case 3:
				from := uint64(rng.IntN(60))
				to := from + uint64(rng.IntN(20))
				var want uint64
				for o := from; o < to; o++ {
					if m[o] {
						want++
					}
				}
				if got := s.countIn(from, to); got != want {
					t.Fatalf("seed %d step %d: countIn(%d,%d)=%d, want %d", seed, step, from, to, got, want)
				}
			}
			if err := (CursorState{Acked: s.rs}).Validate(); len(s.rs) > 0 && s.rs[0].From > 0 && err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			for o := uint64(0); o < 70; o++ {
				if s.contains(o) != m[o] {
					t.Fatalf("seed %d step %d: contains(%d)=%v, want %v (%v)", seed, step, o, s.contains(o), m[o], s.rs)
				}
				next := o
				for m[next] {
					next++
				}
				if got := s.nextOut(o); got != next {
					t.Fatalf("seed %d step %d: nextOut(%d)=%d, want %d", seed, step, o, got, next)
				}
			}
		}
	}
}

func TestRangeSetFoldFrom(t *testing.T) {
	tests := []struct {
		name  string
		start []Range
		x     uint64
		want  []Range
		next  uint64
	}{
		{"empty", nil, 4, []Range{}, 4},
		{"hole at x", []Range{{6, 8}}, 4, []Range{{6, 8}}, 4},
		{"range at x folded", []Range{{4, 7}, {9, 10}}, 4, []Range{{9, 10}}, 7},
		{"below x dropped", []Range{{1, 2}, {6, 8}}, 4, []Range{{6, 8}}, 4},
		{"straddling x folded", []Range{{1, 6}, {9, 10}}, 4, []Range{{9, 10}}, 6},
		{"only range folded", []Range{{4, 5}}, 4, []Range{}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rangeSet{rs: append([]Range(nil), tt.start...)}
			if next := s.foldFrom(tt.x); next != tt.next {
				t.Errorf("foldFrom(%d) = %d, want %d", tt.x, next, tt.next)
			}
			if got := s.ranges(); !reflect.DeepEqual(append([]Range{}, got...), tt.want) {
				t.Errorf("left %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkAckedRangesInterleaved measures the acked set of a shared
// subscription whose four consumers were handed every fourth message and
// ack their own in order, the second 300 messages behind the first, the
// third 600, the fourth 900: every ack adds a range or fills a hole, and
// the mark-delete position folds the front away (foldFrom, as
// Dispatcher.normalize does).
func BenchmarkAckedRangesInterleaved(b *testing.B) {
	var s rangeSet
	var markDelete uint64
	next := [4]uint64{3600, 2400, 1200, 0} // each consumer's next own offset, staggered
	b.ReportAllocs()
	for i := range b.N {
		c := i % 4
		off := next[c]*4 + uint64(c)
		next[c]++
		if off < markDelete {
			continue
		}
		s.add(off, off+1)
		markDelete = s.foldFrom(markDelete)
	}
	b.ReportMetric(float64(len(s.rs)), "ranges")
}
