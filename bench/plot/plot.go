// Package plot draws bench reports as one PNG: latency over the run (p99
// per interval) on the left and the latency distribution by percentile
// (HDR style) on the right, one line per run and series, so that several
// runs (say Causeway, NATS and Redis, or last week and today) can be put
// side by side in one picture. It renders with gonum.org/v1/plot and does
// no I/O of its own beyond the io.Writer it is given.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/causeway/causeway/bench/report"
)

// Picture size and bounds.
const (
	width       = 14 * vg.Inch
	height      = 5 * vg.Inch
	maxLines    = 24    // lines per panel; more would not be readable
	maxTailX    = 1e6   // x of the 99.9999th percentile on the distribution axis
	floorMillis = 0.001 // latencies are drawn no lower than 1 µs (log axes)
	dpi         = 96
)

// ErrNothingToPlot is returned when no report has a latency series.
var ErrNothingToPlot = errors.New("plot: no latency series to draw")

// WritePNG draws the latency series of reports (only those named in
// series, when it is not empty) as a PNG on w.
func WritePNG(w io.Writer, reports []report.Report, series []string) error {
	want := make(map[string]bool, len(series))
	for _, s := range series {
		want[s] = true
	}
	timeline, dist := plot.New(), plot.New()
	timeline.Title.Text = "latency over the run (p99 per second)"
	timeline.X.Label.Text = "seconds since start (warm-up included)"
	timeline.Y.Label.Text = "ms"
	dist.Title.Text = "latency by percentile (measured window)"
	dist.X.Label.Text = "percentile"
	dist.Y.Label.Text = "ms"
	for _, p := range []*plot.Plot{timeline, dist} {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top = true
		p.Legend.Left = true
		p.Add(plotter.NewGrid())
	}
	dist.X.Scale = plot.LogScale{}
	dist.X.Tick.Marker = percentileTicks{}
	lines, drawn := 0, [2]int{}
	for _, r := range reports {
		for _, l := range r.Latencies {
			if len(want) > 0 && !want[l.Name] {
				continue
			}
			if lines >= maxLines {
				break
			}
			name := l.Name
			if len(reports) > 1 {
				name = r.Key() + " " + l.Name
			}
			style := lineStyle(lines)
			if xys := timelineXYs(l.Timeline); len(xys) > 0 {
				ln, err := plotter.NewLine(xys)
				if err != nil {
					return fmt.Errorf("plot: %s timeline: %w", name, err)
				}
				ln.LineStyle = style
				timeline.Add(ln)
				timeline.Legend.Add(name, ln)
				drawn[0]++
			}
			if xys := distributionXYs(l.Distribution); len(xys) > 0 {
				ln, err := plotter.NewLine(xys)
				if err != nil {
					return fmt.Errorf("plot: %s distribution: %w", name, err)
				}
				ln.LineStyle = style
				dist.Add(ln)
				dist.Legend.Add(name, ln)
				drawn[1]++
			}
			if l.Summary.Count > 0 || len(l.Timeline) > 0 {
				lines++
			}
		}
	}
	if drawn[0]+drawn[1] == 0 {
		return ErrNothingToPlot
	}
	// Log axes need data; an empty panel stays linear (and blank). Above
	// the data, leave room for the legend: a share of the height that
	// grows with the number of lines.
	for i, p := range []*plot.Plot{timeline, dist} {
		if drawn[i] == 0 {
			p.Y.Scale, p.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
			p.X.Scale, p.X.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
			continue
		}
		share := math.Min(0.06*float64(drawn[i])+0.04, 0.6)
		if p.Y.Min > 0 && p.Y.Max > p.Y.Min {
			decades := math.Log10(p.Y.Max / p.Y.Min)
			p.Y.Max *= math.Pow(10, decades*share/(1-share))
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 4,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{timeline, dist}}, tiles, dc)
	timeline.Draw(canvases[0][0])
	dist.Draw(canvases[0][1])
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("plot: write png: %w", err)
	}
	return nil
}

func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{Color: plotutil.Color(i), Width: vg.Points(1.5), Dashes: plotutil.Dashes(i / 7)}
}

func timelineXYs(ps []report.Point) plotter.XYs {
	xys := make(plotter.XYs, 0, len(ps))
	for _, p := range ps {
		xys = append(xys, plotter.XY{X: p.Second, Y: math.Max(p.P99Us/1000, floorMillis)})
	}
	return xys
}

// distributionXYs maps percentile q to 1/(1-q/100), so that 90, 99, 99.9
// are evenly spaced on a log axis.
func distributionXYs(qs []report.Quantile) plotter.XYs {
	xys := make(plotter.XYs, 0, len(qs))
	for _, q := range qs {
		xys = append(xys, plotter.XY{X: tailX(q.Percentile), Y: math.Max(q.Us/1000, floorMillis)})
	}
	return xys
}

func tailX(percentile float64) float64 {
	if percentile >= 100 {
		return maxTailX
	}
	return math.Min(1/(1-percentile/100), maxTailX)
}

// percentileTicks labels the distribution axis in percentiles.
type percentileTicks struct{}

func (percentileTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, t := range []struct {
		x     float64
		label string
	}{{1, "0%"}, {2, "50%"}, {10, "90%"}, {100, "99%"}, {1e3, "99.9%"}, {1e4, "99.99%"}, {1e5, "99.999%"}, {maxTailX, "max"}} {
		if t.x >= min && t.x <= max {
			ts = append(ts, plot.Tick{Value: t.x, Label: t.label})
		}
	}
	return ts
}
