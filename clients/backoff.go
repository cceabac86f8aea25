package clients

import "time"

// backoffDelay is the wait before reconnect attempt number attempt (0 for
// the first): min doubled per attempt, capped at max, then jittered into
// [d/2, d) with jitter in [0, 1). "Equal jitter" keeps a floor under the
// delay while spreading clients that lost the same server apart.
func backoffDelay(attempt int, min, max time.Duration, jitter float64) time.Duration {
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	if jitter < 0 || jitter >= 1 {
		jitter = 0
	}
	half := d / 2
	return half + time.Duration(float64(d-half)*jitter)
}
