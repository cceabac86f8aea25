package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Direction says which way a metric improves.
type Direction int

// Directions of a metric.
const (
	HigherIsBetter Direction = iota + 1
	LowerIsBetter
	Neutral // no verdict (e.g. a scenario-specific figure)
)

// Row is one metric of a comparison.
type Row struct {
	Metric    string
	Unit      string // "/s" or "µs" or ""
	A, B      float64
	Direction Direction
}

// Ratio is B/A (NaN when A is zero).
func (r Row) Ratio() float64 {
	if r.A == 0 {
		return math.NaN()
	}
	return r.B / r.A
}

// Verdict says whether B is better, worse or level with A (within 2%).
func (r Row) Verdict() string {
	q := r.Ratio()
	switch {
	case math.IsNaN(q) || r.Direction == Neutral:
		return ""
	case q > 0.98 && q < 1.02:
		return "same"
	case (q > 1) == (r.Direction == HigherIsBetter):
		return "better"
	default:
		return "worse"
	}
}

// Comparison is run B measured against run A.
type Comparison struct {
	A, B string // the runs' keys (target/label)
	Rows []Row
	// Differences lists workload parameters that differ: ratios between
	// different workloads mean little.
	Differences []string
}

// Compare lines up every rate, latency percentile and figure that a and b
// both have.
func Compare(a, b Report) Comparison {
	c := Comparison{A: a.Key(), B: b.Key(), Differences: paramDifferences(a.Params, b.Params)}
	for _, x := range a.Rates {
		if y, ok := b.Rate(x.Name); ok {
			c.Rows = append(c.Rows, Row{Metric: x.Name, Unit: "/s", A: x.PerSec, B: y.PerSec, Direction: HigherIsBetter})
		}
	}
	for _, x := range a.Latencies {
		y, ok := b.Latency(x.Name)
		if !ok {
			continue
		}
		for _, p := range []struct {
			name string
			a, b float64
		}{
			{"p50", x.Summary.P50Us, y.Summary.P50Us},
			{"p90", x.Summary.P90Us, y.Summary.P90Us},
			{"p99", x.Summary.P99Us, y.Summary.P99Us},
			{"p99.9", x.Summary.P999Us, y.Summary.P999Us},
			{"max", x.Summary.MaxUs, y.Summary.MaxUs},
		} {
			c.Rows = append(c.Rows, Row{Metric: x.Name + " " + p.name, Unit: "µs", A: p.a, B: p.b, Direction: LowerIsBetter})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Figures)) {
		if v, ok := b.Figures[k]; ok {
			c.Rows = append(c.Rows, Row{Metric: k, A: a.Figures[k], B: v, Direction: Neutral})
		}
	}
	for _, k := range []string{"errors", "missing", "duplicates"} {
		if a.Counts[k] != 0 || b.Counts[k] != 0 {
			c.Rows = append(c.Rows, Row{Metric: k, A: float64(a.Counts[k]), B: float64(b.Counts[k]), Direction: LowerIsBetter})
		}
	}
	if a.CPU.Cores > 0 && b.CPU.Cores > 0 {
		c.Rows = append(c.Rows, Row{Metric: "client CPU %", A: a.CPU.Percent, B: b.CPU.Percent, Direction: Neutral})
	}
	return c
}

func paramDifferences(a, b Params) []string {
	var d []string
	add := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			d = append(d, fmt.Sprintf("%s: %v vs %v", name, x, y))
		}
	}
	add("message bytes", a.MessageBytes, b.MessageBytes)
	add("rate", describeRate(a.Rate), describeRate(b.Rate))
	add("count", a.Count, b.Count)
	add("duration", a.DurationSeconds, b.DurationSeconds)
	add("producers", a.Producers, b.Producers)
	add("workers", a.Workers, b.Workers)
	add("consumers", a.Consumers, b.Consumers)
	add("subscriptions", a.Subscriptions, b.Subscriptions)
	add("streams", a.Streams, b.Streams)
	add("partitions", a.Partitions, b.Partitions)
	add("subscription type", a.SubscriptionType, b.SubscriptionType)
	add("fsync", a.Fsync, b.Fsync)
	return d
}

// WriteComparison prints c as a table of A, B, B/A and a verdict.
func WriteComparison(w io.Writer, c Comparison) error {
	var b strings.Builder
	fmt.Fprintf(&b, "A = %s, B = %s\n", c.A, c.B)
	for _, d := range c.Differences {
		fmt.Fprintf(&b, "warning: workloads differ in %s\n", d)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tA\tB\tB/A\t")
	for _, r := range c.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Metric, formatValue(r.A, r.Unit), formatValue(r.B, r.Unit), FormatRatio(r.Ratio()), r.Verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "µs":
		return FormatUs(v)
	case "/s":
		return FormatRate(v) + "/s"
	default:
		return formatFigure(v)
	}
}
