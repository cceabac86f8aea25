package gctune

import (
	"runtime"
	"testing"
)

func TestParseCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int64
		ok    bool
	}{
		{"max\n", 0, false},
		{"", 0, false},
		{"2147483648\n", 2147483648, true},
		{"9223372036854771712\n", 0, false}, // v1's "unlimited"
		{"0", 0, false},
		{"-1", 0, false},
		{"12k", 0, false},
	} {
		limit, ok := parseCgroupLimit(tc.in)
		if limit != tc.limit || ok != tc.ok {
			t.Errorf("parseCgroupLimit(%q) = %d, %v; want %d, %v", tc.in, limit, ok, tc.limit, tc.ok)
		}
	}
}

func TestUsableMemory(t *testing.T) {
	got := usableMemory()
	if runtime.GOOS == "linux" && got <= 0 {
		t.Fatalf("usableMemory() = %d on Linux, want the machine's memory", got)
	}
	if got < 0 {
		t.Fatalf("usableMemory() = %d", got)
	}
}
