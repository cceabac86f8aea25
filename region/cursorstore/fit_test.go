package cursorstore

import (
	"errors"
	"slices"
	"testing"

	"github.com/causeway/causeway/subscription"
)

type rng = subscription.Range

// ranges returns n ranges of length 1 above from, each gap apart.
func ranges(from uint64, n int, gap uint64) []rng {
	rs := make([]rng, n)
	for i := range rs {
		from += gap
		rs[i] = rng{From: from, To: from + 1}
		from++
	}
	return rs
}

func encodedLen(t *testing.T, st subscription.CursorState) int {
	t.Helper()
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func TestFit(t *testing.T) {
	tests := []struct {
		name     string
		st       subscription.CursorState
		max      int
		keep     int // ranges kept
		err      error
		errorAny bool
	}{
		{name: "no ranges", st: subscription.CursorState{MarkDelete: 1 << 40}, max: 64},
		{name: "everything fits", st: subscription.CursorState{MarkDelete: 10, Acked: ranges(10, 5, 2)}, max: 64, keep: 5},
		// 1 (version) + 1 (mark-delete 10) + 1 (count) + 2 per range
		{name: "exactly at the limit", st: subscription.CursorState{MarkDelete: 10, Acked: ranges(10, 5, 2)}, max: 13, keep: 5},
		{name: "one byte short drops the farthest range", st: subscription.CursorState{MarkDelete: 10, Acked: ranges(10, 5, 2)}, max: 12, keep: 4},
		{name: "only the mark-delete position fits", st: subscription.CursorState{MarkDelete: 10, Acked: ranges(10, 5, 2)}, max: 4, keep: 0},
		{name: "wide gaps take more bytes per range", st: subscription.CursorState{MarkDelete: 0, Acked: ranges(0, 100, 1<<30)}, max: 103, keep: 16},
		{name: "the count's varint grows at 128 ranges", st: subscription.CursorState{MarkDelete: 0, Acked: ranges(0, 200, 1)}, max: 1 + 1 + 1 + 127*2 + 1, keep: 127},
		{name: "never more than MaxStoredAckRanges", st: subscription.CursorState{MarkDelete: 0, Acked: ranges(0, subscription.MaxStoredAckRanges+5, 1)},
			max: 1 << 20, keep: subscription.MaxStoredAckRanges},
		{name: "a 70 KB cursor in a metadata command", st: subscription.CursorState{MarkDelete: 1 << 50, Acked: ranges(1<<50, subscription.MaxStoredAckRanges, 1<<40)},
			max: 12 << 10, keep: (12<<10 - 1 - 8 - 2) / 7},
		{name: "not even the mark-delete position fits", st: subscription.CursorState{MarkDelete: 1 << 40}, max: 3, errorAny: true},
		{name: "a malformed cursor", st: subscription.CursorState{MarkDelete: 10, Acked: []rng{{From: 5, To: 6}}}, max: 64, err: subscription.ErrCorruptCursor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := Fit(tt.st, tt.max)
			if tt.err != nil || tt.errorAny {
				if err == nil || (tt.err != nil && !errors.Is(err, tt.err)) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Acked) != tt.keep || dropped != len(tt.st.Acked)-tt.keep {
				t.Fatalf("kept %d ranges (dropped %d), want %d", len(got.Acked), dropped, tt.keep)
			}
			if got.MarkDelete != tt.st.MarkDelete || !slices.Equal(got.Acked, tt.st.Acked[:tt.keep]) {
				t.Fatal("not the ranges nearest the mark-delete position")
			}
			if n := encodedLen(t, got); n > tt.max {
				t.Fatalf("encodes to %d bytes, at most %d", n, tt.max)
			}
			if tt.keep < min(len(tt.st.Acked), subscription.MaxStoredAckRanges) {
				more := subscription.CursorState{MarkDelete: got.MarkDelete, Acked: tt.st.Acked[:tt.keep+1]}
				if n := encodedLen(t, more); n <= tt.max {
					t.Fatalf("one more range would have fit (%d bytes of %d)", n, tt.max)
				}
			}
		})
	}
}

// TestFitNeverAcksMore: whatever is dropped, every offset the fitted cursor
// says is acknowledged was acknowledged in the original (a dropped range is
// redelivered, never skipped).
func TestFitNeverAcksMore(t *testing.T) {
	st := subscription.CursorState{MarkDelete: 100, Acked: ranges(100, 3000, 7)}
	got, _, err := Fit(st, 2000)
	if err != nil {
		t.Fatal(err)
	}
	acked := func(s subscription.CursorState, o uint64) bool {
		if o < s.MarkDelete {
			return true
		}
		for _, r := range s.Acked {
			if o >= r.From && o < r.To {
				return true
			}
		}
		return false
	}
	for o := uint64(0); o < st.Acked[len(st.Acked)-1].To+10; o++ {
		if acked(got, o) && !acked(st, o) {
			t.Fatalf("offset %d is acknowledged after fitting, not before", o)
		}
	}
}
