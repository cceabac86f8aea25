package broker

import (
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/internal/lograte"
)

// Metrics are the node's live counters: a plain struct the caller reads
// (the HTTP front end exports it to Prometheus through an adapter). Every
// field is safe for concurrent use.
type Metrics struct {
	MessagesIn     atomic.Uint64
	BytesIn        atomic.Uint64
	MessagesOut    atomic.Uint64
	BytesOut       atomic.Uint64
	PublishErrors  atomic.Uint64
	Duplicates     atomic.Uint64
	Producers      atomic.Int64
	Consumers      atomic.Int64
	Connections    atomic.Int64
	RejectedFrames atomic.Uint64
	// PublishLatency is the time from handing a batch to storage to its
	// durability, per batch.
	PublishLatency Histogram
	// refusals count failed publishes by reason (refusals.go).
	refusals refusals
}

func newMetrics() *Metrics { return &Metrics{refusals: refusals{rate: lograte.New(0)}} }

func (m *Metrics) observePublish(msgs, bytes int, d time.Duration) {
	m.MessagesIn.Add(uint64(msgs))
	m.BytesIn.Add(uint64(bytes))
	m.PublishLatency.Observe(d)
}

// ObserveDelivery counts messages handed to a consumer connection.
func (m *Metrics) ObserveDelivery(bytes int) {
	m.MessagesOut.Add(1)
	m.BytesOut.Add(uint64(bytes))
}

// HistogramBuckets are the upper bounds of Histogram's buckets, in seconds:
// 50µs doubling up to ~13s.
var HistogramBuckets = func() []float64 {
	b := make([]float64, 19)
	v := 50e-6
	for i := range b {
		b[i] = v
		v *= 2
	}
	return b
}()

// Histogram is a lock-free latency histogram with fixed buckets
// (HistogramBuckets plus an overflow bucket).
type Histogram struct {
	counts [20]atomic.Uint64
	sumNs  atomic.Uint64
	total  atomic.Uint64
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(HistogramBuckets) && s > HistogramBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(uint64(d.Nanoseconds()))
	h.total.Add(1)
}

// Snapshot returns cumulative bucket counts (Prometheus style), the count
// and the sum in seconds.
func (h *Histogram) Snapshot() (cumulative []uint64, count uint64, sumSeconds float64) {
	cumulative = make([]uint64, len(HistogramBuckets))
	var run uint64
	for i := range HistogramBuckets {
		run += h.counts[i].Load()
		cumulative[i] = run
	}
	return cumulative, h.total.Load(), float64(h.sumNs.Load()) / 1e9
}
