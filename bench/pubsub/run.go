package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/bench"
	"github.com/causeway/causeway/bench/report"
)

// Series and rate names in the report.
const (
	LatencyPublishAck     = "publish-ack"
	LatencyPublishDeliver = "publish-deliver"
	RatePublish           = "publish"
	RateDeliver           = "deliver"
)

// Timeouts of the shell.
const (
	cleanupTimeout = 30 * time.Second
	drainPoll      = 20 * time.Millisecond
)

type tracked struct {
	mu      sync.Mutex
	t       *Tracker
	stream  int
	latency string // the latency series of its deliveries
	rate    string // and its rate
}

// Sink is where consumers attach: the target itself in a one-node run, or
// each region of a fabric in a geo run.
type Sink struct {
	Region string // "" for a one-node run
	Target Target
}

// run is one execution of the workload.
type run struct {
	machine  report.Machine
	cfg      Config
	rec      atomic.Pointer[bench.Recorder]
	trackers []*tracked // per (stream, subscription)
	acked    []atomic.Int64
	sent     atomic.Int64
	received atomic.Int64
	dups     atomic.Int64
	foreign  atomic.Int64
}

// Run runs the workload against t and reports what it measured. The
// report's counts say whether every acknowledged message was delivered
// once to every subscription (lost, duplicates) and how many operations
// failed (errors).
func Run(ctx context.Context, t Target, cfg Config) (report.Report, error) {
	return RunFabric(ctx, t, "", []Sink{{Target: t}}, cfg)
}

// LagSeries names the latency series of deliveries from one region to
// another in a geo run.
func LagSeries(from, to string) string { return "lag " + from + ">" + to }

// RunFabric publishes through source (in region sourceRegion) and consumes
// from every sink: each sink's subscriptions must receive every message.
// With named sink regions, latencies and rates are reported per region
// pair (LagSeries, "deliver {region}") besides the totals.
func RunFabric(ctx context.Context, source Target, sourceRegion string, sinks []Sink, cfg Config) (report.Report, error) {
	t := source
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return report.Report{}, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	runID := hex.EncodeToString(id[:])
	plan := Plan{Partitions: cfg.Partitions, SubscriptionType: cfg.SubscriptionType, MaxInFlight: cfg.MaxInFlight, ReceiveQueue: cfg.ReceiveQueue}
	for i := range cfg.Streams {
		plan.Streams = append(plan.Streams, fmt.Sprintf("%s-%s-%d", cfg.StreamPrefix, runID, i))
	}
	if cfg.Stream != "" {
		plan.Streams = []string{cfg.Stream}
	}
	for k := range cfg.Subscriptions {
		plan.Subscriptions = append(plan.Subscriptions, fmt.Sprintf("sub-%d", k))
	}
	if err := t.Prepare(ctx, plan); err != nil {
		return report.Report{}, fmt.Errorf("pubsub: prepare %s: %w", t.Name(), err)
	}
	if !cfg.KeepStreams {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = t.Cleanup(cctx, plan)
		}()
	}
	for _, sk := range sinks {
		if sk.Target != source {
			if err := sk.Target.Prepare(ctx, plan); err != nil {
				return report.Report{}, fmt.Errorf("pubsub: prepare %s in %s: %w", sk.Target.Name(), sk.Region, err)
			}
		}
	}
	r := &run{cfg: cfg, acked: make([]atomic.Int64, cfg.Streams)}
	return r.execute(ctx, t, sourceRegion, sinks, plan)
}

func (r *run) execute(ctx context.Context, t Target, sourceRegion string, sinks []Sink, plan Plan) (report.Report, error) {
	cfg := r.cfg
	var consumers []Consumer
	defer func() {
		for _, c := range consumers {
			_ = c.Close()
		}
	}()
	if cfg.Consumers > 0 {
		for _, sk := range sinks {
			for s, stream := range plan.Streams {
				for _, sub := range plan.Subscriptions {
					tr := &tracked{t: NewTracker(), stream: s}
					if sk.Region != "" {
						tr.latency, tr.rate = LagSeries(sourceRegion, sk.Region), RateDeliver+" "+sk.Region
					}
					r.trackers = append(r.trackers, tr)
					for range cfg.Consumers {
						spec := ConsumerSpec{ID: len(consumers), Stream: stream, Subscription: sub, Type: cfg.SubscriptionType}
						cons, err := sk.Target.NewConsumer(ctx, spec, r.deliverTo(tr), r.fail)
						if err != nil {
							where := ""
							if sk.Region != "" {
								where = " in " + sk.Region
							}
							return report.Report{}, fmt.Errorf("pubsub: consumer %d on %s/%s%s: %w", spec.ID, stream, sub, where, err)
						}
						consumers = append(consumers, cons)
					}
				}
			}
		}
	}
	producers := make([]Producer, cfg.Producers)
	defer func() {
		for _, p := range producers {
			if p != nil {
				_ = p.Close()
			}
		}
	}()
	for i := range producers {
		p, err := t.NewProducer(ctx, i, plan.Streams[i%len(plan.Streams)])
		if err != nil {
			return report.Report{}, fmt.Errorf("pubsub: producer %d: %w", i, err)
		}
		producers[i] = p
	}

	start := time.Now()
	r.machine = bench.ThisMachine() // the load average at the start
	rec := bench.NewRecorder(start, cfg.Warmup, time.Second)
	r.rec.Store(rec)
	cpu0 := bench.SampleCPU(start)
	pc := bench.ProgressConfig{Title: t.Name(), Rate: RateDeliver, Latency: LatencyPublishDeliver, Duration: cfg.Duration, Count: cfg.Count}
	if cfg.Consumers == 0 {
		pc.Rate, pc.Latency = RatePublish, LatencyPublishAck // no deliveries: show the publish pace
	}
	prog := bench.StartProgress(cfg.Progress, rec, pc)
	progStopped := false
	defer func() {
		if !progStopped {
			prog.Stop()
		}
	}()

	scheds := bench.SenderRates(start, cfg.Rate, cfg.Producers)
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i, p := range producers {
		n := bench.Share(cfg.Count, cfg.Producers, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.produce(ctx, rec, p, uint32(i), i%cfg.Streams, scheds[i], n, end)
		}()
	}
	wg.Wait()
	stop := time.Now()

	var errs []error
	flushCtx, cancel := context.WithTimeout(ctx, cfg.DrainTimeout)
	for i, p := range producers {
		if err := p.Flush(flushCtx); err != nil {
			errs = append(errs, fmt.Errorf("producer %d: flush: %w", i, err))
		}
	}
	cancel()
	drained := r.drain(ctx, cfg.DrainTimeout)
	prog.Stop()
	progStopped = true
	cpu := bench.CPUUse(cpu0, bench.SampleCPU(time.Now()))
	if ctx.Err() != nil {
		return report.Report{}, fmt.Errorf("pubsub: %w", ctx.Err())
	}
	for _, err := range errs {
		rec.Error(err)
	}
	return r.report(t, rec.Finish(stop), cpu, start, drained), nil
}

// produce publishes producer pid's messages: n of them (n < 0: until end),
// each at its intended time when the rate is fixed.
func (r *run) produce(ctx context.Context, rec *bench.Recorder, p Producer, pid uint32, stream int, sched bench.Schedule, n int64, end time.Time) {
	payload := NewPayload(r.cfg.MessageBytes)
	size := len(payload)
	acked := &r.acked[stream]
	bench.Pace(ctx, sched, n, end, func(i int64, opStart time.Time) {
		Stamp{Producer: pid, Seq: uint64(i), Sent: opStart}.Put(payload)
		r.sent.Add(1)
		p.Publish(payload, func(err error) {
			now := time.Now()
			if err != nil {
				rec.Error(fmt.Errorf("publish: %w", err))
				return
			}
			acked.Add(1)
			rec.Latency(LatencyPublishAck, opStart, now)
			rec.Event(RatePublish, now, size)
		})
	})
}

func (r *run) deliverTo(tr *tracked) Deliver {
	return func(payload []byte, at time.Time) {
		rec := r.rec.Load()
		if rec == nil {
			r.foreign.Add(1)
			return
		}
		st, err := ReadStamp(payload)
		if err != nil {
			r.foreign.Add(1)
			rec.Error(err)
			return
		}
		tr.mu.Lock()
		dup, err := tr.t.Add(st.Producer, st.Seq)
		tr.mu.Unlock()
		if err != nil {
			rec.Error(err)
			return
		}
		r.received.Add(1)
		if dup {
			r.dups.Add(1)
			return
		}
		rec.Latency(LatencyPublishDeliver, st.Sent, at)
		rec.Event(RateDeliver, at, len(payload))
		if tr.latency != "" {
			rec.Latency(tr.latency, st.Sent, at)
			rec.Event(tr.rate, at, len(payload))
		}
	}
}

func (r *run) fail(err error) {
	if rec := r.rec.Load(); rec != nil {
		rec.Error(fmt.Errorf("consume: %w", err))
	}
}

// drain waits until every subscription has received every acknowledged
// message of its stream, or the timeout; it reports whether they all did.
func (r *run) drain(ctx context.Context, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for {
		if r.missing() == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
}

// missing counts acknowledged messages not yet received, over every
// subscription.
func (r *run) missing() int64 {
	var n int64
	for _, tr := range r.trackers {
		tr.mu.Lock()
		u := tr.t.Unique()
		tr.mu.Unlock()
		if d := r.acked[tr.stream].Load() - u; d > 0 {
			n += d
		}
	}
	return n
}

func (r *run) report(t Target, res bench.Results, cpu report.CPU, start time.Time, drained bool) report.Report {
	cfg := r.cfg
	var acked int64
	for i := range r.acked {
		acked += r.acked[i].Load()
	}
	counts := res.Counts
	counts["sent"] = r.sent.Load()
	counts["acked"] = acked
	counts["received"] = r.received.Load()
	counts["duplicates"] = r.dups.Load()
	if cfg.Consumers > 0 {
		counts["missing"] = r.missing()
		counts["expected"] = acked * int64(len(r.trackers)/cfg.Streams) // sinks × subscriptions
	}
	if n := r.foreign.Load(); n > 0 {
		counts["foreign"] = n
	}
	rep := report.Report{
		Scenario: "pubsub",
		Target:   t.Name(),
		Label:    cfg.Label,
		Started:  start.UTC(),
		Params: report.Params{
			MessageBytes: cfg.MessageBytes, Rate: cfg.Rate, DurationSeconds: cfg.Duration.Seconds(), Count: cfg.Count,
			WarmupSeconds: cfg.Warmup.Seconds(), Producers: cfg.Producers, Consumers: cfg.Consumers,
			Subscriptions: cfg.Subscriptions, Streams: cfg.Streams, Partitions: cfg.Partitions,
			SubscriptionType: cfg.SubscriptionType, Fsync: cfg.Fsync, Extra: cfg.Extra,
			Correction: Correction(cfg.Rate),
		},
		Machine:       r.machine,
		WindowSeconds: res.WindowSeconds,
		Counts:        counts,
		Rates:         res.Rates,
		Latencies:     res.Latencies,
		CPU:           cpu,
		Errors:        res.Errors,
	}
	if cfg.Count > 0 {
		rep.Params.DurationSeconds = 0
	}
	if cfg.Consumers > 0 && !drained {
		rep.Notes = append(rep.Notes, fmt.Sprintf("not every acknowledged message was delivered within the drain timeout (%v)", cfg.DrainTimeout))
	}
	if x, ok := rep.Rate(RatePublish); ok && cfg.Rate > 0 && x.PerSec < 0.95*cfg.Rate {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the target did not sustain the requested rate: %s/s of %s/s",
			report.FormatRate(x.PerSec), report.FormatRate(cfg.Rate)))
	}
	return rep
}

// Correction describes how latencies are corrected for coordinated
// omission at rate (0 = max).
func Correction(rate float64) string {
	if rate > 0 {
		return "intended-time scheduling (latency runs from each message's intended send time)"
	}
	return "none needed at the maximum rate (latency runs from the send)"
}
