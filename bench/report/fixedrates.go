package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// FixedRun is one target's run at a fixed rate that every target of a
// comparison ran at.
type FixedRun struct {
	Target string
	Rate   float64
	Report *Report
}

// WriteFixedRates prints, for each rate (in the order first met), every
// target's delivered rate and publish-to-deliver latency at that rate,
// with each p50 and p99 as a multiple of the best at that rate: latency at
// equal load, the comparison a queue at one target's maximum hides.
func WriteFixedRates(w io.Writer, runs []FixedRun) error {
	var rates []float64
	byRate := map[float64][]FixedRun{}
	for _, r := range runs {
		if _, seen := byRate[r.Rate]; !seen {
			rates = append(rates, r.Rate)
		}
		byRate[r.Rate] = append(byRate[r.Rate], r)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "at rate\ttarget\tdelivered msgs/s\tp50\tp99\tp99.9\tp50 ÷ best\tp99 ÷ best\terrors+missing\t")
	for _, rate := range rates {
		best50, best99 := math.Inf(1), math.Inf(1)
		for _, r := range byRate[rate] {
			if l, ok := r.Report.Latency(deliverLatency); ok {
				best50, best99 = math.Min(best50, l.Summary.P50Us), math.Min(best99, l.Summary.P99Us)
			}
		}
		for _, r := range byRate[rate] {
			cells := []string{describeRate(rate), r.Target, "-", "-", "-", "-", "-", "-"}
			if x, ok := r.Report.Rate(deliverRate); ok {
				cells[2] = FormatRate(x.PerSec)
			}
			if l, ok := r.Report.Latency(deliverLatency); ok {
				cells[3], cells[4], cells[5] = FormatUs(l.Summary.P50Us), FormatUs(l.Summary.P99Us), FormatUs(l.Summary.P999Us)
				if best50 > 0 && !math.IsInf(best50, 0) {
					cells[6] = FormatRatio(l.Summary.P50Us / best50)
				}
				if best99 > 0 && !math.IsInf(best99, 0) {
					cells[7] = FormatRatio(l.Summary.P99Us / best99)
				}
			}
			bad := r.Report.Counts["errors"] + r.Report.Counts["missing"]
			cells = append(cells, FormatCount(bad))
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// HalfSlowest is the rate token meaning half of the slowest target's
// maximum (ParseRates).
const HalfSlowest = "half-slowest"

// ParseRates reads a comma-separated list of fixed rates in messages per
// second, each a positive number or HalfSlowest (returned as -1, resolved
// by the caller once every maximum is known).
func ParseRates(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == HalfSlowest {
			out = append(out, -1)
			continue
		}
		mult := 1.0
		if n, ok := strings.CutSuffix(strings.ToLower(part), "k"); ok {
			part, mult = n, 1000
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*mult > 1e9 {
			return nil, fmt.Errorf("rate %q: want a positive number of messages per second (e.g. 40000 or 40k) or %s", part, HalfSlowest)
		}
		out = append(out, v*mult)
	}
	return out, nil
}
