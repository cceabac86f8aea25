package bench

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/causeway/causeway/bench/report"
)

// Histogram bounds: values are microseconds from 1 µs to maxLatency, kept to
// 3 significant digits; values outside are clamped and counted in Clamped.
const (
	maxLatency        = time.Hour
	histogramSigFigs  = 3
	timelineSigFigs   = 2
	minRecordableUs   = 1
	distributionSteps = 5 // points per decade of 1/(1-q) in Distribution
)

// Histogram is a latency histogram in microseconds. It is not safe for
// concurrent use; Recorder serializes access.
type Histogram struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

// NewHistogram returns an empty histogram with 3 significant digits.
func NewHistogram() *Histogram { return newHistogram(histogramSigFigs) }

func newHistogram(sigFigs int) *Histogram {
	return &Histogram{h: hdrhistogram.New(minRecordableUs, maxLatency.Microseconds(), sigFigs)}
}

// Record adds one latency. Values below 1 µs count as 1 µs and values above
// an hour as an hour (and are counted in Clamped).
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < minRecordableUs {
		us = minRecordableUs
	}
	if us > maxLatency.Microseconds() {
		us = maxLatency.Microseconds()
		h.clamped++
	}
	_ = h.h.RecordValue(us) // cannot fail: us is within range
}

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Clamped is the number of values above the histogram's range.
func (h *Histogram) Clamped() int64 { return h.clamped }

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
	h.clamped += o.clamped
}

// Reset empties h.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.clamped = 0
}

// Quantile is the latency at percentile q (0..100), in microseconds.
func (h *Histogram) Quantile(q float64) float64 {
	if h.h.TotalCount() == 0 {
		return 0
	}
	return float64(h.h.ValueAtQuantile(q))
}

// Summary is count, min, mean, p50, p90, p99, p99.9 and max; all zero for
// an empty histogram.
func (h *Histogram) Summary() report.Summary {
	if h.h.TotalCount() == 0 {
		return report.Summary{}
	}
	return report.Summary{
		Count:  h.h.TotalCount(),
		MinUs:  float64(h.h.Min()),
		MeanUs: math.Round(h.h.Mean()*10) / 10,
		P50Us:  h.Quantile(50),
		P90Us:  h.Quantile(90),
		P99Us:  h.Quantile(99),
		P999Us: h.Quantile(99.9),
		MaxUs:  float64(h.h.Max()),
	}
}

// Distribution samples the latency-by-percentile curve at percentiles
// spaced evenly on 1/(1-q) (0, 36.9, 60.2, ... 99, ... 99.999), as HDR
// plots draw it, ending with the maximum.
func (h *Histogram) Distribution() []report.Quantile {
	if h.h.TotalCount() == 0 {
		return nil
	}
	var out []report.Quantile
	for i := 0; ; i++ {
		tail := math.Pow(10, -float64(i)/distributionSteps) // 1-q
		q := 100 * (1 - tail)
		if tail < 1e-5 {
			break
		}
		q = math.Round(q*1e4) / 1e4
		out = append(out, report.Quantile{Percentile: q, Us: h.Quantile(q)})
	}
	return append(out, report.Quantile{Percentile: 100, Us: float64(h.h.Max())})
}
