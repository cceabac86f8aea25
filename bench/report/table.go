package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// countOrder is the order of the usual counts in the table; others follow
// alphabetically.
var countOrder = []string{"sent", "acked", "received", "errors", "duplicates", "missing", "expected"}

// WriteTable prints r for a person: the workload, counts, rates, latency
// percentiles, extra figures and the client's CPU use.
func WriteTable(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s against %s", r.Scenario, r.Target)
	if r.Label != "" {
		fmt.Fprintf(&b, " (%s)", r.Label)
	}
	fmt.Fprintf(&b, ": %s\n", r.Params.describe())
	if len(r.Params.Extra) > 0 {
		for _, k := range slices.Sorted(maps.Keys(r.Params.Extra)) {
			fmt.Fprintf(&b, "  %s: %s\n", k, r.Params.Extra[k])
		}
	}
	fmt.Fprintf(&b, "measured window %s; latencies corrected for coordinated omission: %s\n",
		seconds(roundTo(r.WindowSeconds, 3)), r.Params.Correction)

	if len(r.Counts) > 0 {
		var parts []string
		for _, k := range orderedKeys(r.Counts, countOrder) {
			parts = append(parts, k+" "+FormatCount(r.Counts[k]))
		}
		fmt.Fprintf(&b, "counts: %s\n", strings.Join(parts, ", "))
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	if len(r.Rates) > 0 {
		fmt.Fprintln(tw, "throughput\tper second\tMB/s\t")
		for _, x := range r.Rates {
			mb := "-"
			if x.BytesPerSec > 0 {
				mb = fmt.Sprintf("%.1f", x.BytesPerSec/1e6)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", x.Name, FormatRate(x.PerSec), mb)
		}
		fmt.Fprintln(tw, "\t\t\t")
	}
	if len(r.Latencies) > 0 {
		fmt.Fprintln(tw, "latency\tcount\tp50\tp90\tp99\tp99.9\tmax\t")
		for _, l := range r.Latencies {
			s := l.Summary
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Name, FormatCount(s.Count),
				FormatUs(s.P50Us), FormatUs(s.P90Us), FormatUs(s.P99Us), FormatUs(s.P999Us), FormatUs(s.MaxUs))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Figures)) {
		fmt.Fprintf(&b, "%s: %s\n", k, formatFigure(r.Figures[k]))
	}
	if m := r.Machine; m.CPUs > 0 {
		fmt.Fprintf(&b, "machine: %d cores", m.CPUs)
		if m.CPUModel != "" {
			fmt.Fprintf(&b, " (%s)", m.CPUModel)
		}
		if m.LoadAverage != "" {
			fmt.Fprintf(&b, ", load average %s at the start", m.LoadAverage)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "client CPU: %.0f%% of one core (%d cores", r.CPU.Percent, r.CPU.Cores)
	if r.CPU.MachineBusyPercent >= 0 {
		fmt.Fprintf(&b, ", machine %.0f%% busy", r.CPU.MachineBusyPercent)
	}
	b.WriteString(")")
	if r.CPU.Saturated() {
		b.WriteString(": WARNING the load generator was saturated, the figures are a floor")
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatFigure(v float64) string {
	if v == float64(int64(v)) && v < 1e15 && v > -1e15 {
		return FormatCount(int64(v))
	}
	return fmt.Sprintf("%.3f", v)
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// orderedKeys lists m's keys: first those of order that are present, then
// the rest sorted.
func orderedKeys[V any](m map[string]V, order []string) []string {
	var out []string
	seen := make(map[string]bool, len(order))
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}
