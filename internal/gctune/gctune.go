// Package gctune owns the Go collector settings of our processes: a node's
// (GOGC raised from Go's default, under a soft memory limit) and a load
// generator's (GOGC raised), unless the operator set GOGC or GOMEMLIMIT.
// Only mains call it (tests and embedders keep their own settings).
package gctune

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// NodeGOGC is the collector's target for a node process (serve, dev) when
// GOGC is not set. A node's live heap is small next to what it moves (the
// payloads pass through and are dropped), so at Go's default of 100 it
// collected several times a second at 10,000 msgs/s, and each collection's
// marking took one of two cores for a few milliseconds: 1-2 % of
// publish-to-deliver latencies landed in one. With 400, at 10,000 msgs/s
// (fsync every second, three 30 s runs each), p99 1.16-1.22 ms against
// 1.48-1.86 ms, and 2-3 % less CPU (README "Latency at equal load").
const NodeGOGC = 400

// LoadGeneratorGOGC is the collector's target for a `causeway bench`
// process when GOGC is not set. Load generators allocate per message (a
// franz-go record and its promise, a stamp, a frame): at Go's default of
// 100, marking, assists and sweeping took 18 % of the franz-go client's CPU
// at ~350,000 msgs/s, CPU the node under test shares on a small machine;
// 400 cut the client from 82-85 % to 69-72 % of a core at a higher rate
// (README "The Kafka path"). The heap stays in the hundreds of MB.
const LoadGeneratorGOGC = 400

// nodeMemoryShare is the part of the memory the process may use (the
// machine's, or its cgroup's limit when lower) that the soft memory limit
// is set to when we raise GOGC and GOMEMLIMIT is not set: a node whose live
// heap grows large (many subscriptions, big caches) collects early as it
// nears the limit instead of growing to five times its live heap.
const nodeMemoryShare = 0.6

// Node sets the collector for a node process (`causeway serve` and `dev`,
// bench/peers/profnode). GOGC and GOMEMLIMIT, when set, are the operator's
// and win.
func Node() {
	if !setGOGC(NodeGOGC) {
		return
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	if total := usableMemory(); total > 0 {
		debug.SetMemoryLimit(int64(float64(total) * nodeMemoryShare))
	}
}

// LoadGenerator sets the collector for a `causeway bench` process.
func LoadGenerator() { setGOGC(LoadGeneratorGOGC) }

// setGOGC sets the collector's target to percent unless GOGC is set; it
// reports whether it did.
func setGOGC(percent int) bool {
	if _, set := os.LookupEnv("GOGC"); set {
		return false
	}
	debug.SetGCPercent(percent)
	return true
}

// parseCgroupLimit reads a cgroup memory limit file's content (v2's
// memory.max: bytes or "max"; v1's memory.limit_in_bytes: bytes, a huge
// number when unlimited). ok is false when it sets no limit.
func parseCgroupLimit(s string) (limit int64, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "max" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}
