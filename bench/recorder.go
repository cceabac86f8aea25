package bench

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/bench/report"
)

// Recorder bounds.
const (
	maxErrorSamples = 8    // distinct error messages kept for the report
	maxErrorBytes   = 300  // of each
	maxSeries       = 1000 // latency series per run (e.g. region pairs)
)

// Recorder collects one run's latencies, rates and counts. Operations that
// started before the end of the warm-up are counted but kept out of the
// latency figures; events before it, or after Stop, are kept out of the
// rates. Timelines cover the whole run, in intervals of the recorder's
// interval by completion time. It is safe for concurrent use and holds no
// clock: every time is passed in.
type Recorder struct {
	start, measureFrom time.Time
	interval           time.Duration

	mu       sync.Mutex
	series   map[string]*series
	order    []string
	rates    map[string]*rate
	rateKeys []string
	counters map[string]*atomic.Int64
	errs     []string
}

type series struct {
	all      *Histogram // measured window
	cur      *Histogram // current timeline interval
	curIdx   int64
	timeline []report.Point
}

type rate struct {
	total        atomic.Int64 // all events (for progress)
	count, bytes atomic.Int64 // events in the measured window
	last         atomic.Int64 // unix nanos of the latest event in the window
}

// NewRecorder starts a run at start whose first warmup is not measured;
// timelines use interval (default one second when <= 0).
func NewRecorder(start time.Time, warmup, interval time.Duration) *Recorder {
	if interval <= 0 {
		interval = time.Second
	}
	return &Recorder{
		start: start, measureFrom: start.Add(warmup), interval: interval,
		series:   make(map[string]*series),
		rates:    make(map[string]*rate),
		counters: make(map[string]*atomic.Int64),
	}
}

// MeasureFrom is the end of the warm-up.
func (r *Recorder) MeasureFrom() time.Time { return r.measureFrom }

// Latency records an operation that started (or was intended to start) at
// opStart and completed at done, in the series name.
func (r *Recorder) Latency(name string, opStart, done time.Time) {
	d := done.Sub(opStart)
	idx := int64(done.Sub(r.start) / r.interval)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seriesLocked(name)
	if s == nil {
		return
	}
	if !opStart.Before(r.measureFrom) {
		s.all.Record(d)
	}
	if idx > s.curIdx {
		r.flushLocked(s)
		s.curIdx = idx
	}
	s.cur.Record(d)
}

func (r *Recorder) seriesLocked(name string) *series {
	s, ok := r.series[name]
	if !ok {
		if len(r.series) >= maxSeries {
			return nil
		}
		s = &series{all: NewHistogram(), cur: newHistogram(timelineSigFigs)}
		r.series[name] = s
		r.order = append(r.order, name)
	}
	return s
}

// flushLocked closes the current timeline interval of s.
func (r *Recorder) flushLocked(s *series) {
	if s.cur.Count() == 0 {
		return
	}
	end := time.Duration(s.curIdx+1) * r.interval
	s.timeline = append(s.timeline, report.Point{
		Second: end.Seconds(), Count: s.cur.Count(),
		P50Us: s.cur.Quantile(50), P99Us: s.cur.Quantile(99), MaxUs: s.cur.Quantile(100),
	})
	s.cur.Reset()
}

// Event counts one completed operation of the rate name carrying bytes of
// payload (0 if none). A rate is measured from the end of the warm-up to
// its latest event, so a consumer still draining a backlog after the load
// stopped is measured at the pace it kept.
func (r *Recorder) Event(name string, done time.Time, bytes int) {
	x := r.rate(name)
	x.total.Add(1)
	if done.Before(r.measureFrom) {
		return
	}
	x.count.Add(1)
	x.bytes.Add(int64(bytes))
	t := done.UnixNano()
	for {
		last := x.last.Load()
		if t <= last || x.last.CompareAndSwap(last, t) {
			return
		}
	}
}

func (r *Recorder) rate(name string) *rate {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.rates[name]
	if !ok {
		x = &rate{}
		r.rates[name] = x
		r.rateKeys = append(r.rateKeys, name)
	}
	return x
}

// Counter returns the counter name, creating it at zero; keep the pointer
// on hot paths.
func (r *Recorder) Counter(name string) *atomic.Int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.counters[name]
	if !ok {
		c = new(atomic.Int64)
		r.counters[name] = c
	}
	return c
}

// Error counts an error and keeps its message if it is one of the first
// few distinct ones.
func (r *Recorder) Error(err error) {
	if err == nil {
		return
	}
	r.Counter("errors").Add(1)
	msg := err.Error()
	if len(msg) > maxErrorBytes {
		msg = msg[:maxErrorBytes] + "..."
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) >= maxErrorSamples {
		return
	}
	for _, e := range r.errs {
		if e == msg {
			return
		}
	}
	r.errs = append(r.errs, msg)
}

// Live is a snapshot for the progress line.
type Live struct {
	Totals map[string]int64   // events per rate name, warm-up included
	P99Us  map[string]float64 // per latency series, measured window so far
	Errors int64
}

// Live takes a snapshot.
func (r *Recorder) Live() Live {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := Live{Totals: make(map[string]int64, len(r.rates)), P99Us: make(map[string]float64, len(r.series))}
	for k, x := range r.rates {
		l.Totals[k] = x.total.Load()
	}
	for k, s := range r.series {
		l.P99Us[k] = s.all.Quantile(99)
	}
	if c, ok := r.counters["errors"]; ok {
		l.Errors = c.Load()
	}
	return l
}

// Results is what the recorder measured, ready for a report.
type Results struct {
	WindowSeconds float64
	Counts        map[string]int64
	Rates         []report.Rate
	Latencies     []report.Latency
	Errors        []string
}

// Finish closes the timelines and computes the rates. Series and rates
// come out sorted by name (a total before its per-region parts). stop is the moment
// the load stopped: WindowSeconds runs from the end of the warm-up to it.
func (r *Recorder) Finish(stop time.Time) Results {
	r.mu.Lock()
	defer r.mu.Unlock()
	window := max(stop.Sub(r.measureFrom).Seconds(), 0)
	res := Results{WindowSeconds: window, Counts: make(map[string]int64), Errors: append([]string(nil), r.errs...)}
	for k, c := range r.counters {
		res.Counts[k] = c.Load()
	}
	if _, ok := res.Counts["errors"]; !ok {
		res.Counts["errors"] = 0
	}
	slices.Sort(r.rateKeys)
	slices.Sort(r.order)
	for _, k := range r.rateKeys {
		x := r.rates[k]
		rt := report.Rate{Name: k}
		if last := x.last.Load(); last != 0 {
			if w := time.Unix(0, last).Sub(r.measureFrom).Seconds(); w > 0 {
				rt.PerSec = roundTo(float64(x.count.Load())/w, 1)
				rt.BytesPerSec = roundTo(float64(x.bytes.Load())/w, 0)
			}
		}
		res.Rates = append(res.Rates, rt)
	}
	for _, k := range r.order {
		s := r.series[k]
		r.flushLocked(s)
		res.Latencies = append(res.Latencies, report.Latency{
			Name: k, Summary: s.all.Summary(), Distribution: s.all.Distribution(),
			Timeline: append([]report.Point(nil), s.timeline...),
		})
		if n := s.all.Clamped(); n > 0 {
			res.Counts["clamped "+k] = n
		}
	}
	return res
}
