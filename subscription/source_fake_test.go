package subscription

import (
	"errors"
	"fmt"
	"sync"

	"github.com/causeway/causeway/broker/segment"
)

// memSource is a tiny in-memory Source for shell tests.
type memSource struct {
	mu        sync.Mutex
	recs      []segment.Record // recs[i].Offset == start+i
	start     uint64
	changed   chan struct{}
	failReads int // fail this many Reads
}

var errInjected = errors.New("injected read failure")

func newMemSource() *memSource { return &memSource{changed: make(chan struct{})} }

// publish appends records with payloads "m<offset>" and publish times
// 1000*offset.
func (m *memSource) publish(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		off := m.start + uint64(len(m.recs))
		m.recs = append(m.recs, segment.Record{Offset: off, PublishTime: int64(off) * 1000, Payload: fmt.Appendf(nil, "m%d", off)})
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// trim drops records below start (retention).
func (m *memSource) trim(start uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if start > m.start {
		m.recs = m.recs[start-m.start:]
		m.start = start
	}
}

func (m *memSource) Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failReads > 0 {
		m.failReads--
		return nil, errInjected
	}
	if from < m.start {
		return nil, fmt.Errorf("read %d below start %d: %w", from, m.start, segment.ErrOffsetOutOfRange)
	}
	i := from - m.start
	if i >= uint64(len(m.recs)) {
		return nil, nil
	}
	n := min(uint64(maxRecords), uint64(len(m.recs))-i)
	return append([]segment.Record(nil), m.recs[i:i+n]...), nil
}

func (m *memSource) StartOffset() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.start
}

func (m *memSource) EndOffset() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.start + uint64(len(m.recs))
}

func (m *memSource) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *memSource) OffsetAtTime(ms int64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.PublishTime >= ms {
			return r.Offset
		}
	}
	return m.start + uint64(len(m.recs))
}
