package bench

import (
	"context"
	"time"
)

// coarseBefore is how long before its deadline a wait hands over from the
// runtime's timer to the precise clock (when there is one): Go's timers
// fire up to a millisecond late in a process with nothing else to do
// (the runtime's poller sleeps in whole milliseconds), and at a fixed rate
// that lateness would be counted as the target's latency.
const coarseBefore = 2 * time.Millisecond

// waiter sleeps a sender until an operation's intended time: on the
// runtime's timer until shortly before it, then on the precise clock of
// the platform (precise_linux.go; none elsewhere).
type waiter struct {
	timer   *time.Timer
	precise *preciseClock // nil: the runtime's timer all the way
}

func newWaiter() *waiter {
	return &waiter{precise: newPreciseClock()}
}

// until returns at t or soon after, or false when ctx ends first.
func (w *waiter) until(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if w.precise != nil {
		wait -= coarseBefore
	}
	if wait > 0 {
		if w.timer == nil {
			w.timer = time.NewTimer(wait)
		} else {
			w.timer.Reset(wait)
		}
		select {
		case <-w.timer.C:
		case <-ctx.Done():
			return false
		}
	}
	if w.precise != nil {
		if rest := time.Until(t); rest > 0 && !w.precise.sleep(rest) {
			w.precise.close()
			w.precise = nil // fall back to the timer from now on
			return w.until(ctx, t)
		}
	}
	return true
}

func (w *waiter) close() {
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.precise != nil {
		w.precise.close()
	}
}
