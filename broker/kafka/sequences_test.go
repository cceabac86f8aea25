package kafka

import "testing"

func TestSequenceWindow(t *testing.T) {
	type step struct {
		epoch       int16
		first, last int32
		want        seqVerdict
		fail        bool // the append fails
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"first batch at any sequence", []step{{0, 7, 9, seqAppend, false}, {0, 10, 10, seqAppend, false}}},
		{"gap", []step{{0, 0, 4, seqAppend, false}, {0, 6, 6, seqOutOfOrder, false}}},
		{"duplicate of the last", []step{{0, 0, 4, seqAppend, false}, {0, 0, 4, seqDuplicate, false}}},
		{"duplicates within five", []step{
			{0, 0, 0, seqAppend, false}, {0, 1, 1, seqAppend, false}, {0, 2, 2, seqAppend, false},
			{0, 3, 3, seqAppend, false}, {0, 4, 4, seqAppend, false}, {0, 0, 0, seqDuplicate, false},
			{0, 5, 5, seqAppend, false}, {0, 0, 0, seqOutOfOrder, false}, {0, 1, 1, seqDuplicate, false}}},
		{"older epoch fenced", []step{{1, 0, 0, seqAppend, false}, {0, 1, 1, seqFenced, false}}},
		{"new epoch starts at 0", []step{{0, 0, 3, seqAppend, false}, {1, 4, 4, seqOutOfOrder, false}, {1, 0, 0, seqAppend, false}}},
		{"failed append is retried", []step{{0, 0, 1, seqAppend, false}, {0, 2, 3, seqAppend, true}, {0, 2, 3, seqAppend, false}, {0, 4, 4, seqAppend, false}}},
		{"wrap past int32", []step{{0, 2147483640, 2147483647, seqAppend, false}, {0, 0, 1, seqAppend, false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var st seqState
			for i, s := range c.steps {
				got, dup := st.check(s.epoch, s.first, s.last)
				if got != s.want {
					t.Fatalf("step %d (%d..%d epoch %d): verdict %d, want %d", i, s.first, s.last, s.epoch, got, s.want)
				}
				switch got {
				case seqAppend:
					b := st.begin(s.epoch, s.first, s.last)
					st.finish(b, uint64(100+i), !s.fail)
				case seqDuplicate:
					if dup == nil || dup.first != s.first {
						t.Fatalf("step %d: duplicate of %+v", i, dup)
					}
				}
				if len(st.batches) > seqWindow {
					t.Fatalf("step %d: %d batches remembered", i, len(st.batches))
				}
			}
		})
	}
}

// A re-send arriving while the original is still being appended waits for
// it and gets its offset.
func TestSequencePendingDuplicate(t *testing.T) {
	var st seqState
	b := st.begin(0, 0, 4)
	v, dup := st.check(0, 0, 4)
	if v != seqDuplicate || dup != b || !dup.pending {
		t.Fatalf("verdict %d dup %+v", v, dup)
	}
	var got uint64
	dup.waiters = append(dup.waiters, func(off uint64, ok bool) { got = off })
	for _, w := range st.finish(b, 42, true) {
		w(42, true)
	}
	if got != 42 {
		t.Fatalf("waiter got %d, want 42", got)
	}
}
