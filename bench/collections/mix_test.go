package collections

import (
	"errors"
	"testing"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("insert=10, patch=30,query=1")
	if err != nil {
		t.Fatal(err)
	}
	if m != (Mix{10, 30, 0, 1}) || m.Total() != 41 || m.String() != "insert=10,patch=30,read=0,query=1" {
		t.Errorf("mix %v total %d %q", m, m.Total(), m.String())
	}
	for _, in := range []string{"", "insert", "insert=x", "insert=-1", "delete=5", "patch=5", "insert=0,read=3"} {
		if _, err := ParseMix(in); !errors.Is(err, ErrInvalidMix) {
			t.Errorf("ParseMix(%q) = %v, want ErrInvalidMix", in, err)
		}
	}
}

func TestPick(t *testing.T) {
	m := Mix{1, 2, 3, 4} // insert 0; patch 1-2; read 3-5; query 6-9
	for _, c := range []struct {
		u    int
		docs bool
		want Op
	}{
		{0, true, Insert}, {1, true, Patch}, {2, true, Patch}, {3, true, Read}, {5, true, Read}, {6, true, Query}, {9, true, Query},
		{1, false, Insert}, {4, false, Insert}, {7, false, Query}, {10, true, Insert},
	} {
		if got := m.Pick(c.u, c.docs); got != c.want {
			t.Errorf("Pick(%d, %v) = %v, want %v", c.u, c.docs, got, c.want)
		}
	}
	if Op(9).String() != "op(9)" {
		t.Error(Op(9).String())
	}
}

func TestConvergedAndTally(t *testing.T) {
	want := Tally{Docs: 3, Sum: 7}
	for _, c := range []struct {
		got  []Tally
		want bool
	}{{nil, false}, {[]Tally{want}, true}, {[]Tally{want, want}, true}, {[]Tally{want, {3, 6}}, false}} {
		if converged(want, c.got) != c.want {
			t.Errorf("converged(%v) != %v", c.got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want Tally
		ok   bool
	}{
		{`{"c":3,"s":7}`, Tally{3, 7}, true},
		{`{"c":0,"s":null}`, Tally{0, 0}, true},
		{`{"c":2.0,"s":4}`, Tally{2, 4}, true},
		{`{"c":2.5,"s":4}`, Tally{}, false},
		{`{"c":"x"}`, Tally{}, false},
		{`[]`, Tally{}, false},
	} {
		got, err := parseTally([]byte(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseTally(%s) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}
