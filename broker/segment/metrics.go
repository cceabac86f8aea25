package segment

import (
	"sync/atomic"
	"time"
)

// Metrics is a snapshot of a log's counters since Open.
type Metrics struct {
	AppendedRecords uint64        // records acknowledged
	AppendedBytes   uint64        // bytes written for them, batch headers included
	Batches         uint64        // batches written
	Commits         uint64        // group commits (one write + at most one fsync each)
	Fsyncs          uint64        // file fsyncs
	FsyncLatency    time.Duration // sum over Fsyncs
	WriteErrors     uint64        // commits failed by an I/O error
	Recoveries      uint64        // opens that repaired something
	Truncations     uint64        // torn or corrupt tails cut off
	TruncatedBytes  uint64        // bytes cut off by them
	IndexRebuilds   uint64        // indexes rebuilt from their segment
	SegmentsRolled  uint64
	SegmentsDeleted uint64 // by retention and DeleteBelow
	Segments        int    // segments now stored
	Failed          bool   // the log refuses appends until reopened
}

// counters are the live counters behind Metrics.
type counters struct {
	appendedRecords, appendedBytes, batches, commits atomic.Uint64
	fsyncs, fsyncNanos, writeErrors                  atomic.Uint64
	recoveries, truncations, truncatedBytes          atomic.Uint64
	indexRebuilds, segmentsRolled, segmentsDeleted   atomic.Uint64
}
