package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// PeerRun is one target's share of a side-by-side run: the same workload at
// the maximum rate (throughput) and at a fixed rate (latency).
type PeerRun struct {
	Target string
	Max    *Report // nil if not run
	Fixed  *Report // nil if not run
}

// The series the peers table reads.
const (
	deliverRate    = "deliver"
	deliverLatency = "publish-deliver"
)

// WritePeers prints the ratio table: per target its maximum throughput and
// its publish-to-deliver latency at the fixed rate, each next to the base
// target's as a ratio that reads "more than 1 is better for the base":
// base ÷ peer for throughput, peer ÷ base for latency.
func WritePeers(w io.Writer, base string, runs []PeerRun) error {
	var ref *PeerRun
	for i := range runs {
		if runs[i].Target == base {
			ref = &runs[i]
		}
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "target\tmax msgs/s\tMB/s\t%s ÷ target\tat rate\tp50\tp99\tp99.9\ttarget p99 ÷ %s\terrors+missing\tclient CPU\t\n", base, base)
	for _, r := range runs {
		cells := make([]string, 0, 11)
		cells = append(cells, r.Target)
		thr, mb, thrRatio := "-", "-", "-"
		if r.Max != nil {
			if x, ok := r.Max.Rate(deliverRate); ok {
				thr, mb = FormatRate(x.PerSec), fmt.Sprintf("%.1f", x.BytesPerSec/1e6)
				if ref != nil && ref.Max != nil {
					if y, ok := ref.Max.Rate(deliverRate); ok && x.PerSec > 0 {
						thrRatio = FormatRatio(y.PerSec / x.PerSec)
					}
				}
			}
		}
		cells = append(cells, thr, mb, thrRatio)
		rate, p50, p99, p999, latRatio := "-", "-", "-", "-", "-"
		if r.Fixed != nil {
			rate = describeRate(r.Fixed.Params.Rate)
			if l, ok := r.Fixed.Latency(deliverLatency); ok {
				p50, p99, p999 = FormatUs(l.Summary.P50Us), FormatUs(l.Summary.P99Us), FormatUs(l.Summary.P999Us)
				if ref != nil && ref.Fixed != nil {
					if m, ok := ref.Fixed.Latency(deliverLatency); ok && m.Summary.P99Us > 0 {
						latRatio = FormatRatio(l.Summary.P99Us / m.Summary.P99Us)
					}
				}
			}
		}
		cells = append(cells, rate, p50, p99, p999, latRatio)
		var bad int64
		cpu := "-"
		for _, rep := range []*Report{r.Max, r.Fixed} {
			if rep != nil {
				bad += rep.Counts["errors"] + rep.Counts["missing"]
			}
		}
		if r.Max != nil {
			cpu = fmt.Sprintf("%.0f%%", r.Max.CPU.Percent)
		}
		cells = append(cells, FormatCount(bad), cpu)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MaxRate is the deliver rate of a maximum-rate run, or 0.
func MaxRate(r *Report) float64 {
	if r == nil {
		return 0
	}
	x, ok := r.Rate(deliverRate)
	if !ok || math.IsNaN(x.PerSec) {
		return 0
	}
	return x.PerSec
}
