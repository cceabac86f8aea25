package broker

import (
	"fmt"
	"sort"
	"sync"

	"github.com/causeway/causeway/broker/segment"
)

// memLog is the storage of a non-persistent stream: a bounded in-memory
// ring of the newest records. It satisfies subscription.Source, so every
// subscription type works on non-persistent streams too; a consumer that
// falls further behind than the ring holds misses messages, as Pulsar's
// non-persistent topics drop messages for slow consumers.
type memLog struct {
	mu       sync.Mutex
	ring     []segment.Record
	start    uint64 // offset of the oldest record held
	end      uint64 // one past the newest
	changed  chan struct{}
	capacity int
}

func newMemLog(capacity int) *memLog {
	return &memLog{capacity: capacity, changed: make(chan struct{}), ring: make([]segment.Record, 0, min(capacity, 1024))}
}

// Append stores records and returns the first offset.
func (m *memLog) Append(recs []segment.Record) uint64 {
	m.mu.Lock()
	first := m.end
	for _, r := range recs {
		r.Offset = m.end
		if len(m.ring) < m.capacity {
			m.ring = append(m.ring, r)
		} else {
			m.ring[int(m.end%uint64(m.capacity))] = r
			m.start++
		}
		m.end++
	}
	ch := m.changed
	m.changed = make(chan struct{})
	m.mu.Unlock()
	close(ch)
	return first
}

func (m *memLog) slot(off uint64) segment.Record {
	if len(m.ring) < m.capacity {
		return m.ring[off]
	}
	return m.ring[int(off%uint64(m.capacity))]
}

// Read returns records from offset from, skipping forward past records the
// ring no longer holds.
func (m *memLog) Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if from < m.start {
		from = m.start
	}
	if from > m.end {
		return nil, fmt.Errorf("broker: read at %d past end %d", from, m.end)
	}
	var out []segment.Record
	bytes := 0
	for off := from; off < m.end && len(out) < maxRecords; off++ {
		r := m.slot(off)
		if len(out) > 0 && bytes+len(r.Payload) > maxBytes {
			break
		}
		bytes += len(r.Payload)
		out = append(out, r)
	}
	return out, nil
}

func (m *memLog) StartOffset() uint64 { m.mu.Lock(); defer m.mu.Unlock(); return m.start }
func (m *memLog) EndOffset() uint64   { m.mu.Lock(); defer m.mu.Unlock(); return m.end }

func (m *memLog) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *memLog) OffsetAtTime(ms int64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int(m.end - m.start)
	i := sort.Search(n, func(i int) bool { return m.slot(m.start+uint64(i)).PublishTime >= ms })
	return m.start + uint64(i)
}
