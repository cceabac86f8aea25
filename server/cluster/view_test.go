package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
)

// TestKVError: an error of the region's map is retriable
// (broker.ErrRegionUnavailable) unless the state refused the command.
func TestKVError(t *testing.T) {
	for _, tc := range []struct {
		err       error
		retriable bool
	}{
		{fmt.Errorf("meta: put-kv %q: %w", "k", meta.ErrUnavailable), true},
		{fmt.Errorf("meta: propose put-kv: %w", context.Canceled), true},
		{fmt.Errorf("meta: %w", meta.ErrClosed), true},
		{fmt.Errorf("meta: put-kv: %w: %s", region.ErrRefused, region.ErrKVFull), false}, // how the group says it
		{fmt.Errorf("meta: put-kv: %w: key too long", region.ErrInvalid), false},
		{fmt.Errorf("meta: put-kv: %w: something", region.ErrRefused), false},
	} {
		got := kvError(tc.err)
		if errors.Is(got, broker.ErrRegionUnavailable) != tc.retriable || !errors.Is(got, tc.err) {
			t.Errorf("kvError(%v) = %v, retriable %v", tc.err, got, tc.retriable)
		}
	}
	if kvError(nil) != nil {
		t.Fatal("kvError(nil) is not nil")
	}
}
