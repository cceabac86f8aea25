package lograte

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultInterval is the least time between two lines of one key.
const DefaultInterval = 10 * time.Second

// maxKeys bounds the keys a Limiter remembers; past it, keys whose last
// line is older than the interval are forgotten, then the oldest half.
const maxKeys = 1024

// Limiter decides which lines of each key are logged. The zero value is not
// usable; see New. It is safe for concurrent use.
type Limiter struct {
	interval time.Duration

	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	last       time.Time // when the last line of the key was let through
	suppressed uint64    // lines held back since
}

// New returns a Limiter letting one line a key through every interval
// (DefaultInterval when interval <= 0).
func New(interval time.Duration) *Limiter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Limiter{interval: interval, keys: map[string]*entry{}}
}

// Allow reports whether a line of key may be logged at now, and how many
// lines of key were held back before it (0 for the first). A nil Limiter
// lets every line through.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, suppressed uint64) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= maxKeys {
			l.evictLocked(now)
		}
		l.keys[key] = &entry{last: now}
		return true, 0
	}
	if now.Sub(e.last) < l.interval {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}

// evictLocked forgets keys idle for an interval, or the older half of them
// when none is.
func (l *Limiter) evictLocked(now time.Time) {
	for k, e := range l.keys {
		if now.Sub(e.last) >= l.interval {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < maxKeys {
		return
	}
	n := 0
	for k := range l.keys { // map order: an arbitrary half
		if n >= maxKeys/2 {
			break
		}
		delete(l.keys, k)
		n++
	}
}

// Warn logs msg at warn level under key if Allow lets it through now, with
// a "suppressed" field counting the lines held back since the last one.
// It reports whether it logged.
func (l *Limiter) Warn(log *zap.Logger, key, msg string, fields ...zap.Field) bool {
	return l.write(log.Warn, key, msg, fields)
}

// Error is Warn at error level.
func (l *Limiter) Error(log *zap.Logger, key, msg string, fields ...zap.Field) bool {
	return l.write(log.Error, key, msg, fields)
}

func (l *Limiter) write(w func(string, ...zap.Field), key, msg string, fields []zap.Field) bool {
	ok, n := l.Allow(key, time.Now())
	if !ok {
		return false
	}
	if n > 0 {
		fields = append(fields, zap.Uint64("suppressed", n), zap.Duration("suppressedWithin", l.interval))

	}
	w(msg, fields...)
	return true
}
