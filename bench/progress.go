package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/causeway/causeway/bench/report"
)

// progressInterval is how often the live line is redrawn.
const progressInterval = 500 * time.Millisecond

// ProgressConfig says what the live line shows.
type ProgressConfig struct {
	Title    string
	Rate     string        // the rate whose per-second pace is shown, e.g. "deliver"
	Latency  string        // the latency series whose p99 is shown
	Duration time.Duration // the bar's length in time, or
	Count    int64         // in events of Rate when > 0
}

// Progress draws a live line (rate, p99 so far, errors, client CPU) on w
// until Stop.
type Progress struct {
	stop, done chan struct{}
}

// StartProgress starts drawing; w is usually stderr, io.Discard hides it.
func StartProgress(w io.Writer, rec *Recorder, cfg ProgressConfig) *Progress {
	p := &Progress{stop: make(chan struct{}), done: make(chan struct{})}
	max := cfg.Duration.Milliseconds()
	if cfg.Count > 0 {
		max = cfg.Count
	}
	if max <= 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(cfg.Title),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(progressInterval/2),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(),
	)
	go func() {
		defer close(p.done)
		start := time.Now()
		cpu0 := SampleCPU(start)
		prevT, prevN := start, int64(0)
		tick := time.NewTicker(progressInterval)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				_ = bar.Finish()
				_, _ = io.WriteString(w, "\r")
				return
			case now := <-tick.C:
				live := rec.Live()
				n := live.Totals[cfg.Rate]
				pace := float64(n-prevN) / now.Sub(prevT).Seconds()
				prevT, prevN = now, n
				cpu := CPUUse(cpu0, SampleCPU(now))
				p99 := "-"
				if v, ok := live.P99Us[cfg.Latency]; ok && v > 0 {
					p99 = report.FormatUs(v)
				}
				bar.Describe(fmt.Sprintf("%s: %s %s/s, p99 %s, errors %d, client CPU %.0f%%",
					cfg.Title, report.FormatRate(pace), cfg.Rate, p99, live.Errors, cpu.Percent))
				if cfg.Count > 0 {
					_ = bar.Set64(min(n, cfg.Count))
				} else {
					_ = bar.Set64(min(now.Sub(start).Milliseconds(), max))
				}
			}
		}
	}()
	return p
}

// Stop removes the line.
func (p *Progress) Stop() {
	close(p.stop)
	<-p.done
}
