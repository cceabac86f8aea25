// Package maxprocs owns the processor count (GOMAXPROCS) of node
// processes: at least NodeMin, so that a goroutine blocked in fdatasync
// does not hold the process's only processor, unless the operator set
// GOMAXPROCS. Only mains call it (tests and embedders keep their own
// settings).
package maxprocs

import (
	"os"
	"runtime"
)

// NodeMin is the fewest processors a node process (serve, dev,
// bench/peers/profnode) runs with when GOMAXPROCS is not set.
//
// Go's default is the CPUs the process may run on, so on a one-CPU machine
// or under `taskset -c N` a node gets one processor. A goroutine in a
// system call keeps its processor until the runtime's monitor takes it
// back, and the monitor, when it has had nothing to do, checks only every
// 10 ms: a group commit's fdatasync (milliseconds under load) then stops
// every other goroutine of the node for about as long as it lasts. In an
// execution trace of a region catching up on one core, the node's
// goroutines were runnable with none running for 364 ms of the 581 ms its
// fdatasyncs took (2 s traced). With two processors the other runs them
// meanwhile; the kernel still shares the one CPU between the threads. Go
// makes the same choice for a CPU quota: a cgroup limit below 2 CPUs is
// rounded up to 2 (runtime/cgroup_linux.go), but a CPU affinity of one is
// taken as it is. Measured: a region catching up on a backlog of 1,000,000
// messages on one core, 214,000-228,000 msgs/s with one processor against
// 257,000-270,000 with two (README "Geo replication, each region on its
// own core").
const NodeMin = 2

// Node raises GOMAXPROCS to NodeMin when Go's default chose fewer and the
// operator did not set GOMAXPROCS. It returns the count before and after.
func Node() (before, after int) {
	_, set := os.LookupEnv("GOMAXPROCS")
	before = runtime.GOMAXPROCS(0)
	after = nodeProcs(before, set)
	if after != before {
		runtime.GOMAXPROCS(after)
	}
	return before, after
}

// nodeProcs is the processor count a node runs with, given the runtime's
// current one and whether GOMAXPROCS was set by the operator.
func nodeProcs(current int, operatorSet bool) int {
	if operatorSet {
		return current
	}
	return max(current, NodeMin)
}
