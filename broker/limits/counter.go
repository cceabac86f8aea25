package limits

import "sync"

// Counter counts what each key holds (connections) against a limit. Safe
// for concurrent use; keys at zero are forgotten, so memory follows what is
// held.
type Counter struct {
	limit int // < 0: no limit

	mu sync.Mutex
	n  map[string]int
}

// NewCounter returns a counter allowing limit per key (< 0: no limit).
func NewCounter(limit int) *Counter {
	return &Counter{limit: limit, n: map[string]int{}}
}

// Acquire takes one unit for key; false when key holds the limit already.
func (c *Counter) Acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit >= 0 && c.n[key] >= c.limit {
		return false
	}
	c.n[key]++
	return true
}

// Release gives one unit of key back.
func (c *Counter) Release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.n[key] {
	case 0:
	case 1:
		delete(c.n, key)
	default:
		c.n[key]--
	}
}

// Count is what key holds.
func (c *Counter) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}
