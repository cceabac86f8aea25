package bench

import (
	"math"
	"time"
)

// Schedule gives the intended start time of each operation of one sender at
// a fixed rate. At the maximum rate (rate 0) it has no intended times.
type Schedule struct {
	start    time.Time
	interval float64 // nanoseconds between operations; 0 = max rate
}

// NewSchedule spreads one sender's operations evenly at ratePerSec from
// start. ratePerSec <= 0 means as fast as possible.
func NewSchedule(start time.Time, ratePerSec float64) Schedule {
	s := Schedule{start: start}
	if ratePerSec > 0 && !math.IsInf(ratePerSec, 0) {
		s.interval = 1e9 / ratePerSec
	}
	return s
}

// Fixed reports whether the schedule has a fixed rate.
func (s Schedule) Fixed() bool { return s.interval > 0 }

// At is the intended start of operation i (counting from 0). For a
// max-rate schedule it is the schedule's start.
func (s Schedule) At(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) * s.interval))
}

// Due is how many operations are due by now (the index of the first one
// that is not). For a max-rate schedule it is unbounded.
func (s Schedule) Due(now time.Time) int64 {
	if !s.Fixed() {
		return math.MaxInt64
	}
	d := now.Sub(s.start)
	if d < 0 {
		return 0
	}
	return int64(float64(d)/s.interval) + 1
}

// SenderRates splits a total rate over n senders and gives each sender's
// first intended start, staggered so that the senders do not fire in step.
func SenderRates(start time.Time, total float64, n int) []Schedule {
	out := make([]Schedule, n)
	if n <= 0 {
		return out
	}
	per := total / float64(n)
	for i := range out {
		offset := time.Duration(0)
		if total > 0 {
			offset = time.Duration(float64(i) * 1e9 / total)
		}
		out[i] = NewSchedule(start.Add(offset), per)
	}
	return out
}
