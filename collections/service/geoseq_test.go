package service

import (
	"testing"
	"time"

	"github.com/causeway/causeway/collections"
)

func vec(pairs ...any) collections.Vector {
	m := map[string]uint64{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = uint64(pairs[i+1].(int))
	}
	return collections.VectorOf(m)
}

// The stable vector is the meet of what every member is known to have
// applied (this region's own vector included), never goes down, ignores
// evicted regions and what a region says of itself here.
func TestGeoSequencerStable(t *testing.T) {
	ref := sysRef("c")
	g := NewGeoSequencer("us", []string{"ap", "eu", "us"}, time.Now)
	if st := g.Stable(ref); len(st) != 0 {
		t.Fatalf("stable %s with nothing known", st)
	}
	for range 3 {
		g.Next(ref) // us:1..3
	}
	g.Observe(ref, collections.Dot{Region: "eu", Seq: 2}, 0)
	steps := []struct {
		learn  string
		v      collections.Vector
		member []string
		want   collections.Vector
	}{
		{"eu", vec("us", 2, "eu", 2), nil, nil},                            // ap knows nothing yet
		{"ap", vec("us", 1, "eu", 1), nil, vec("us", 1, "eu", 1)},          // meet
		{"ap", vec("us", 3, "eu", 2, "ap", 1), nil, vec("us", 2, "eu", 2)}, // eu's knowledge bounds it; ap:1 not applied here
		{"eu", vec("us", 1), nil, vec("us", 2, "eu", 2)},                   // knowledge never goes down
		{"us", vec("us", 9, "eu", 9), nil, vec("us", 2, "eu", 2)},          // self is what it applied
		{"", nil, []string{"ap", "us"}, vec("us", 3, "eu", 2)},             // eu evicted: own vector bounds
		{"", nil, []string{"ap", "eu", "us"}, vec("us", 3, "eu", 2)},       // back: stable never goes down
		{"eu", vec("us", 3, "eu", 2, "ap", 1), nil, vec("us", 3, "eu", 2)}, // ap:1 not applied here
	}
	for i, s := range steps {
		if s.learn != "" {
			g.Learn(ref, s.learn, s.v)
		}
		if s.member != nil {
			g.SetMembers(s.member)
		}
		if got := g.Stable(ref); got.String() != s.want.String() {
			t.Fatalf("step %d: stable %s, want %s", i, got, s.want)
		}
	}
	g.Forget(ref)
	if st := g.Stable(ref); len(st) != 0 {
		t.Fatalf("stable %s after Forget", st)
	}
}
