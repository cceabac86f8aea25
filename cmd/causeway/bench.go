package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	colbench "github.com/causeway/causeway/bench/collections"
	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/bench/plot"
	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/bench/report"
	spotbench "github.com/causeway/causeway/bench/spot"
	"github.com/causeway/causeway/bench/target/causewayws"
	"github.com/causeway/causeway/bench/target/franzgo"
	"github.com/causeway/causeway/bench/target/kafkago"
	"github.com/causeway/causeway/bench/target/natsjs"
	"github.com/causeway/causeway/bench/target/redisstreams"
)

const benchUsage = `causeway bench: load-test a node or a fabric and report what was measured

Usage:
  causeway bench pubsub      [flags]   publish and consume over WebSocket (--binary: causeway-binary-v1; --target causeway-binary,causeway,nats,redis for peers)
  causeway bench kafka       [flags]   the same through the Kafka listener (franz-go, or --client kafka-go)
  causeway bench geo         [flags]   publish in one region, consume in every other (replication lag)
  causeway bench collections [flags]   document writes, point reads and queries over HTTP; convergence
  causeway bench spot        [flags]   SPOT transactions from the home region and a far region
  causeway bench compare A.json B.json         ratios of B to A
  causeway bench plot -o OUT.png A.json [B.json ...]   one picture of several runs

Every run prints a table, writes a JSON result (--out) and a PNG plot (--plot).
Run "causeway bench SCENARIO -h" for a scenario's flags.
`

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	switch args[0] {
	case "pubsub", "kafka":
		return benchPubsub(args[0], args[1:], stdout, stderr)
	case "geo":
		return benchGeo(args[1:], stdout, stderr)
	case "collections":
		return benchCollections(args[1:], stdout, stderr)
	case "spot":
		return benchSpot(args[1:], stdout, stderr)
	case "compare":
		return benchCompare(args[1:], stdout, stderr)
	case "plot":
		return benchPlot(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, benchUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "causeway bench: unknown scenario %q\n\n%s", args[0], benchUsage)
		return 2
	}
}

// rateFlag is a rate in operations per second, or "max" (0).
type rateFlag float64

func (r *rateFlag) String() string {
	if *r == 0 {
		return "max"
	}
	return strconv.FormatFloat(float64(*r), 'f', -1, 64)
}

func (r *rateFlag) Set(s string) error {
	if strings.EqualFold(s, "max") {
		*r = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("rate %q: want a number of operations per second or max", s)
	}
	*r = rateFlag(v)
	return nil
}

// outputFlags are the files every run writes.
type outputFlags struct {
	out, plot, label, cpuProfile string
	quiet                        bool
}

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.out, "out", "", `JSON result file (default bench-SCENARIO-TIME.json; "none" to skip)`)
	fs.StringVar(&o.plot, "plot", "", `PNG plot file (default the JSON file's name with .png; "none" to skip)`)
	fs.StringVar(&o.label, "label", "", "label recorded in the report")
	fs.BoolVar(&o.quiet, "quiet", false, "no live progress line")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
}

// startProfile starts the client's CPU profile if asked; stop ends it.
func (o *outputFlags) startProfile() (stop func(), err error) {
	if o.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// paths resolves the default file names.
func (o *outputFlags) paths(scenario string, started time.Time) (jsonPath, pngPath string) {
	jsonPath = o.out
	if jsonPath == "" {
		jsonPath = fmt.Sprintf("bench-%s-%s.json", scenario, started.Format("20060102-150405"))
	}
	pngPath = o.plot
	if pngPath == "" && jsonPath != "none" {
		pngPath = strings.TrimSuffix(jsonPath, filepath.Ext(jsonPath)) + ".png"
	}
	return jsonPath, pngPath
}

func (o *outputFlags) progress(stderr io.Writer) io.Writer {
	if o.quiet {
		return io.Discard
	}
	return stderr
}

// printTable prints one run's table as soon as it is done.
func printTable(stdout io.Writer, r report.Report) {
	_ = report.WriteTable(stdout, r)
	fmt.Fprintln(stdout)
}

// writeResults writes the JSON files and the plot.
func writeResults(o *outputFlags, reps []report.Report, series []string, stderr io.Writer) error {
	if len(reps) == 0 {
		return nil
	}
	jsonPath, pngPath := o.paths(reps[0].Scenario, reps[0].Started)
	if jsonPath != "none" {
		for i, r := range reps {
			p := jsonPath
			if len(reps) > 1 {
				p = strings.TrimSuffix(jsonPath, filepath.Ext(jsonPath)) + "-" + strings.ReplaceAll(r.Key(), "/", "-") + filepath.Ext(jsonPath)
			}
			if err := writeFile(p, func(w io.Writer) error { return report.Encode(w, reps[i]) }); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	if pngPath != "none" && pngPath != "" {
		if err := writeFile(pngPath, func(w io.Writer) error { return plot.WritePNG(w, reps, series) }); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", pngPath)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// workloadFlags are the pubsub and kafka scenarios' flags.
type workloadFlags struct {
	size                                                     int
	rate                                                     rateFlag
	duration, warmup, drain                                  time.Duration
	count                                                    int64
	producers, consumers, subscriptions, streams, partitions int
	subType, fsync                                           string
	maxInFlight, receiveQueue                                int
	keep                                                     bool
	stream                                                   string
}

func (w *workloadFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&w.size, "size", 1024, "message size in bytes (at least 24)")
	fs.Var(&w.rate, "rate", "messages per second over all producers, or max")
	fs.DurationVar(&w.duration, "duration", 30*time.Second, "how long to publish (ignored with --count)")
	fs.Int64Var(&w.count, "count", 0, "messages to publish in total (0: by --duration)")
	fs.DurationVar(&w.warmup, "warmup", 5*time.Second, "first part of the run kept out of the figures")
	fs.IntVar(&w.producers, "producers", 1, "producers (each on its own connection)")
	fs.IntVar(&w.consumers, "consumers", 1, "consumers per subscription (0: publish only)")
	fs.IntVar(&w.subscriptions, "subscriptions", 1, "subscriptions per stream (each receives every message)")
	fs.IntVar(&w.streams, "streams", 1, "streams (producers are spread over them)")
	fs.IntVar(&w.partitions, "partitions", 1, "partitions per stream")
	fs.StringVar(&w.subType, "subscription-type", "exclusive", "exclusive, shared or failover")
	fs.StringVar(&w.fsync, "fsync", "", "the target's fsync setting, recorded in the report (always, interval, ...)")
	fs.IntVar(&w.maxInFlight, "max-in-flight", 10000, "messages published but not yet acknowledged, per producer")
	fs.IntVar(&w.receiveQueue, "receive-queue", 1000, "messages fetched ahead, per consumer")
	fs.DurationVar(&w.drain, "drain-timeout", 30*time.Second, "how long to wait for consumers to catch up at the end")
	fs.BoolVar(&w.keep, "keep-streams", false, "do not delete the run's streams afterwards")
	fs.StringVar(&w.stream, "stream", "", "use this one stream (with --partitions P: NAME-partition-0..P-1), e.g. created beforehand with ?replicas=N, instead of generated names; it is deleted at the end unless --keep-streams")
}

func (w *workloadFlags) config() pubsub.Config {
	return pubsub.Config{
		MessageBytes: w.size, Rate: float64(w.rate), Duration: w.duration, Count: w.count, Warmup: w.warmup,
		Producers: w.producers, Consumers: w.consumers, Subscriptions: w.subscriptions, Streams: w.streams,
		Partitions: w.partitions, SubscriptionType: w.subType, Fsync: w.fsync, MaxInFlight: w.maxInFlight,
		ReceiveQueue: w.receiveQueue, DrainTimeout: w.drain, KeepStreams: w.keep, Stream: w.stream,
	}
}

// targetFlags say where each target is.
type targetFlags struct {
	targets, url, tenant, fabric, natsURL, redisAddr, brokers string
	half                                                      bool
	halfDuration, settle                                      time.Duration
	// rates are fixed rates every target runs at after its maximum
	// (--rates; -1: half of the slowest target's maximum).
	rates              string
	kafkaName, token   string
	kafkaClient        string
	binary, spreadURLs bool
}

// settle waits between runs so that what a run left behind (a flush, an
// AOF rewrite, a compaction) does not weigh on the next one.
func settle(ctx context.Context, d time.Duration, between bool) {
	if !between || d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func benchPubsub(scenario string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench "+scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var w workloadFlags
	var o outputFlags
	var t targetFlags
	w.register(fs)
	o.register(fs)
	if scenario == "pubsub" {
		fs.StringVar(&t.targets, "target", "causeway", "comma-separated targets: causeway, causeway-binary, nats, redis (the first is the base of the ratio table)")
		fs.BoolVar(&t.binary, "binary", false, "the causeway target speaks causeway-binary-v1 (many messages per frame, no base64) instead of Pulsar's JSON frames (target causeway-binary always does)")
		fs.StringVar(&t.url, "url", "http://127.0.0.1:8080", "Causeway node URL, or a region's nodes' URLs separated by commas (the client fails over between them)")
		fs.BoolVar(&t.spreadURLs, "spread-urls", false, "with several --url nodes: producer i and consumer i start on node i mod n (each on its own client with the list rotated) instead of all on the first; each consumer subscribes to every partition on its own")
		fs.StringVar(&t.tenant, "tenant", "", "Causeway tenant (default _mm)")
		fs.StringVar(&t.fabric, "fabric", "", "Causeway fabric (default _system)")
		fs.StringVar(&t.token, "token", os.Getenv("CAUSEWAY_TOKEN"), "API key or token for Causeway (default $CAUSEWAY_TOKEN)")
		fs.StringVar(&t.natsURL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL (target nats)")
		fs.StringVar(&t.redisAddr, "redis-addr", "127.0.0.1:6379", "Redis server address (target redis)")
		fs.BoolVar(&t.half, "half", false, "then run every target again at half of the first target's maximum rate (latency comparison); implied by several targets")
		fs.DurationVar(&t.halfDuration, "half-duration", 0, "duration of the half-rate runs (default: the same --duration or --count)")
		fs.DurationVar(&t.settle, "settle", 5*time.Second, "pause between runs against several targets")
		fs.StringVar(&t.rates, "rates", "", "then run every target at each of these fixed rates, msgs/s (e.g. 10k,40k,"+report.HalfSlowest+": half of the slowest target's maximum), and print latency at equal load (durations as --half-duration)")
	} else {
		t.targets = "kafka"
		fs.StringVar(&t.brokers, "brokers", "127.0.0.1:9092", "Kafka listener address (causeway serve --kafka)")
		fs.StringVar(&t.kafkaName, "target-name", "causeway", "what the brokers are, for the report (e.g. kafka for a real Kafka cluster)")
		fs.StringVar(&t.kafkaClient, "client", "franz-go", "Kafka client library: franz-go (idempotent producers) or kafka-go (segmentio)")
	}
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	if scenario == "kafka" && t.kafkaClient != "franz-go" && t.kafkaClient != "kafka-go" {
		fmt.Fprintf(stderr, "causeway bench kafka: --client %q: want franz-go or kafka-go\n", t.kafkaClient)
		return 2
	}
	names := strings.Split(t.targets, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		switch names[i] {
		case "causeway", "causeway-binary", "nats", "redis", "kafka":
		default:
			fmt.Fprintf(stderr, "causeway bench %s: unknown target %q: want causeway, causeway-binary, nats or redis\n", scenario, n)
			return 2
		}
	}
	cfg := w.config()
	cfg.Label = o.label
	cfg.Progress = o.progress(stderr)
	if err := cfg.WithDefaults().Validate(); err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
		return 2
	}
	if t.spreadURLs {
		urls, err := pubsub.SpreadURLs(t.url)
		if err != nil {
			fmt.Fprintf(stderr, "causeway bench %s: --spread-urls: %v\n", scenario, err)
			return 2
		}
		cfg.Extra = map[string]string{"spread-urls": strconv.Itoa(len(urls))}
	}
	stopProfile, err := o.startProfile()
	if err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
		return 1
	}
	defer stopProfile()
	ctx, cancel := signalContext()
	defer cancel()
	command := "causeway bench " + scenario + " " + strings.Join(args, " ")
	half := t.half || len(names) > 1
	if half && cfg.Rate > 0 {
		fmt.Fprintf(stderr, "causeway bench %s: --half (implied by several targets) needs --rate max\n", scenario)
		return 2
	}
	fixedRates, err := report.ParseRates(t.rates)
	if err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: --rates: %v\n", scenario, err)
		return 2
	}
	if len(fixedRates) > 0 && cfg.Rate > 0 {
		fmt.Fprintf(stderr, "causeway bench %s: --rates needs --rate max (each target's maximum is measured first)\n", scenario)
		return 2
	}
	// Each target runs at the maximum rate, then (with --half) at half of
	// the first target's maximum, before the next target starts: the
	// fixed-rate run follows its own target's load, not another's.
	var reps []report.Report
	var runs []report.PeerRun
	halfRate := 0.0
	for i, name := range names {
		settle(ctx, t.settle, i > 0)
		rep, err := runTarget(ctx, scenario, name, &t, cfg, "", command)
		if err != nil {
			fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
			return 1
		}
		printTable(stdout, rep)
		reps = append(reps, rep)
		run := report.PeerRun{Target: rep.Target, Max: &reps[len(reps)-1]}
		if half {
			if i == 0 {
				halfRate = float64(int64(report.MaxRate(&rep) / 2))
				if halfRate <= 0 {
					fmt.Fprintf(stderr, "causeway bench %s: %s delivered nothing at the maximum rate: no half rate to compare at\n", scenario, name)
					return 1
				}
			}
			hcfg := cfg
			hcfg.Rate = halfRate
			if t.halfDuration > 0 {
				hcfg.Count, hcfg.Duration = 0, t.halfDuration
			}
			settle(ctx, t.settle, true)
			hrep, err := runTarget(ctx, scenario, name, &t, hcfg, "half", command)
			if err != nil {
				fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
				return 1
			}
			printTable(stdout, hrep)
			reps = append(reps, hrep)
		}
		runs = append(runs, run)
	}
	// Pointers into reps may have moved while appending: rebuild them.
	for i := range runs {
		if half {
			runs[i].Max, runs[i].Fixed = &reps[2*i], &reps[2*i+1]
		} else {
			runs[i].Max = &reps[i]
		}
	}
	// Every target at the same fixed rates: latency at equal load.
	fixed, err := runFixedRates(ctx, scenario, names, &t, cfg, runs, fixedRates, command, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
		return 1
	}
	for _, f := range fixed {
		reps = append(reps, *f.Report)
	}
	var series []string
	if len(reps) > 1 {
		series = []string{pubsub.LatencyPublishDeliver}
	}
	if err := writeResults(&o, reps, series, stderr); err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", scenario, err)
		return 1
	}
	if half {
		fsync := cfg.Fsync
		if fsync == "" {
			fsync = "as configured on each target"
		}
		fmt.Fprintf(stdout, "side by side: %d B messages, %d producers, %d consumers, fsync %s; throughput at the maximum rate, publish-to-deliver latency at %s/s\n",
			cfg.MessageBytes, cfg.Producers, cfg.Consumers, fsync, report.FormatRate(runs[0].Fixed.Params.Rate))
		if err := report.WritePeers(stdout, runs[0].Target, runs); err != nil {
			return 1
		}
	}
	if len(fixed) > 0 {
		fmt.Fprintln(stdout, "at equal load: every target at the same fixed rates (publish-to-deliver latency)")
		if err := report.WriteFixedRates(stdout, fixed); err != nil {
			return 1
		}
	}
	return exitCode(reps)
}

// runFixedRates runs every target at each fixed rate (-1: half of the
// slowest target's maximum, from runs), rate by rate.
func runFixedRates(ctx context.Context, scenario string, names []string, t *targetFlags, cfg pubsub.Config, runs []report.PeerRun,
	rates []float64, command string, stdout io.Writer) ([]report.FixedRun, error) {
	if len(rates) == 0 {
		return nil, nil
	}
	slowest := math.Inf(1)
	for _, r := range runs {
		slowest = math.Min(slowest, report.MaxRate(r.Max))
	}
	var out []report.FixedRun
	for _, rate := range rates {
		if rate < 0 {
			if rate = float64(int64(slowest / 2)); rate <= 0 || math.IsInf(slowest, 0) {
				return nil, fmt.Errorf("--rates %s: a target delivered nothing at its maximum", report.HalfSlowest)
			}
		}
		for _, name := range names {
			settle(ctx, t.settle, true)
			fcfg := cfg
			fcfg.Rate = rate
			if t.halfDuration > 0 {
				fcfg.Count, fcfg.Duration = 0, t.halfDuration
			}
			rep, err := runTarget(ctx, scenario, name, t, fcfg, "rate-"+strconv.FormatInt(int64(rate), 10), command)
			if err != nil {
				return nil, err
			}
			printTable(stdout, rep)
			out = append(out, report.FixedRun{Target: rep.Target, Rate: rate, Report: &rep})
		}
	}
	return out, nil
}

// runTarget runs the pubsub workload against one target.
func runTarget(ctx context.Context, scenario, name string, t *targetFlags, cfg pubsub.Config, label, command string) (report.Report, error) {
	var (
		tg  pubsub.Target
		err error
	)
	switch name {
	case "causeway", "causeway-binary":
		tg, err = causewayTarget(t, causewayws.Options{Tenant: t.tenant, Fabric: t.fabric, Token: t.token,
			Binary: t.binary || name == "causeway-binary"})
	case "nats":
		tg, err = natsjs.New(t.natsURL)
	case "redis":
		tg, err = redisstreams.New(t.redisAddr)
	case "kafka":
		switch t.kafkaClient {
		case "franz-go":
			tg, err = franzgo.New(t.brokers)
		case "kafka-go":
			tg, err = kafkago.New(t.brokers)
		default:
			err = fmt.Errorf("--client %q: want franz-go or kafka-go", t.kafkaClient)
		}
	default:
		return report.Report{}, fmt.Errorf("unknown target %q: want causeway, causeway-binary, nats or redis", name)
	}
	if err != nil {
		return report.Report{}, err
	}
	defer tg.Close()
	if label != "" {
		if cfg.Label != "" {
			label = cfg.Label + " " + label
		}
		cfg.Label = label
	}
	rep, err := pubsub.Run(ctx, tg, cfg)
	if err != nil {
		return rep, err
	}
	rep.Scenario = scenario
	if name == "kafka" && t.kafkaName != "" {
		rep.Target = t.kafkaName
	}
	rep.Command = strings.TrimSpace(command)
	rep.Format = report.FormatVersion
	return rep, nil
}

// causewayTarget is one client of --url, or with --spread-urls one client
// per node, each starting on its own node (pubsub.Spread), with a consumer
// per partition stream (pubsub.PerPartition).
func causewayTarget(t *targetFlags, o causewayws.Options) (pubsub.Target, error) {
	if !t.spreadURLs {
		return causewayws.New(t.url, o)
	}
	urls, err := pubsub.SpreadURLs(t.url)
	if err != nil {
		return nil, err
	}
	ts := make([]pubsub.Target, 0, len(urls))
	for _, u := range urls {
		tg, err := causewayws.New(u, o)
		if err != nil {
			for _, x := range ts {
				_ = x.Close()
			}
			return nil, err
		}
		ts = append(ts, tg)
	}
	sp, err := pubsub.Spread(ts...)
	if err != nil {
		return nil, err
	}
	// A consumer of several streams needs them led by one node: one
	// consumer (and producer) per partition.
	return pubsub.PerPartition(sp), nil
}

// exitCode is 1 when a run had errors or lost messages, so scripts notice.
func exitCode(reps []report.Report) int {
	for _, r := range reps {
		if r.Counts["errors"] > 0 || r.Counts["missing"] > 0 || r.Counts["unconverged"] > 0 {
			return 1
		}
	}
	return 0
}

func readReport(path string) (report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return report.Report{}, err
	}
	defer f.Close()
	r, err := report.Decode(f)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func benchCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: causeway bench compare A.json B.json")
		return 2
	}
	a, err := readReport(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench compare:", err)
		return 1
	}
	b, err := readReport(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench compare:", err)
		return 1
	}
	if a.Key() == b.Key() {
		a.Label, b.Label = fs.Arg(0), fs.Arg(1)
	}
	if err := report.WriteComparison(stdout, report.Compare(a, b)); err != nil {
		fmt.Fprintln(stderr, "causeway bench compare:", err)
		return 1
	}
	return 0
}

func benchPlot(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "bench.png", "PNG file to write")
	series := fs.String("series", "", "comma-separated latency series to draw (default all)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: causeway bench plot -o OUT.png A.json [B.json ...]")
		return 2
	}
	var reps []report.Report
	for _, p := range fs.Args() {
		r, err := readReport(p)
		if err != nil {
			fmt.Fprintln(stderr, "causeway bench plot:", err)
			return 1
		}
		if r.Label == "" {
			r.Label = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		}
		reps = append(reps, r)
	}
	var names []string
	if *series != "" {
		names = strings.Split(*series, ",")
	}
	if err := writeFile(*out, func(w io.Writer) error { return plot.WritePNG(w, reps, names) }); err != nil {
		fmt.Fprintln(stderr, "causeway bench plot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}

func benchGeo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench geo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var w workloadFlags
	var o outputFlags
	var rf regionFlags
	w.register(fs)
	o.register(fs)
	rf.register(fs)
	from := fs.String("from", "", "region to publish in (default the first)")
	home := fs.Bool("include-home", false, "consume in the publishing region too")
	wan := fs.String("wan", "", "emulated WAN settings to record when the fabric file has none")
	binary := fs.Bool("binary", false, "speak causeway-binary-v1 (many messages per frame, no base64) instead of Pulsar's JSON frames")
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	if rf.fabricFile == "" && rf.regions == "" {
		fmt.Fprintln(stderr, "causeway bench geo: give --fabric FILE or --regions name=URL,...")
		return 2
	}
	fab, err := rf.load()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench geo:", err)
		return 2
	}
	cfg := w.config()
	cfg.Label, cfg.Progress = o.label, o.progress(stderr)
	if err := cfg.WithDefaults().Validate(); err != nil {
		fmt.Fprintln(stderr, "causeway bench geo:", err)
		return 2
	}
	stopProfile, err := o.startProfile()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench geo:", err)
		return 1
	}
	defer stopProfile()
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := geo.Run(ctx, fab, geo.Config{Workload: cfg, From: *from, IncludeHome: *home, WAN: *wan, Binary: *binary, Tenant: rf.tenant, Fabric: rf.fabric, Token: rf.token})
	return finishRun("geo", args, rep, err, &o, stdout, stderr)
}

// regionFlags say where the regions are: one node (--url), a fabric file
// or a list.
type regionFlags struct {
	url, fabricFile, regions, tenant, fabric, token string
}

func (r *regionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "url", "http://127.0.0.1:8080", "a single node's URL (when neither --fabric nor --regions is given)")
	fs.StringVar(&r.fabricFile, "fabric", "", "fabric.json written by causeway dev (or a real fabric's)")
	fs.StringVar(&r.regions, "regions", "", "name=URL,name=URL,... instead of --fabric")
	fs.StringVar(&r.tenant, "tenant", "", "tenant (default _mm)")
	fs.StringVar(&r.fabric, "fabric-name", "", "fabric (default _system)")
	fs.StringVar(&r.token, "token", os.Getenv("CAUSEWAY_TOKEN"), "API key or token (default $CAUSEWAY_TOKEN; causeway dev prints one)")
}

func (r *regionFlags) load() (geo.Fabric, error) {
	switch {
	case r.fabricFile != "" && r.regions != "":
		return geo.Fabric{}, errors.New("give --fabric or --regions, not both")
	case r.fabricFile != "":
		b, err := os.ReadFile(r.fabricFile)
		if err != nil {
			return geo.Fabric{}, err
		}
		fab, err := geo.ParseFabric(b)
		if err != nil && len(fab.Regions) == 1 { // causeway dev --regions R --nodes N
			return fab, fmt.Errorf("%s describes one region (%s): --fabric wants two regions or more (bench geo needs them); bench collections, spot and pubsub take one node of it with --url %s", r.fabricFile, fab.Regions[0].Name, fab.Regions[0].HTTP)
		}
		if err == nil && r.token == "" {
			r.token = fab.Token // causeway dev's key, when the file has it
		}
		return fab, err
	case r.regions != "":
		return geo.ParseRegions(r.regions)
	default:
		return geo.Fabric{Regions: []geo.Region{{Name: "local", HTTP: strings.TrimSuffix(r.url, "/")}}}, nil
	}
}

// loadFlags are the rate, duration and warm-up of the HTTP scenarios.
type loadFlags struct {
	rate             rateFlag
	duration, warmup time.Duration
	count            int64
	workers          int
}

func (l *loadFlags) register(fs *flag.FlagSet, unit string) {
	fs.Var(&l.rate, "rate", unit+" per second over all workers, or max")
	fs.DurationVar(&l.duration, "duration", 30*time.Second, "how long to run (ignored with --count)")
	fs.Int64Var(&l.count, "count", 0, unit+" in total (0: by --duration)")
	fs.DurationVar(&l.warmup, "warmup", 5*time.Second, "first part of the run kept out of the figures")
	fs.IntVar(&l.workers, "workers", 4, "concurrent clients per region")
}

// finishRun prints, writes and picks the exit code of a single-report run.
func finishRun(name string, args []string, rep report.Report, err error, o *outputFlags, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", name, err)
		return 1
	}
	rep.Command, rep.Format = strings.TrimSpace("causeway bench "+name+" "+strings.Join(args, " ")), report.FormatVersion
	printTable(stdout, rep)
	if err := writeResults(o, []report.Report{rep}, nil, stderr); err != nil {
		fmt.Fprintf(stderr, "causeway bench %s: %v\n", name, err)
		return 1
	}
	return exitCode([]report.Report{rep})
}

func benchCollections(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench collections", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf regionFlags
	var lf loadFlags
	var o outputFlags
	rf.register(fs)
	lf.register(fs, "operations")
	o.register(fs)
	mix := fs.String("mix", colbench.DefaultMix.String(), "operation weights")
	docBytes := fs.Int("doc-size", 256, "bytes of padding in each document")
	convergence := fs.Duration("convergence-timeout", time.Minute, "how long to wait for the regions to agree after the run")
	keep := fs.Bool("keep-collection", false, "do not drop the run's collection afterwards")
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	fab, err := rf.load()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench collections:", err)
		return 2
	}
	m, err := colbench.ParseMix(*mix)
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench collections:", err)
		return 2
	}
	stopProfile, err := o.startProfile()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench collections:", err)
		return 1
	}
	defer stopProfile()
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := colbench.Run(ctx, colbench.Config{
		Regions: fab.Regions, Tenant: rf.tenant, Fabric: rf.fabric, Token: rf.token, Mix: m, Rate: float64(lf.rate), Duration: lf.duration,
		Count: lf.count, Warmup: lf.warmup, Writers: lf.workers, DocBytes: *docBytes, ConvergenceTimeout: *convergence,
		Label: o.label, Progress: o.progress(stderr), KeepCollection: *keep, Extra: wanExtra(fab.WAN),
	})
	return finishRun("collections", args, rep, err, &o, stdout, stderr)
}

func benchSpot(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench spot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf regionFlags
	var lf loadFlags
	var o outputFlags
	rf.register(fs)
	lf.register(fs, "transfers")
	o.register(fs)
	home := fs.String("home", "", "the collection's home region (default the first)")
	from := fs.String("from", "", "comma-separated regions issuing transfers (default every region)")
	accounts := fs.Int("accounts", 1000, "accounts in the collection")
	keep := fs.Bool("keep-collection", false, "do not drop the run's collection afterwards")
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	fab, err := rf.load()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench spot:", err)
		return 2
	}
	var froms []string
	if *from != "" {
		froms = strings.Split(*from, ",")
	}
	stopProfile, err := o.startProfile()
	if err != nil {
		fmt.Fprintln(stderr, "causeway bench spot:", err)
		return 1
	}
	defer stopProfile()
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := spotbench.Run(ctx, spotbench.Config{
		Regions: fab.Regions, Home: *home, From: froms, Tenant: rf.tenant, Fabric: rf.fabric, Token: rf.token, Accounts: *accounts,
		Rate: float64(lf.rate), Duration: lf.duration, Count: lf.count, Warmup: lf.warmup, Workers: lf.workers,
		Label: o.label, Progress: o.progress(stderr), Keep: *keep, Extra: wanExtra(fab.WAN),
	})
	return finishRun("spot", args, rep, err, &o, stdout, stderr)
}

// wanExtra records a fabric's emulated WAN settings in a report ("" = none).
func wanExtra(wan string) map[string]string {
	extra := map[string]string{}
	if wan != "" {
		extra["wan"] = wan
	}
	return extra
}
