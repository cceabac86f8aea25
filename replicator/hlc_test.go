package replicator

import (
	"errors"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	type step struct {
		observe bool
		remote  Timestamp
		phys    int64
		want    Timestamp
		err     error
	}
	tests := []struct {
		name  string
		start Timestamp
		off   time.Duration
		steps []step
	}{
		{"physical advances", Timestamp{}, 0, []step{
			{phys: 10, want: Timestamp{10, 0}},
			{phys: 20, want: Timestamp{20, 0}},
		}},
		{"physical stalls or goes back", Timestamp{}, 0, []step{
			{phys: 10, want: Timestamp{10, 0}},
			{phys: 10, want: Timestamp{10, 1}},
			{phys: 5, want: Timestamp{10, 2}},
		}},
		{"restart after last", Timestamp{100, 4}, 0, []step{
			{phys: 50, want: Timestamp{100, 5}},
		}},
		{"observe remote ahead", Timestamp{}, 0, []step{
			{phys: 10, want: Timestamp{10, 0}},
			{observe: true, remote: Timestamp{30, 2}, phys: 11, want: Timestamp{30, 3}},
			{phys: 12, want: Timestamp{30, 4}},
			{phys: 31, want: Timestamp{31, 0}},
		}},
		{"observe remote behind", Timestamp{}, 0, []step{
			{phys: 10, want: Timestamp{10, 0}},
			{observe: true, remote: Timestamp{5, 9}, phys: 10, want: Timestamp{10, 1}},
			{observe: true, remote: Timestamp{5, 9}, phys: 20, want: Timestamp{20, 0}},
		}},
		{"skew refused", Timestamp{}, 100, []step{
			{phys: 10, want: Timestamp{10, 0}},
			{observe: true, remote: Timestamp{500, 0}, phys: 10, want: Timestamp{10, 0}, err: ErrClockSkew},
			{observe: true, remote: Timestamp{110, 0}, phys: 10, want: Timestamp{110, 1}},
		}},
		{"logical overflow spills into wall", Timestamp{7, ^uint32(0)}, 0, []step{
			{phys: 1, want: Timestamp{8, 0}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(tc.start, tc.off)
			prev := tc.start
			for i, s := range tc.steps {
				var got Timestamp
				var err error
				if s.observe {
					got, err = c.Observe(s.remote, s.phys)
				} else {
					got = c.Now(s.phys)
				}
				if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.err)
				}
				if got != s.want {
					t.Fatalf("step %d: got %s, want %s", i, got, s.want)
				}
				if s.err == nil && got.Compare(prev) <= 0 {
					t.Fatalf("step %d: %s not after %s", i, got, prev)
				}
				prev = c.Last()
			}
		})
	}
}

func TestTimestampCompare(t *testing.T) {
	tests := []struct {
		a, b Timestamp
		want int
	}{
		{Timestamp{1, 0}, Timestamp{1, 0}, 0},
		{Timestamp{1, 5}, Timestamp{2, 0}, -1},
		{Timestamp{2, 0}, Timestamp{1, 9}, 1},
		{Timestamp{2, 1}, Timestamp{2, 2}, -1},
	}
	for _, tc := range tests {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%s vs %s = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
