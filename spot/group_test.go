package spot

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lni/dragonboat/v4"
)

// TestUnservedOutcome: a write answered 503 says it may have been applied
// exactly when one of its attempts ended ambiguously, so that a client
// knows to retry it under the same request id rather than give it up.
func TestUnservedOutcome(t *testing.T) {
	tests := []struct {
		name  string
		write bool
		errs  []error
		want  string
	}{
		{"read timed out", false, []error{dragonboat.ErrTimeout}, "the read was not served"},
		{"write refused before reaching a replica", true, []error{dragonboat.ErrShardNotReady, dragonboat.ErrSystemBusy}, "the write was not applied"},
		{"write timed out", true, []error{dragonboat.ErrShardNotReady, dragonboat.ErrTimeout}, "the write may or may not have been applied"},
		{"write aborted", true, []error{dragonboat.ErrAborted}, "the write may or may not have been applied"},
		{"write's attempt deadline passed", true, []error{fmt.Errorf("propose: %w", context.DeadlineExceeded)}, "the write may or may not have been applied"},
		{"write canceled by the host", true, []error{dragonboat.ErrCanceled}, "the write may or may not have been applied"},
		{"no replica running", true, nil, "the write was not applied"},
		{"write's last attempt shorter than a tick", true, []error{dragonboat.ErrShardNotReady, dragonboat.ErrTimeoutTooSmall}, "the write was not applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maybeApplied := false
			for _, err := range tt.errs {
				maybeApplied = maybeApplied || ambiguous(err)
			}
			if got := unservedOutcome(tt.write, maybeApplied); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	// An attempt refused for a deadline nearer than one tick was never
	// sent: another may be, and the request ends 503, not 500.
	if !retryable(fmt.Errorf("propose: %w", dragonboat.ErrTimeoutTooSmall)) {
		t.Fatal("an attempt refused for a too small timeout is not retried")
	}
	if ambiguous(errors.New("closed")) {
		t.Fatal("an unrelated error counted as ambiguous")
	}
}

// TestTransferLeader: the lead moves to the member asked for; an id that
// is not a member is refused as a bad request.
func TestTransferLeader(t *testing.T) {
	n := startNode(t, testConfig(t, "us", 3), Options{})
	first := waitLeader(t, n.svc)
	target := first%3 + 1
	if err := n.svc.TransferLeader(9); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("transfer to a non-member: %v, want ErrBadRequest", err)
	}
	waitFor(t, "the lead on replica "+itoa(int(target)), 20*time.Second, func() bool {
		if n.svc.Leader() == target {
			return true
		}
		_ = n.svc.TransferLeader(target) // a transfer may be dropped while the target catches up
		time.Sleep(50 * time.Millisecond)
		return false
	})
}
