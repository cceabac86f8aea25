package bench

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRecorderWarmupRatesTimeline(t *testing.T) {
	start := time.Unix(100, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r := NewRecorder(start, 2*time.Second, time.Second)
	// During the warm-up: counted in the timeline, not in the figures.
	r.Latency("x", at(500*time.Millisecond), at(600*time.Millisecond))
	r.Event("ops", at(600*time.Millisecond), 10)
	// Measured: 100 operations of 1 ms between 2 s and 4 s.
	for i := range 100 {
		s := at(2*time.Second + time.Duration(i)*20*time.Millisecond)
		r.Latency("x", s, s.Add(time.Millisecond))
		r.Event("ops", s.Add(time.Millisecond), 10)
	}
	// Started in the warm-up, completed after it: not measured.
	r.Latency("x", at(1900*time.Millisecond), at(2500*time.Millisecond))
	res := r.Finish(at(4 * time.Second))
	if res.WindowSeconds != 2 {
		t.Errorf("window %v s, want 2", res.WindowSeconds)
	}
	if len(res.Latencies) != 1 {
		t.Fatalf("latencies %+v", res.Latencies)
	}
	l := res.Latencies[0]
	if l.Summary.Count != 100 || l.Summary.MaxUs != 1000 {
		t.Errorf("summary %+v: want 100 values of 1ms", l.Summary)
	}
	var total int64
	for _, p := range l.Timeline {
		total += p.Count
	}
	if total != 102 || l.Timeline[0].Second != 1 {
		t.Errorf("timeline %+v: want 102 values starting in the first second", l.Timeline)
	}
	if len(res.Rates) != 1 || res.Rates[0].Name != "ops" {
		t.Fatalf("rates %+v", res.Rates)
	}
	// 100 events over 1.981 s (from the end of the warm-up to the last one).
	if got, want := res.Rates[0].PerSec, 100/1.981; got < want-0.1 || got > want+0.1 {
		t.Errorf("rate %v/s, want %v", got, want)
	}
	if res.Counts["errors"] != 0 {
		t.Errorf("errors %d", res.Counts["errors"])
	}
}

func TestRecorderErrorsBounded(t *testing.T) {
	r := NewRecorder(time.Unix(0, 0), 0, 0)
	for i := range 100 {
		r.Error(fmt.Errorf("failure %d", i%20))
	}
	r.Error(errors.New(strings.Repeat("x", 1000)))
	r.Error(nil)
	res := r.Finish(time.Unix(1, 0))
	if res.Counts["errors"] != 101 {
		t.Errorf("errors %d, want 101", res.Counts["errors"])
	}
	if len(res.Errors) != maxErrorSamples {
		t.Errorf("%d error samples, want %d", len(res.Errors), maxErrorSamples)
	}
	live := r.Live()
	if live.Errors != 101 {
		t.Errorf("live errors %d", live.Errors)
	}
}

func TestRecorderLateSampleGoesToCurrentInterval(t *testing.T) {
	start := time.Unix(0, 0)
	r := NewRecorder(start, 0, time.Second)
	r.Latency("x", start, start.Add(3500*time.Millisecond))
	r.Latency("x", start, start.Add(1500*time.Millisecond)) // late: recorded in interval 4
	res := r.Finish(start.Add(5 * time.Second))
	tl := res.Latencies[0].Timeline
	if len(tl) != 1 || tl[0].Second != 4 || tl[0].Count != 2 {
		t.Errorf("timeline %+v, want both values in the interval ending at 4 s", tl)
	}
}

func TestParseProcStat(t *testing.T) {
	for _, c := range []struct {
		in          string
		busy, total uint64
		ok          bool
	}{
		{"cpu  10 2 3 100 5 1 1 0 0 0\ncpu0 1 2 3 4\n", 17, 122, true},
		{"cpu 1 2 3 4\n", 6, 10, true},
		{"intr 1 2 3 4 5\n", 0, 0, false},
		{"cpu 1 2 x 4 5\n", 0, 0, false},
		{"", 0, 0, false},
	} {
		busy, total, err := parseProcStat([]byte(c.in))
		if (err == nil) != c.ok || busy != c.busy || total != c.total {
			t.Errorf("parseProcStat(%q) = %d, %d, %v; want %d, %d, ok=%v", c.in, busy, total, err, c.busy, c.total, c.ok)
		}
	}
}

func TestCPUUse(t *testing.T) {
	a := CPUSample{Wall: time.Unix(0, 0), User: time.Second, System: 0, MachineBusy: 100, Total: 1000}
	b := CPUSample{Wall: time.Unix(10, 0), User: 4 * time.Second, System: 2 * time.Second, MachineBusy: 600, Total: 2000}
	c := CPUUse(a, b)
	if c.Percent != 50 || c.MachineBusyPercent != 50 || c.UserSeconds != 3 || c.SystemSeconds != 2 {
		t.Errorf("CPUUse = %+v, want 50%% of a core, machine 50%% busy", c)
	}
	b.Total = a.Total
	if c := CPUUse(a, b); c.MachineBusyPercent != -1 {
		t.Errorf("machine busy %v without /proc/stat, want -1", c.MachineBusyPercent)
	}
}
