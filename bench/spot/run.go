package spot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/bench"
	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/bench/report"
	"github.com/causeway/causeway/broker/naming"
)

// Bounds and defaults.
const (
	maxAccounts      = 1_000_000
	maxWorkers       = 1000
	maxResponseBytes = 8 << 20
	httpTimeout      = 30 * time.Second
	maxTransfer      = 10
)

// ErrInvalidConfig is wrapped by configuration errors.
var ErrInvalidConfig = errors.New("spot: invalid configuration")

// Config is the scenario's workload.
type Config struct {
	// Regions of the fabric; Home is where the collection lives (default
	// the first region). From lists the regions issuing transfers
	// (default every region).
	Regions        []geo.Region
	Home           string
	From           []string
	Tenant, Fabric string
	Token          string // authenticates every request
	Accounts       int
	Initial        int64
	// Rate is transfers per second over every region (0 = max).
	Rate     float64
	Duration time.Duration
	Count    int64
	Warmup   time.Duration
	Workers  int // per issuing region
	Label    string
	Progress io.Writer
	Keep     bool
	Extra    map[string]string
}

func (c Config) withDefaults() Config {
	if c.Home == "" && len(c.Regions) > 0 {
		c.Home = c.Regions[0].Name
	}
	if len(c.From) == 0 {
		for _, r := range c.Regions {
			c.From = append(c.From, r.Name)
		}
	}
	if c.Accounts == 0 {
		c.Accounts = 1000
	}
	if c.Initial == 0 {
		c.Initial = 1000
	}
	if c.Duration == 0 && c.Count == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	names := map[string]bool{}
	for _, r := range c.Regions {
		names[r.Name] = true
	}
	if !names[c.Home] {
		errs = append(errs, fmt.Errorf("home region %q is not among the regions", c.Home))
	}
	for _, f := range c.From {
		if !names[f] {
			errs = append(errs, fmt.Errorf("region %q is not among the regions", f))
		}
	}
	if c.Accounts < 2 || c.Accounts > maxAccounts {
		errs = append(errs, fmt.Errorf("accounts %d: want 2..%d", c.Accounts, maxAccounts))
	}
	if c.Initial < 0 || c.Rate < 0 || c.Count < 0 || c.Duration < 0 || c.Warmup < 0 {
		errs = append(errs, errors.New("balance, rate, count, duration and warm-up must not be negative"))
	}
	if c.Count == 0 && c.Warmup >= c.Duration {
		errs = append(errs, fmt.Errorf("warm-up %v must be shorter than the duration %v", c.Warmup, c.Duration))
	}
	if c.Workers < 1 || c.Workers > maxWorkers {
		errs = append(errs, fmt.Errorf("workers %d: want 1..%d per region", c.Workers, maxWorkers))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// Series and rate names.
const (
	LatencyTransfer = "transfer"
	RateTransfers   = "transfers"
)

// TransferSeries is the latency series of transfers issued in region.
func TransferSeries(region string) string { return LatencyTransfer + " from " + region }

type api struct {
	token  string // "" when the node runs without authentication
	prefix string
	httpc  *http.Client
}

func newAPI(base, tenant, fabric, token string, httpc *http.Client) *api {
	p := base
	if tenant != "" && tenant != naming.DefaultTenant {
		p += "/_tenant/" + url.PathEscape(tenant)
	}
	if fabric == "" {
		fabric = naming.SystemFabric
	}
	return &api{prefix: p + "/_fabric/" + url.PathEscape(fabric) + "/_api/", httpc: httpc, token: token}
}

func (a *api) do(ctx context.Context, method, path string, body []byte, okAlso ...int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.prefix+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	for _, c := range okAlso {
		if resp.StatusCode == c {
			return b, nil
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return nil, fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
}

func (a *api) txn(ctx context.Context, body []byte) ([]byte, error) {
	return a.do(ctx, http.MethodPost, "transaction", body)
}

type run struct {
	machine   report.Machine
	cfg       Config
	coll      string
	rec       *bench.Recorder
	committed atomic.Int64
}

// Run creates a SPOT collection of accounts homed in cfg.Home, runs
// transfers from every issuing region, and checks the total balance.
func Run(ctx context.Context, cfg Config) (report.Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return report.Report{}, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	r := &run{cfg: cfg, coll: "bench_accounts_" + hex.EncodeToString(id[:])}
	httpc := &http.Client{Timeout: httpTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Workers + 4, IdleConnTimeout: time.Minute}}
	defer httpc.CloseIdleConnections()
	apis := map[string]*api{}
	for _, reg := range cfg.Regions {
		apis[reg.Name] = newAPI(reg.HTTP, cfg.Tenant, cfg.Fabric, cfg.Token, httpc)
	}
	home := apis[cfg.Home]
	spec, _ := json.Marshal(map[string]any{"name": r.coll, "homeRegion": cfg.Home})
	if _, err := home.do(ctx, http.MethodPost, "spot/collection", spec); err != nil {
		return report.Report{}, fmt.Errorf("spot: create collection %s: %w", r.coll, err)
	}
	if !cfg.Keep {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpTimeout)
			defer cancel()
			_, _ = home.do(cctx, http.MethodDelete, "spot/collection/"+url.PathEscape(r.coll), nil, http.StatusNotFound)
		}()
	}
	for lo := 0; lo < cfg.Accounts; lo += maxTxnOps {
		if _, err := home.txn(ctx, seedBody(r.coll, lo, min(lo+maxTxnOps, cfg.Accounts), cfg.Initial)); err != nil {
			return report.Report{}, fmt.Errorf("spot: seed accounts: %w", err)
		}
	}

	type worker struct {
		region string
		api    *api
		rng    *mrand.Rand
	}
	var workers []worker
	for _, f := range cfg.From {
		for w := range cfg.Workers {
			workers = append(workers, worker{region: f, api: apis[f], rng: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(workers)+w)))})
		}
	}
	start := time.Now()
	r.machine = bench.ThisMachine() // the load average at the start
	r.rec = bench.NewRecorder(start, cfg.Warmup, time.Second)
	cpu0 := bench.SampleCPU(start)
	prog := bench.StartProgress(cfg.Progress, r.rec, bench.ProgressConfig{
		Title: "spot", Rate: RateTransfers, Latency: LatencyTransfer, Duration: cfg.Duration, Count: cfg.Count,
	})
	scheds := bench.SenderRates(start, cfg.Rate, len(workers))
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bench.Pace(ctx, scheds[i], bench.Share(cfg.Count, len(workers), i), end, func(_ int64, opStart time.Time) {
				from := w.rng.IntN(cfg.Accounts)
				to := (from + 1 + w.rng.IntN(cfg.Accounts-1)) % cfg.Accounts
				_, err := w.api.txn(ctx, transferBody(r.coll, from, to, 1+w.rng.Int64N(maxTransfer)))
				now := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						r.rec.Error(fmt.Errorf("transfer from %s: %w", w.region, err))
					}
					return
				}
				r.committed.Add(1)
				r.rec.Latency(LatencyTransfer, opStart, now)
				r.rec.Latency(TransferSeries(w.region), opStart, now)
				r.rec.Event(RateTransfers, now, 0)
				r.rec.Event(RateTransfers+" from "+w.region, now, 0)
			})
		}()
	}
	wg.Wait()
	stop := time.Now()
	prog.Stop()
	cpu := bench.CPUUse(cpu0, bench.SampleCPU(time.Now()))
	if ctx.Err() != nil {
		return report.Report{}, fmt.Errorf("spot: %w", ctx.Err())
	}
	sum, found, missing, err := r.total(ctx, home)
	if err != nil {
		return report.Report{}, err
	}
	return r.report(r.rec.Finish(stop), cpu, start, sum, found, missing), nil
}

// total reads every account back from the home region.
func (r *run) total(ctx context.Context, home *api) (sum int64, found, missing int, err error) {
	for lo := 0; lo < r.cfg.Accounts; lo += maxTxnOps {
		b, err := home.txn(ctx, readBody(r.coll, lo, min(lo+maxTxnOps, r.cfg.Accounts)))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("spot: read accounts back: %w", err)
		}
		s, f, m, err := sumBalances(b)
		if err != nil {
			return 0, 0, 0, err
		}
		sum, found, missing = sum+s, found+f, missing+m
	}
	return sum, found, missing, nil
}

func (r *run) report(res bench.Results, cpu report.CPU, start time.Time, sum int64, found, missing int) report.Report {
	cfg := r.cfg
	counts := res.Counts
	counts["committed"] = r.committed.Load()
	counts["accounts"] = int64(found)
	want := int64(cfg.Accounts) * cfg.Initial
	var regions []string
	for _, reg := range cfg.Regions {
		regions = append(regions, reg.Name)
	}
	extra := map[string]string{"home region": cfg.Home, "regions": strings.Join(regions, ","),
		"issuing regions": strings.Join(cfg.From, ","), "accounts": fmt.Sprint(cfg.Accounts)}
	for k, v := range cfg.Extra {
		extra[k] = v
	}
	rep := report.Report{
		Scenario: "spot", Target: "causeway", Label: cfg.Label, Started: start.UTC(),
		Params: report.Params{
			Rate: cfg.Rate, DurationSeconds: cfg.Duration.Seconds(), Count: cfg.Count, WarmupSeconds: cfg.Warmup.Seconds(),
			Workers: cfg.Workers * len(cfg.From), Correction: correction(cfg.Rate), Extra: extra,
		},
		Machine: r.machine, WindowSeconds: res.WindowSeconds, Counts: counts, Rates: res.Rates,
		Latencies: res.Latencies, CPU: cpu, Errors: res.Errors,
		Figures: map[string]float64{"balanceTotal": float64(sum), "balanceTotalExpected": float64(want)},
	}
	if cfg.Count > 0 {
		rep.Params.DurationSeconds = 0
	}
	if sum != want || missing > 0 {
		counts["invariantBroken"] = 1
		rep.Notes = append(rep.Notes, fmt.Sprintf("the accounts total %d (%d accounts found, %d missing), want %d: a transfer was applied in part or twice",
			sum, found, missing, want))
	}
	return rep
}

func correction(rate float64) string {
	if rate > 0 {
		return "intended-time scheduling (latency runs from each transfer's intended start)"
	}
	return "none needed at the maximum rate (latency runs from the request)"
}
