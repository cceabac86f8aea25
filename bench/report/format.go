package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FormatUs prints a latency in microseconds with a unit a person reads at
// a glance: 850µs, 12.3ms, 1.42s.
func FormatUs(us float64) string {
	switch {
	case math.IsNaN(us) || math.IsInf(us, 0):
		return "-"
	case us < 1000:
		return strconv.FormatFloat(us, 'f', 0, 64) + "µs"
	case us < 10_000:
		return strconv.FormatFloat(us/1000, 'f', 2, 64) + "ms"
	case us < 1_000_000:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(us/1e6, 'f', 2, 64) + "s"
	}
}

// FormatCount prints an integer with thousands separators: 1,234,567.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatRate prints a per-second rate rounded to an integer, with
// separators.
func FormatRate(perSec float64) string {
	if math.IsNaN(perSec) || math.IsInf(perSec, 0) {
		return "-"
	}
	return FormatCount(int64(math.Round(perSec)))
}

// FormatBytesRate prints bytes per second in MB/s (10^6).
func FormatBytesRate(bps float64) string {
	return strconv.FormatFloat(bps/1e6, 'f', 1, 64) + " MB/s"
}

// FormatRatio prints b/a as "1.23x"; "-" when a is zero.
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "x"
}

// describeRate prints a workload rate: "max" or "50,000/s".
func describeRate(rate float64) string {
	if rate == 0 {
		return "max"
	}
	return FormatRate(rate) + "/s"
}

func seconds(s float64) string {
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}

// describe is the one-line summary of a workload.
func (p Params) describe() string {
	var parts []string
	if p.MessageBytes > 0 {
		parts = append(parts, fmt.Sprintf("%d B", p.MessageBytes))
	}
	parts = append(parts, "rate "+describeRate(p.Rate))
	if p.Count > 0 {
		parts = append(parts, FormatCount(p.Count)+" ops")
	}
	if p.DurationSeconds > 0 {
		parts = append(parts, seconds(p.DurationSeconds))
	}
	parts = append(parts, "warm-up "+seconds(p.WarmupSeconds))
	if p.Producers > 0 {
		parts = append(parts, fmt.Sprintf("%d producers", p.Producers))
	}
	if p.Workers > 0 {
		parts = append(parts, fmt.Sprintf("%d workers", p.Workers))
	}
	if p.Consumers > 0 {
		c := fmt.Sprintf("%d consumers", p.Consumers)
		if p.Subscriptions > 1 {
			c += fmt.Sprintf(" on each of %d subscriptions", p.Subscriptions)
		}
		if p.SubscriptionType != "" {
			c += " (" + strings.ToLower(p.SubscriptionType) + ")"
		}
		parts = append(parts, c)
	}
	if p.Streams > 0 {
		parts = append(parts, fmt.Sprintf("%d streams × %d partitions", p.Streams, max(p.Partitions, 1)))
	}
	if p.Fsync != "" {
		parts = append(parts, "fsync "+p.Fsync)
	}
	return strings.Join(parts, ", ")
}
