package segment

import (
	"fmt"
	"time"

	"go.uber.org/zap"
)

// FsyncPolicy says when appended records are fsynced.
type FsyncPolicy int

const (
	// FsyncAlways (the default) acknowledges an append, and makes its
	// records readable, only after they were fsynced.
	FsyncAlways FsyncPolicy = iota
	// FsyncInterval acknowledges once written to the OS and fsyncs every
	// FsyncInterval.
	FsyncInterval
	// FsyncNever acknowledges once written to the OS and leaves flushing to
	// it (segments are still fsynced when rolled and on Close).
	FsyncNever
)

// Short names for the policies.
const (
	Always   = FsyncAlways
	Interval = FsyncInterval
	Never    = FsyncNever
)

var fsyncPolicyNames = [...]string{FsyncAlways: "always", FsyncInterval: "interval", FsyncNever: "never"}

// ParseFsyncPolicy parses "always", "interval" or "never".
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	for p, name := range fsyncPolicyNames {
		if s == name {
			return FsyncPolicy(p), nil
		}
	}
	return 0, fmt.Errorf("segment: unknown fsync policy %q (want always, interval or never)", s)
}

// String returns the name ParseFsyncPolicy accepts.
func (p FsyncPolicy) String() string {
	if p < 0 || int(p) >= len(fsyncPolicyNames) {
		return fmt.Sprintf("FsyncPolicy(%d)", int(p))
	}
	return fsyncPolicyNames[p]
}

// Defaults and hard limits.
const (
	DefaultSegmentMaxBytes    = 64 << 20
	DefaultIndexIntervalBytes = 4096
	DefaultFsyncInterval      = time.Second
	DefaultMaxBatchBytes      = 4 << 20
	DefaultMaxRecordBytes     = 5<<20 + 64<<10

	// maxSegmentMaxBytes keeps every file position below 2^31, so index
	// positions fit their 32 bits even past the roll threshold.
	maxSegmentMaxBytes = 1 << 30
	// maxAppendBytes bounds one Append call.
	maxAppendBytes = 512 << 20
	// maxRecordLimitBytes bounds MaxRecordBytes and MaxBatchBytes.
	maxRecordLimitBytes = 256 << 20
	// batchTargetBytes is the body size past which the writer starts a new
	// batch within a commit (a batch always holds at least one record):
	// small batches keep reads that start mid-batch cheap.
	batchTargetBytes = 16 << 10
	// minPreallocBytes and maxPreallocBytes bound how far ahead of the log
	// end FsyncAlways preallocates the active segment; zeroChunkBytes is the
	// size of one zero-filling write. The commit after an extension flushes
	// its zeros too: 8 MiB took ~10 ms, a stall the messages queued behind
	// it paid (p99 at 10,000 msgs/s 3.6-5.3 ms, at 40,000 9.2-10.4 ms);
	// with 1 MiB 2.4-2.7 and 4.5-8.3 ms, the maximum throughput unchanged
	// (README "where the time went", change 5).
	minPreallocBytes = 64 << 10
	maxPreallocBytes = 1 << 20
	zeroChunkBytes   = 64 << 10
	// yieldsAfterCommitMax bounds how often the writer yields after a commit
	// for the callers it answered to queue again.
	yieldsAfterCommitMax = 4
	// queuedBatchesMax bounds the append queue at this many MaxBatchBytes;
	// appenders wait when it is full.
	queuedBatchesMax = 4
)

// Options configure a Log. The zero value means every default.
type Options struct {
	// SegmentMaxBytes rolls to a new segment once a commit would take the
	// active one past it. Default 64 MiB, at most 1 GiB.
	SegmentMaxBytes int64
	// IndexIntervalBytes is the log distance between index entries. Default
	// 4096.
	IndexIntervalBytes int
	// Fsync is the durability policy; the default is FsyncAlways.
	Fsync FsyncPolicy
	// FsyncInterval is the fsync period of FsyncInterval. Default 1s.
	FsyncInterval time.Duration
	// MaxBatchBytes bounds one group-commit write (a single larger append is
	// written on its own). Default 4 MiB.
	MaxBatchBytes int
	// MaxRecordBytes is the largest record (Record.Size) Append accepts.
	// Default 5 MiB + 64 KiB.
	MaxRecordBytes int
	// RetentionBytes deletes whole oldest segments while the log is larger;
	// 0 = unlimited. The active segment is never deleted.
	RetentionBytes int64
	// RetentionAge deletes whole oldest segments whose newest record is
	// older; 0 = unlimited.
	RetentionAge time.Duration
	// BaseOffset is the first offset of a log created in an empty
	// directory (0 by default): a replica that starts from a leader whose
	// older records retention removed starts at the leader's first one.
	// A directory that holds segments keeps its own offsets.
	BaseOffset uint64
	// ResolvePayloads fills, on every Read and ReadFunc, the Payload of the
	// records of recs that have PayloadRef set (leaving the others alone)
	// with the payload of operation (Origin, OriginSeq), or fails. Readers
	// must not modify the slices it returns. Nil: a read that meets such a
	// record fails with ErrPayloadUnavailable.
	ResolvePayloads func(recs []Record) error
	// Logger receives structured logs; nil = zap.NewNop().
	Logger *zap.Logger
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.SegmentMaxBytes == 0 {
		o.SegmentMaxBytes = DefaultSegmentMaxBytes
	}
	if o.IndexIntervalBytes == 0 {
		o.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if o.FsyncInterval == 0 {
		o.FsyncInterval = DefaultFsyncInterval
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// Validate reports the first option out of range. Call it on WithDefaults'
// result: zero values are not valid by themselves.
func (o Options) Validate() error {
	switch {
	case o.SegmentMaxBytes < 1 || o.SegmentMaxBytes > maxSegmentMaxBytes:
		return fmt.Errorf("segment: SegmentMaxBytes %d not in [1, %d]", o.SegmentMaxBytes, maxSegmentMaxBytes)
	case o.IndexIntervalBytes < 1:
		return fmt.Errorf("segment: IndexIntervalBytes %d < 1", o.IndexIntervalBytes)
	case o.Fsync < FsyncAlways || o.Fsync > FsyncNever:
		return fmt.Errorf("segment: unknown fsync policy %d", int(o.Fsync))
	case o.FsyncInterval <= 0:
		return fmt.Errorf("segment: FsyncInterval %v <= 0", o.FsyncInterval)
	case o.MaxBatchBytes < 1 || o.MaxBatchBytes > maxRecordLimitBytes:
		return fmt.Errorf("segment: MaxBatchBytes %d not in [1, %d]", o.MaxBatchBytes, maxRecordLimitBytes)
	case o.MaxRecordBytes < minRecordBytes || o.MaxRecordBytes > maxRecordLimitBytes:
		return fmt.Errorf("segment: MaxRecordBytes %d not in [%d, %d]", o.MaxRecordBytes, minRecordBytes, maxRecordLimitBytes)
	case o.RetentionBytes < 0:
		return fmt.Errorf("segment: RetentionBytes %d < 0", o.RetentionBytes)
	case o.RetentionAge < 0:
		return fmt.Errorf("segment: RetentionAge %v < 0", o.RetentionAge)
	}
	return nil
}
