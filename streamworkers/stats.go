package streamworkers

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are one running worker's figures, as GET shows them.
type Stats struct {
	Region  string `json:"region"`
	Running bool   `json:"running"`
	// Status is "running", "idle" or what the worker waits for.
	Status    string `json:"status"`
	LastError string `json:"lastError,omitempty"`
	Version   int64  `json:"version"`
	// Totals since the worker was created (kept in its checkpoint).
	EventsIn uint64 `json:"eventsIn"`
	RowsOut  uint64 `json:"rowsOut"`
	Errors   uint64 `json:"errors"`
	// Rates over the last second or so.
	InPerSecond  float64 `json:"inPerSecond"`
	OutPerSecond float64 `json:"outPerSecond"`
	// Lag is the messages of the inputs not consumed yet.
	Lag        uint64            `json:"lag"`
	StateBytes int64             `json:"stateBytes"`
	Pending    int64             `json:"pendingRows"`
	Positions  map[string]uint64 `json:"positions,omitempty"`
}

// workerStats is a worker's live figures: its goroutine writes, the HTTP
// API and the Prometheus collector read.
type workerStats struct {
	in, out, errs atomic.Uint64
	lag           atomic.Uint64
	stateBytes    atomic.Int64
	pending       atomic.Int64
	version       atomic.Int64

	mu        sync.Mutex
	status    string
	lastError string
	positions map[string]uint64
	// rate sampling (sample)
	lastIn, lastOut uint64
	lastAt          time.Time
	inRate, outRate float64
}

func (s *workerStats) setStatus(status string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
	if err != nil {
		s.lastError = err.Error()
	}
}

func (s *workerStats) setPositions(p map[string]uint64) {
	c := make(map[string]uint64, len(p))
	for k, v := range p {
		c[k] = v
	}
	s.mu.Lock()
	s.positions = c
	s.mu.Unlock()
}

// sample updates the rates (the runner calls it about once a second).
func (s *workerStats) sample(now time.Time) {
	in, out := s.in.Load(), s.out.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastAt.IsZero() {
		if dt := now.Sub(s.lastAt).Seconds(); dt > 0 {
			s.inRate = float64(in-min(in, s.lastIn)) / dt
			s.outRate = float64(out-min(out, s.lastOut)) / dt
		}
	}
	s.lastIn, s.lastOut, s.lastAt = in, out, now
}

func (s *workerStats) snapshot(region string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	pos := make(map[string]uint64, len(s.positions))
	for k, v := range s.positions {
		pos[k] = v
	}
	return Stats{
		Region: region, Running: true, Status: s.status, LastError: s.lastError, Version: s.version.Load(),
		EventsIn: s.in.Load(), RowsOut: s.out.Load(), Errors: s.errs.Load(),
		InPerSecond: s.inRate, OutPerSecond: s.outRate,
		Lag: s.lag.Load(), StateBytes: s.stateBytes.Load(), Pending: s.pending.Load(), Positions: pos,
	}
}
