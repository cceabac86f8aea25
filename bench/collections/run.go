package collections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/bench"
	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/bench/report"
)

// Bounds and defaults.
const (
	maxWriters         = 1000
	maxDocBytes        = 1 << 20
	maxKeysPerWorker   = 100000 // keys a worker remembers to patch and read
	defaultConvergence = 60 * time.Second
	convergencePoll    = 50 * time.Millisecond
	queryLimit         = 10
	httpTimeout        = 30 * time.Second
)

// ErrInvalidConfig is wrapped by configuration errors.
var ErrInvalidConfig = errors.New("collections: invalid configuration")

// Config is the scenario's workload.
type Config struct {
	// Regions are where writers run; one region is a single node.
	Regions        []geo.Region
	Tenant, Fabric string
	Token          string // authenticates every request
	Mix            Mix
	// Rate is operations per second over all writers (0 = max).
	Rate     float64
	Duration time.Duration
	Count    int64 // operations in total (0: by Duration)
	Warmup   time.Duration
	Writers  int // per region
	DocBytes int // size of each document's padding
	// ConvergenceTimeout bounds the wait for every region to agree.
	ConvergenceTimeout time.Duration
	Label              string
	Progress           io.Writer
	KeepCollection     bool
	Extra              map[string]string
}

func (c Config) withDefaults() Config {
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.Duration == 0 && c.Count == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Writers == 0 {
		c.Writers = 4
	}
	if c.DocBytes == 0 {
		c.DocBytes = 256
	}
	if c.ConvergenceTimeout == 0 {
		c.ConvergenceTimeout = defaultConvergence
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if len(c.Regions) == 0 {
		errs = append(errs, errors.New("no region"))
	}
	if err := c.Mix.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Rate < 0 || c.Count < 0 || c.Duration < 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("rate, count, duration and warm-up must not be negative"))
	}
	if c.Count == 0 && c.Warmup >= c.Duration {
		errs = append(errs, fmt.Errorf("warm-up %v must be shorter than the duration %v", c.Warmup, c.Duration))
	}
	if c.Writers < 1 || c.Writers > maxWriters {
		errs = append(errs, fmt.Errorf("writers %d: want 1..%d per region", c.Writers, maxWriters))
	}
	if c.DocBytes < 0 || c.DocBytes > maxDocBytes {
		errs = append(errs, fmt.Errorf("document size %d: want 0..%d", c.DocBytes, maxDocBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// opPlurals name the per-operation counts of the report.
var opPlurals = [numOps]string{"inserts", "patches", "reads", "queries"}

// RateOps is the rate of all operations together.
const RateOps = "ops"

type worker struct {
	region string
	api    *api
	rng    *mrand.Rand
	keys   []string
	prefix string
}

type run struct {
	machine  report.Machine
	cfg      Config
	coll     string
	rec      *bench.Recorder
	inserted atomic.Int64
	patched  atomic.Int64
	perOp    [numOps]atomic.Int64
}

// Run creates a collection, runs the mix from every region, waits for the
// regions to converge and reports.
func Run(ctx context.Context, cfg Config) (report.Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return report.Report{}, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	r := &run{cfg: cfg, coll: "bench_" + hex.EncodeToString(id[:])}
	httpc := &http.Client{Timeout: httpTimeout, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.Writers + 4, MaxIdleConns: (cfg.Writers + 4) * len(cfg.Regions), IdleConnTimeout: time.Minute,
	}}
	defer httpc.CloseIdleConnections()
	apis := make([]*api, len(cfg.Regions))
	for i, reg := range cfg.Regions {
		apis[i] = newAPI(reg.HTTP, cfg.Tenant, cfg.Fabric, cfg.Token, httpc)
	}
	for i, a := range apis {
		if err := a.createCollection(ctx, r.coll); err != nil {
			return report.Report{}, fmt.Errorf("collections: create %s in %s: %w", r.coll, cfg.Regions[i].Name, err)
		}
	}
	if !cfg.KeepCollection {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpTimeout)
			defer cancel()
			for _, a := range apis {
				_ = a.dropCollection(cctx, r.coll)
			}
		}()
	}
	var workers []*worker
	for i, reg := range cfg.Regions {
		for w := range cfg.Writers {
			workers = append(workers, &worker{
				region: reg.Name, api: apis[i], rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(workers)))),
				prefix: fmt.Sprintf("%s-%d-", reg.Name, w),
			})
		}
	}

	start := time.Now()
	r.machine = bench.ThisMachine() // the load average at the start
	r.rec = bench.NewRecorder(start, cfg.Warmup, time.Second)
	cpu0 := bench.SampleCPU(start)
	prog := bench.StartProgress(cfg.Progress, r.rec, bench.ProgressConfig{
		Title: "collections", Rate: RateOps, Latency: Insert.String(), Duration: cfg.Duration, Count: cfg.Count,
	})
	scheds := bench.SenderRates(start, cfg.Rate, len(workers))
	end := start.Add(cfg.Duration)
	pad := strings.Repeat("x", cfg.DocBytes)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bench.Pace(ctx, scheds[i], bench.Share(cfg.Count, len(workers), i), end, func(n int64, opStart time.Time) {
				r.op(ctx, w, n, opStart, pad)
			})
		}()
	}
	wg.Wait()
	stop := time.Now()
	prog.Stop()
	conv, convErr := r.converge(ctx, apis)
	cpu := bench.CPUUse(cpu0, bench.SampleCPU(time.Now()))
	if ctx.Err() != nil {
		return report.Report{}, fmt.Errorf("collections: %w", ctx.Err())
	}
	return r.report(r.rec.Finish(stop), cpu, start, conv, convErr), nil
}

// op runs one operation of worker w.
func (r *run) op(ctx context.Context, w *worker, n int64, opStart time.Time, pad string) {
	o := r.cfg.Mix.Pick(w.rng.IntN(r.cfg.Mix.Total()), len(w.keys) > 0)
	var err error
	switch o {
	case Insert:
		key := w.prefix + fmt.Sprint(n)
		doc, _ := json.Marshal(map[string]any{"_key": key, "n": 0, "region": w.region, "pad": pad})
		if err = w.api.insert(ctx, r.coll, doc); err == nil {
			r.inserted.Add(1)
			if len(w.keys) < maxKeysPerWorker {
				w.keys = append(w.keys, key)
			}
		}
	case Patch:
		if err = w.api.increment(ctx, r.coll, w.keys[w.rng.IntN(len(w.keys))]); err == nil {
			r.patched.Add(1)
		}
	case Read:
		err = w.api.read(ctx, r.coll, w.keys[w.rng.IntN(len(w.keys))])
	case Query:
		from := w.prefix
		if len(w.keys) > 0 {
			from = w.keys[w.rng.IntN(len(w.keys))]
		}
		_, err = w.api.query(ctx, fmt.Sprintf("SELECT _key, n FROM %s WHERE _key >= @from ORDER BY _key LIMIT %d", r.coll, queryLimit),
			map[string]any{"from": from})
	}
	now := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			r.rec.Error(fmt.Errorf("%s in %s: %w", o, w.region, err))
		}
		return
	}
	r.perOp[o].Add(1)
	r.rec.Latency(o.String(), opStart, now)
	r.rec.Event(RateOps, now, 0)
	r.rec.Event(o.String(), now, 0)
	if len(r.cfg.Regions) > 1 {
		r.rec.Latency(o.String()+" "+w.region, opStart, now)
	}
}

// convergence is how the regions came to agree after the load.
type convergence struct {
	want     Tally
	got      []Tally
	seconds  float64
	agreed   bool
	attempts int
}

// converge polls every region's tally until all equal the expected one or
// the timeout passes.
func (r *run) converge(ctx context.Context, apis []*api) (convergence, error) {
	c := convergence{want: Tally{Docs: r.inserted.Load(), Sum: r.patched.Load()}}
	start := time.Now()
	deadline := start.Add(r.cfg.ConvergenceTimeout)
	tick := time.NewTicker(convergencePoll)
	defer tick.Stop()
	var lastErr error
	for {
		c.attempts++
		c.got = c.got[:0]
		lastErr = nil
		for _, a := range apis {
			t, err := a.tally(ctx, r.coll)
			if err != nil {
				lastErr = err
				break
			}
			c.got = append(c.got, t)
		}
		if lastErr == nil && converged(c.want, c.got) {
			c.agreed = true
			c.seconds = time.Since(start).Seconds()
			return c, nil
		}
		if time.Now().After(deadline) {
			c.seconds = time.Since(start).Seconds()
			return c, lastErr
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return c, ctx.Err()
		}
	}
}

func (r *run) report(res bench.Results, cpu report.CPU, start time.Time, conv convergence, convErr error) report.Report {
	cfg := r.cfg
	counts := res.Counts
	for o := range numOps {
		counts[opPlurals[o]] = r.perOp[o].Load()
	}
	counts["documents"] = conv.want.Docs
	counts["increments"] = conv.want.Sum
	var names []string
	for _, reg := range cfg.Regions {
		names = append(names, reg.Name)
	}
	extra := map[string]string{"mix": cfg.Mix.String(), "regions": strings.Join(names, ","), "documentBytes": fmt.Sprint(cfg.DocBytes)}
	for k, v := range cfg.Extra {
		extra[k] = v
	}
	rep := report.Report{
		Scenario: "collections", Target: "causeway", Label: cfg.Label, Started: start.UTC(),
		Params: report.Params{
			MessageBytes: cfg.DocBytes, Rate: cfg.Rate, DurationSeconds: cfg.Duration.Seconds(), Count: cfg.Count,
			WarmupSeconds: cfg.Warmup.Seconds(), Workers: cfg.Writers * len(cfg.Regions),
			Correction: correction(cfg.Rate), Extra: extra,
		},
		Machine: r.machine, WindowSeconds: res.WindowSeconds, Counts: counts, Rates: res.Rates,
		Latencies: res.Latencies, CPU: cpu, Errors: res.Errors,
		Figures: map[string]float64{"convergenceSeconds": float64(int64(conv.seconds*1000)) / 1000},
	}
	if cfg.Count > 0 {
		rep.Params.DurationSeconds = 0
	}
	if !conv.agreed {
		counts["unconverged"] = 1
		detail := fmt.Sprintf("regions did not converge within %v: want %d documents with counters summing to %d, got %+v",
			cfg.ConvergenceTimeout, conv.want.Docs, conv.want.Sum, conv.got)
		if convErr != nil {
			detail += fmt.Sprintf(" (last error: %v)", convErr)
		}
		rep.Notes = append(rep.Notes, detail)
	}
	return rep
}

func correction(rate float64) string {
	if rate > 0 {
		return "intended-time scheduling (latency runs from each operation's intended start)"
	}
	return "none needed at the maximum rate (latency runs from the request)"
}
