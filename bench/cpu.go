package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/causeway/causeway/bench/report"
)

// CPUSample is the process's CPU time and the machine's busy and total
// ticks at one moment.
type CPUSample struct {
	Wall               time.Time
	User, System       time.Duration
	MachineBusy, Total uint64 // from /proc/stat; zero when unavailable
}

// SampleCPU reads the process's rusage and /proc/stat.
func SampleCPU(now time.Time) CPUSample {
	s := CPUSample{Wall: now}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.User = time.Duration(ru.Utime.Nano())
		s.System = time.Duration(ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		s.MachineBusy, s.Total, _ = parseProcStat(b)
	}
	return s
}

// parseProcStat reads the aggregate "cpu" line of /proc/stat: busy ticks
// are all but idle and iowait.
func parseProcStat(b []byte) (busy, total uint64, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("bench: /proc/stat: unexpected first line %q", line)
	}
	for i, x := range f[1:] {
		v, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("bench: /proc/stat field %d: %w", i+1, err)
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, nil
}

// CPUUse is the CPU use between two samples.
func CPUUse(a, b CPUSample) report.CPU {
	c := report.CPU{
		UserSeconds:        (b.User - a.User).Seconds(),
		SystemSeconds:      (b.System - a.System).Seconds(),
		Cores:              runtime.NumCPU(),
		MachineBusyPercent: -1,
	}
	if wall := b.Wall.Sub(a.Wall).Seconds(); wall > 0 {
		c.Percent = 100 * (c.UserSeconds + c.SystemSeconds) / wall
	}
	if b.Total > a.Total {
		c.MachineBusyPercent = 100 * float64(b.MachineBusy-a.MachineBusy) / float64(b.Total-a.Total)
	}
	c.Percent = roundTo(c.Percent, 1)
	c.MachineBusyPercent = roundTo(c.MachineBusyPercent, 1)
	c.UserSeconds = roundTo(c.UserSeconds, 3)
	c.SystemSeconds = roundTo(c.SystemSeconds, 3)
	return c
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

// ThisMachine describes where the load generator runs.
func ThisMachine() report.Machine {
	m := report.Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.Host, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
