package clients

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{0, 0, 50 * ms},
		{0, 0.5, 75 * ms},
		{1, 0, 100 * ms},
		{3, 0, 400 * ms},
		{4, 0, 500 * ms}, // capped at max 1s
		{100, 0.999999, 999999500 * time.Nanosecond},
		{1 << 30, 0, 500 * ms},
		{2, -1, 200 * ms}, // bad jitter ignored
		{2, 1, 200 * ms},
	}
	for _, c := range cases {
		if got := backoffDelay(c.attempt, 100*ms, time.Second, c.jitter); got != c.want {
			t.Errorf("attempt %d jitter %v: %v, want %v", c.attempt, c.jitter, got, c.want)
		}
	}
	if got := backoffDelay(70, time.Hour, 1<<62, 0); got <= 0 {
		t.Errorf("overflow: %v", got)
	}
}
