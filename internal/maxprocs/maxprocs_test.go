package maxprocs

import "testing"

func TestNodeProcs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		current     int
		operatorSet bool
		want        int
	}{
		{"one CPU: raised to the floor", 1, false, NodeMin},
		{"two CPUs: unchanged", 2, false, 2},
		{"many CPUs: unchanged", 16, false, 16},
		{"operator set one: kept", 1, true, 1},
		{"operator set four: kept", 4, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodeProcs(tc.current, tc.operatorSet); got != tc.want {
				t.Fatalf("nodeProcs(%d, %v) = %d, want %d", tc.current, tc.operatorSet, got, tc.want)
			}
		})
	}
}
