package naming

import (
	"errors"
	"testing"
)

func TestReserved(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reserved bool
	}{
		{"_col.users", true},
		{"_changes.users", true},
		{"_col.", true},
		{"_changes.", true},
		{"_changes.users-sub-DLQ", true}, // the default dead-letter stream of a change-feed subscription
		{"_col.a.b", true},
		{"orders", false},
		{"_col", false},
		{"_changes", false},
		{"_collections", false},
		{"_colx.users", false},
		{"changes.users", false},
		{"col.users", false},
		{"x_col.users", false},
		{"_COL.users", false}, // names are case-sensitive
		{"users._changes.x", false},
		{"", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reserved(tc.name); got != tc.reserved {
				t.Fatalf("Reserved(%q) = %v, want %v", tc.name, got, tc.reserved)
			}
			err := CheckClientWrite(tc.name)
			if tc.reserved != (err != nil) {
				t.Fatalf("CheckClientWrite(%q) = %v", tc.name, err)
			}
			if err != nil && (!errors.Is(err, ErrReserved) || !errors.Is(err, ErrInvalidName)) {
				t.Fatalf("CheckClientWrite(%q) = %v: want ErrReserved wrapping ErrInvalidName", tc.name, err)
			}
		})
	}
}
