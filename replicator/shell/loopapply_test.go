package shell

import (
	"errors"
	"fmt"
	"testing"
)

// TestLoopApplyStopsAtApplyLater: ops of a kind applied one by one stop
// at the first that must be applied later; the rest are not applied and
// are re-applied later too, in order. Other errors do not stop the batch.
func TestLoopApplyStopsAtApplyLater(t *testing.T) {
	var applied []uint64
	apply := loopApply(func(_ string, seq uint64, _ []byte) error {
		switch seq {
		case 2:
			return errors.New("bad op") // refused for good: the batch goes on
		case 4:
			return fmt.Errorf("not ready: %w", ErrApplyLater)
		}
		applied = append(applied, seq)
		return nil
	})
	items := make([]KindItem, 6)
	for i := range items {
		items[i] = KindItem{Origin: "a", Seq: uint64(i + 1)}
	}
	errs := apply(items)
	if fmt.Sprint(applied) != "[1 3]" {
		t.Fatalf("applied %v, want [1 3]", applied)
	}
	for i, err := range errs {
		seq := i + 1
		switch {
		case seq == 1 || seq == 3:
			if err != nil {
				t.Errorf("op %d: %v", seq, err)
			}
		case seq == 2:
			if err == nil || applyLater(err) {
				t.Errorf("op 2: %v, want its own error", err)
			}
		default:
			if !applyLater(err) {
				t.Errorf("op %d: %v, want apply later", seq, err)
			}
		}
	}
}
