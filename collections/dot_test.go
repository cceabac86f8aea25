package collections

import (
	"slices"
	"testing"
)

func TestVector(t *testing.T) {
	v := VectorOf(map[string]uint64{"us": 3, "eu": 1, "ap": 0})
	if want := (Vector{{"eu", 1}, {"us", 3}}); !slices.Equal(v, want) {
		t.Fatalf("VectorOf = %v, want %v", v, want)
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dot  Dot
		want bool
	}{
		{Dot{"us", 3}, true}, {Dot{"us", 4}, false}, {Dot{"eu", 1}, true}, {Dot{"ap", 1}, false}, {stableDot, true},
	} {
		if got := v.Covers(tt.dot); got != tt.want {
			t.Errorf("Covers(%s) = %v, want %v", tt.dot, got, tt.want)
		}
	}
	o := VectorOf(map[string]uint64{"us": 1, "ap": 2})
	if got, want := v.Merge(o), (Vector{{"ap", 2}, {"eu", 1}, {"us", 3}}); !slices.Equal(got, want) {
		t.Errorf("Merge = %v, want %v", got, want)
	}
	if got, want := v.Meet(o), (Vector{{"us", 1}}); !slices.Equal(got, want) {
		t.Errorf("Meet = %v, want %v", got, want)
	}
	if !v.Dominates(Vector{{"us", 2}}) || v.Dominates(o) {
		t.Error("Dominates wrong")
	}
	if got := v.Merge(Vector{{"eu", 5}}); got.Get("eu") != 5 || v.Get("eu") != 1 {
		t.Error("Merge must copy")
	}
	if v.String() != "{eu:1 us:3}" {
		t.Errorf("String = %s", v)
	}
	// Large vectors use binary search; check it agrees with the map.
	m := map[string]uint64{}
	for i := range 40 {
		m[string(rune('A'+i))+"x"] = uint64(i + 1)
	}
	big := VectorOf(m)
	for r, s := range m {
		if big.Get(r) != s || !big.Covers(Dot{r, s}) || big.Covers(Dot{r, s + 1}) {
			t.Fatalf("large vector lookup of %s wrong", r)
		}
	}
	if big.Get("zz") != 0 {
		t.Fatal("absent region found")
	}
}
