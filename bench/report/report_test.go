package report

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func sample(target string, deliverPerSec, p99 float64) Report {
	return Report{
		Format: FormatVersion, Scenario: "pubsub", Target: target,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Params: Params{MessageBytes: 1024, Rate: 0, DurationSeconds: 20, WarmupSeconds: 3, Producers: 4, Consumers: 1,
			Subscriptions: 1, Streams: 1, Partitions: 1, SubscriptionType: "exclusive", Fsync: "always", Correction: "none"},
		Machine:       Machine{Host: "h", OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26"},
		WindowSeconds: 17,
		Counts:        map[string]int64{"sent": 1000, "acked": 1000, "received": 1000, "errors": 0, "missing": 0, "custom": 7},
		Rates:         []Rate{{Name: "publish", PerSec: deliverPerSec * 1.1, BytesPerSec: deliverPerSec * 1.1 * 1024}, {Name: "deliver", PerSec: deliverPerSec, BytesPerSec: deliverPerSec * 1024}},
		Latencies: []Latency{{
			Name:         "publish-deliver",
			Summary:      Summary{Count: 1000, MinUs: 100, MeanUs: 900, P50Us: 800, P90Us: 1500, P99Us: p99, P999Us: p99 * 2, MaxUs: p99 * 3},
			Distribution: []Quantile{{0, 100}, {50, 800}, {99, p99}, {100, p99 * 3}},
			Timeline:     []Point{{Second: 1, Count: 10, P50Us: 800, P99Us: p99, MaxUs: p99 * 3}},
		}},
		Figures: map[string]float64{"convergenceSeconds": 1.5},
		CPU:     CPU{UserSeconds: 3, SystemSeconds: 1, Percent: 40, Cores: 2, MachineBusyPercent: 80},
		Notes:   []string{"a note"},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := sample("causeway", 50000, 3000)
	in.Format = 0 // Encode sets it
	var buf bytes.Buffer
	if err := Encode(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Encode(&again, out); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	_ = Encode(&first, in)
	if first.String() != again.String() {
		t.Errorf("round trip changed the report:\n%s\nvs\n%s", first.String(), again.String())
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := func() Report { return sample("causeway", 100, 100) }
	encode := func(r Report) string {
		var b bytes.Buffer
		if err := Encode(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, c := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not json", "hello"},
		{"wrong format", strings.Replace(encode(valid()), `"format": 1`, `"format": 2`, 1)},
		{"no scenario", encode(func() Report { r := valid(); r.Scenario = ""; return r }())},
		{"negative count", encode(func() Report { r := valid(); r.Counts["sent"] = -1; return r }())},
		{"negative rate", encode(func() Report { r := valid(); r.Rates[0].PerSec = -1; return r }())},
		{"unnamed rate", encode(func() Report { r := valid(); r.Rates[0].Name = ""; return r }())},
		{"repeated series", encode(func() Report { r := valid(); r.Latencies = append(r.Latencies, r.Latencies[0]); return r }())},
		{"negative latency", encode(func() Report { r := valid(); r.Latencies[0].Summary.P99Us = -5; return r }())},
		{"percentile above 100", encode(func() Report { r := valid(); r.Latencies[0].Distribution[0].Percentile = 101; return r }())},
		{"negative timeline", encode(func() Report { r := valid(); r.Latencies[0].Timeline[0].Count = -1; return r }())},
		{"trailing data", encode(valid()) + "{}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decode(strings.NewReader(c.in)); !errors.Is(err, ErrInvalid) {
				t.Errorf("Decode = %v, want ErrInvalid", err)
			}
		})
	}
	if err := (&Report{Format: 1, Scenario: "x", Figures: map[string]float64{"f": math.NaN()}}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("NaN figure validated: %v", err)
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	r := sample("causeway", 50000, 3000)
	r.CPU.Percent = 190
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"pubsub against causeway: 1024 B, rate max, 20s, warm-up 3s, 4 producers, 1 consumers (exclusive), 1 streams × 1 partitions, fsync always",
		"counts: sent 1,000, acked 1,000, received 1,000, errors 0, missing 0, custom 7",
		"deliver", "50,000", "51.2",
		"publish-deliver", "800µs", "1.50ms", "3.00ms", "6.00ms", "9.00ms",
		"convergenceSeconds: 1.500",
		"client CPU: 190% of one core (2 cores, machine 80% busy): WARNING the load generator was saturated",
		"note: a note",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := sample("causeway", 50000, 2000), sample("nats", 25000, 4000)
	b.Params.Producers = 8
	c := Compare(a, b)
	if c.A != "causeway" || c.B != "nats" {
		t.Errorf("keys %q %q", c.A, c.B)
	}
	if len(c.Differences) != 1 || !strings.Contains(c.Differences[0], "producers: 4 vs 8") {
		t.Errorf("differences %v", c.Differences)
	}
	rows := map[string]Row{}
	for _, r := range c.Rows {
		rows[r.Metric] = r
	}
	for _, w := range []struct {
		metric  string
		ratio   float64
		verdict string
	}{
		{"deliver", 0.5, "worse"},
		{"publish-deliver p99", 2, "worse"},
		{"publish-deliver p50", 1, "same"},
		{"convergenceSeconds", 1, ""},
		{"client CPU %", 1, ""},
	} {
		r, ok := rows[w.metric]
		if !ok {
			t.Errorf("no row %q", w.metric)
			continue
		}
		if math.Abs(r.Ratio()-w.ratio) > 1e-9 || r.Verdict() != w.verdict {
			t.Errorf("%s: ratio %v verdict %q, want %v %q", w.metric, r.Ratio(), r.Verdict(), w.ratio, w.verdict)
		}
	}
	if r := (Row{A: 0, B: 1, Direction: HigherIsBetter}); !math.IsNaN(r.Ratio()) || r.Verdict() != "" {
		t.Errorf("ratio over zero: %v %q", r.Ratio(), r.Verdict())
	}
	if r := (Row{A: 100, B: 50, Direction: LowerIsBetter}); r.Verdict() != "better" {
		t.Errorf("halved latency: %q", r.Verdict())
	}
	var out strings.Builder
	if err := WriteComparison(&out, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A = causeway, B = nats", "warning: workloads differ in producers: 4 vs 8", "0.50x", "2.00x", "worse"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWritePeers(t *testing.T) {
	cm, cf := sample("causeway", 60000, 0), sample("causeway", 30000, 2000)
	nm, nf := sample("nats", 20000, 0), sample("nats", 10000, 8000)
	cf.Params.Rate, nf.Params.Rate = 30000, 30000
	nm.Counts["errors"] = 3
	var b strings.Builder
	err := WritePeers(&b, "causeway", []PeerRun{
		{Target: "causeway", Max: &cm, Fixed: &cf},
		{Target: "nats", Max: &nm, Fixed: &nf},
		{Target: "redis"},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	nats := strings.Fields(lines[2])
	// target, max, MB/s, ratio, rate, p50, p99, p99.9, ratio, errors, cpu
	want := []string{"nats", "20,000", "20.5", "3.00x", "30,000/s", "800µs", "8.00ms", "16.0ms", "4.00x", "3", "40%"}
	if strings.Join(nats, " ") != strings.Join(want, " ") {
		t.Errorf("nats row %q, want %q", nats, want)
	}
	if !strings.HasPrefix(lines[3], "redis") || strings.Count(lines[3], "-") < 8 {
		t.Errorf("redis row without runs: %q", lines[3])
	}
	if MaxRate(&cm) != 60000 || MaxRate(nil) != 0 {
		t.Errorf("MaxRate %v", MaxRate(&cm))
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{FormatUs(0), "0µs"}, {FormatUs(999.4), "999µs"}, {FormatUs(1500), "1.50ms"}, {FormatUs(25000), "25.0ms"},
		{FormatUs(2.5e6), "2.50s"}, {FormatUs(math.NaN()), "-"},
		{FormatCount(0), "0"}, {FormatCount(999), "999"}, {FormatCount(1000), "1,000"}, {FormatCount(-1234567), "-1,234,567"},
		{FormatRate(1234.6), "1,235"}, {FormatRatio(1.234), "1.23x"}, {FormatRatio(math.Inf(1)), "-"},
		{FormatBytesRate(2.5e6), "2.5 MB/s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
