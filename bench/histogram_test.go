package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramSummary(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Summary()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"count", float64(s.Count), 1000},
		{"min", s.MinUs, 1},
		{"mean", s.MeanUs, 500.5},
		{"p50", s.P50Us, 500},
		{"p90", s.P90Us, 900},
		{"p99", s.P99Us, 990},
		{"p99.9", s.P999Us, 999},
		{"max", s.MaxUs, 1000},
	} {
		if math.Abs(c.got-c.want) > c.want*0.001+0.5 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestHistogramClampsAndEmpty(t *testing.T) {
	h := NewHistogram()
	if s := h.Summary(); s.Count != 0 || s.MaxUs != 0 || h.Distribution() != nil {
		t.Fatalf("empty histogram: %+v", s)
	}
	h.Record(0)
	h.Record(-time.Second)
	h.Record(2 * time.Hour)
	s := h.Summary()
	if s.Count != 3 || s.MinUs != 1 || h.Clamped() != 1 {
		t.Fatalf("summary %+v, clamped %d: want 3 values, min 1µs, one clamped", s, h.Clamped())
	}
	if math.Abs(s.MaxUs-float64(time.Hour.Microseconds())) > float64(time.Hour.Microseconds())/1000 {
		t.Fatalf("max %v µs, want an hour", s.MaxUs)
	}
}

func TestHistogramMergeReset(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	a.Record(10 * time.Microsecond)
	b.Record(20 * time.Microsecond)
	b.Record(3 * time.Hour)
	a.Merge(b)
	if a.Count() != 3 || a.Clamped() != 1 {
		t.Fatalf("merged count %d clamped %d", a.Count(), a.Clamped())
	}
	a.Reset()
	if a.Count() != 0 || a.Clamped() != 0 {
		t.Fatalf("reset left count %d clamped %d", a.Count(), a.Clamped())
	}
}

// Property: every quantile is within the histogram's precision (0.1%) of
// the exact quantile of the recorded values, and the distribution is
// non-decreasing and ends at the maximum.
func TestHistogramQuantilesProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 42))
	for round := range 20 {
		h := NewHistogram()
		n := 1 + rng.IntN(5000)
		vals := make([]int64, n)
		for i := range vals {
			// Log-uniform from 1 µs to 10 s.
			vals[i] = int64(math.Pow(10, rng.Float64()*7))
			h.Record(time.Duration(vals[i]) * time.Microsecond)
		}
		slices.Sort(vals)
		for _, q := range []float64{50, 90, 99, 99.9, 100} {
			// HDR's rank: the value below which q% of samples lie, the
			// rank rounded half up, at least the first.
			idx := min(max(int(q/100*float64(n)+0.5), 1), n) - 1
			want := float64(vals[idx])
			if got := h.Quantile(q); math.Abs(got-want) > want*0.001+1 {
				t.Fatalf("seed %d round %d: p%v = %v, exact %v", seed, round, q, got, want)
			}
		}
		d := h.Distribution()
		for i := 1; i < len(d); i++ {
			if d[i].Us < d[i-1].Us || d[i].Percentile <= d[i-1].Percentile {
				t.Fatalf("seed %d: distribution not increasing at %d: %+v then %+v", seed, i, d[i-1], d[i])
			}
		}
		if last := d[len(d)-1]; last.Percentile != 100 || last.Us != h.Summary().MaxUs {
			t.Fatalf("seed %d: distribution ends at %+v, want the max", seed, last)
		}
	}
}
