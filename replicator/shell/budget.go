package shell

import "sync"

// byteBudget bounds the bytes held by a queue: acquire waits until the
// bytes fit (a single item larger than the whole budget goes alone).
type byteBudget struct {
	mu     sync.Mutex
	cond   *sync.Cond
	used   int
	max    int
	closed bool
}

func newByteBudget(maxBytes int) *byteBudget {
	b := &byteBudget{max: maxBytes}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire takes n bytes, waiting for room; false once closed.
func (b *byteBudget) acquire(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	if b.closed {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *byteBudget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}
