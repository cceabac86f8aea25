package naming

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"orders", true},
		{"_system", true},
		{"a.b-c_d", true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"-x", false},
		{"a/b", false},
		{"a%2Fb", false},
		{"ａ", false}, // full-width look-alike
		{"a b", false},
		{strings.Repeat("x", MaxNameBytes), true},
		{strings.Repeat("x", MaxNameBytes+1), false},
	}
	for _, c := range cases {
		err := Validate("stream", c.name)
		if (err == nil) != c.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("Validate(%q) error %v does not wrap ErrInvalidName", c.name, err)
		}
	}
}

func TestParseStream(t *testing.T) {
	cases := []struct {
		in   string
		want Stream
		ok   bool
	}{
		{"persistent://t/f/s", Stream{true, "t", "f", "s"}, true},
		{"non-persistent://t/f/s", Stream{false, "t", "f", "s"}, true},
		{"t/f/s", Stream{true, "t", "f", "s"}, true},
		{"bogus://t/f/s", Stream{}, false},
		{"t/f", Stream{}, false},
		{"t/f/s/x", Stream{}, false},
		{"t/../s", Stream{}, false},
	}
	for _, c := range cases {
		got, err := ParseStream(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseStream(%q) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if c.ok && got.String() != strings.Replace(c.in, "t/f/s", "t/f/s", 1) && !strings.Contains(c.in, "://") {
			if got.String() != "persistent://"+c.in {
				t.Errorf("String() = %q", got.String())
			}
		}
	}
}
