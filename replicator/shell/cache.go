package shell

import (
	"sync"

	"github.com/causeway/causeway/replicator"
)

// Bounds of the journal tail cache, per origin.
const (
	maxCachedOps   = 32768
	maxCachedBytes = 32 << 20
)

// tailCache keeps the most recently journaled ops of each origin in
// memory, so that senders usually build batches without reading the
// journal back from disk. Entries are added by the loop when their journal
// write starts; senders only ask for ranges the engine scheduled after the
// ops were durable, so reading them here is as safe as from disk.
type tailCache struct {
	mu     sync.Mutex
	origin map[string]*opRing
}

// opRing holds consecutive ops first..first+len-1.
type opRing struct {
	entries []replicator.JournalEntry // circular, cap maxCachedOps
	start   int                       // index of first
	n       int
	first   uint64
	bytes   int
}

func newTailCache() *tailCache { return &tailCache{origin: make(map[string]*opRing)} }

func entryBytes(e replicator.JournalEntry) int { return len(e.Meta) + len(e.Body) + 48 }

// put appends the op that follows the cached ones (or restarts the ring
// when it does not).
func (c *tailCache) put(origin string, e replicator.JournalEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.origin[origin]
	if r == nil {
		r = &opRing{entries: make([]replicator.JournalEntry, maxCachedOps)}
		c.origin[origin] = r
	}
	if r.n > 0 && e.Seq != r.first+uint64(r.n) {
		clear(r.entries)
		r.n, r.bytes = 0, 0
	}
	if r.n == 0 {
		r.start, r.first = 0, e.Seq
	}
	size := entryBytes(e)
	for r.n > 0 && (r.n == maxCachedOps || r.bytes+size > maxCachedBytes) {
		r.bytes -= entryBytes(r.entries[r.start])
		r.entries[r.start] = replicator.JournalEntry{}
		r.start = (r.start + 1) % maxCachedOps
		r.first++
		r.n--
	}
	if size > maxCachedBytes {
		return
	}
	r.entries[(r.start+r.n)%maxCachedOps] = e
	r.n++
	r.bytes += size
}

// drop forgets origin's cached ops (heal: ops whose journal write failed
// may be cached).
func (c *tailCache) drop(origin string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.origin, origin)
}

// get returns ops from..to when they are all cached.
func (c *tailCache) get(origin string, from, to uint64) ([]replicator.JournalEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.origin[origin]
	if r == nil || r.n == 0 || from < r.first || to >= r.first+uint64(r.n) || to < from {
		return nil, false
	}
	out := make([]replicator.JournalEntry, 0, to-from+1)
	for s := from; s <= to; s++ {
		out = append(out, r.entries[(r.start+int(s-r.first))%maxCachedOps])
	}
	return out, true
}
