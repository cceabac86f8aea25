package bench

import (
	"context"
	"time"
)

// Pace runs op for operations i = 0, 1, ... of one sender: each at its
// intended time when s has a fixed rate (sleeping until then, never
// skipping one that is late), back to back otherwise. It stops after n
// operations (n >= 0), or, with n < 0, at the first operation due at or
// after end; and when ctx ends. op receives the operation's start: the
// intended time at a fixed rate, the actual time at the maximum rate.
// Latency measured from that start is corrected for coordinated omission.
func Pace(ctx context.Context, s Schedule, n int64, end time.Time, op func(i int64, start time.Time)) {
	var w *waiter
	if s.Fixed() {
		w = newWaiter()
		defer w.close()
	}
	for i := int64(0); n < 0 || i < n; i++ {
		if ctx.Err() != nil {
			return
		}
		var start time.Time
		if s.Fixed() {
			start = s.At(i)
			if n < 0 && !start.Before(end) {
				return
			}
			if !w.until(ctx, start) {
				return
			}
		} else {
			start = time.Now()
			if n < 0 && !start.Before(end) {
				return
			}
		}
		op(i, start)
	}
}

// Share splits total operations over n senders: sender i's share (-1, "by
// time", when total <= 0).
func Share(total int64, n, i int) int64 {
	if total <= 0 {
		return -1
	}
	s := total / int64(n)
	if int64(i) < total%int64(n) {
		s++
	}
	return s
}
