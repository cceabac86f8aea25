package limits

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedKeys bounds the token buckets Rates keeps; past it, idle
// buckets (full ones, which a fresh bucket would equal) are dropped first.
const maxTrackedKeys = 100_000

// Rates is a token bucket per key: perSecond tokens a second, at most
// burst at once. Safe for concurrent use.
type Rates struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewRates returns the buckets; perSecond <= 0 means no limit.
func NewRates(perSecond float64, burst int) *Rates {
	l := rate.Limit(perSecond)
	if perSecond <= 0 {
		l = rate.Inf
	}
	return &Rates{limit: l, burst: max(burst, 1), buckets: map[string]*rate.Limiter{}}
}

// Allow takes one token of key's bucket at now; false means the key is
// over its rate.
func (r *Rates) Allow(key string, now time.Time) bool {
	if r.limit == rate.Inf {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bucketLocked(key, now).AllowN(now, 1)
}

// bucketLocked returns key's bucket, a full new one if it has none.
func (r *Rates) bucketLocked(key string, now time.Time) *rate.Limiter {
	b, ok := r.buckets[key]
	if !ok {
		if len(r.buckets) >= maxTrackedKeys {
			r.evictLocked(now)
		}
		b = rate.NewLimiter(r.limit, r.burst)
		r.buckets[key] = b
	}
	return b
}

// Take takes one token of key's bucket at now even when the bucket is
// empty, going into debt, and returns the throttle: how long the key's
// client should wait before its next request so that it stays within the
// rate (0 within the rate). This is how Kafka brokers apply quotas: the
// request is served, its answer carries the throttle time, and the
// connection is not read again until the throttle has passed. A debt
// worth more than maxThrottle is not taken: the request is served and
// throttled for maxThrottle.
func (r *Rates) Take(key string, now time.Time, maxThrottle time.Duration) time.Duration {
	if r.limit == rate.Inf {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bucketLocked(key, now)
	res := b.ReserveN(now, 1)
	if !res.OK() {
		return maxThrottle
	}
	d := res.DelayFrom(now)
	if d > maxThrottle {
		res.CancelAt(now)
		return maxThrottle
	}
	return d
}

// RetryAfter is how long until key's bucket holds a token again.
func (r *Rates) RetryAfter(key string, now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.buckets[key]
	if !ok || r.limit == rate.Inf {
		return 0
	}
	missing := 1 - b.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(r.limit) * float64(time.Second))
}

// Len is the number of buckets kept.
func (r *Rates) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buckets)
}

// evictLocked drops every full bucket; if none is full, an arbitrary half
// of them (their keys start again with a full bucket: the bound on memory
// wins over exactness under a flood of distinct keys).
func (r *Rates) evictLocked(now time.Time) {
	for k, b := range r.buckets {
		if b.TokensAt(now) >= float64(r.burst) {
			delete(r.buckets, k)
		}
	}
	if len(r.buckets) < maxTrackedKeys {
		return
	}
	n := len(r.buckets) / 2
	for k := range r.buckets {
		if n == 0 {
			break
		}
		delete(r.buckets, k)
		n--
	}
}
