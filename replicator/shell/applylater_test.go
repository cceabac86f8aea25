package shell

import (
	"errors"
	"fmt"
	"testing"
)

// TestApplyLaterIsNotApplied: an op whose apply function answers
// ErrApplyLater is not counted as applied - the tracker of its step (or of
// a restart's re-apply) gets the error, so the applied watermark stops
// below it and a restart fails instead of saving it as applied - and the
// shell fails, so that heal re-applies the journal tails. Any other apply
// error stays with its op (the op is answered with it, nothing else).
func TestApplyLaterIsNotApplied(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		notApplied bool
	}{
		{"apply later", fmt.Errorf("collection opening: %w", ErrApplyLater), true},
		{"other error", errOdd, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &applyRecorder{}
			s := testApplierShell(t, r)
			s.opts.BatchKinds[batchKind] = func(items []KindItem) []error {
				errs := make([]error, len(items))
				errs[1] = tc.err
				return errs
			}
			answers := map[string]error{}
			werr := applyAll(s, testDeliveries(t, []string{"7:a", "L7:b", "7:c"}, answers))
			if got := errors.Is(werr, ErrApplyLater); got != tc.notApplied {
				t.Fatalf("tracker error %v, want it to say ErrApplyLater: %v", werr, tc.notApplied)
			}
			if failed := s.failure() != nil; failed != tc.notApplied {
				t.Fatalf("shell failed: %v, want %v", failed, tc.notApplied)
			}
			if !errors.Is(answers["L7:b"], tc.err) {
				t.Fatalf("the op was answered %v, want %v", answers["L7:b"], tc.err)
			}
		})
	}
}
