package testkey

import "testing"

func TestWrongDiffersAndKeepsLength(t *testing.T) {
	for _, s := range []string{"x", "y", "abcx", "abcA", "k_0123_-"} {
		w := Wrong(s)
		if w == s || len(w) != len(s) || w[:len(w)-1] != s[:len(s)-1] {
			t.Errorf("Wrong(%q) = %q", s, w)
		}
	}
}
