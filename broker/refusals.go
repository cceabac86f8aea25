package broker

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/internal/lograte"
	"github.com/causeway/causeway/internal/pebblekv"
)

// RefusalReason classifies a failed publish for metrics and logs.
type RefusalReason int

// The reasons, in the order of RefusalReasons.
const (
	RefusedNoSpace     RefusalReason = iota // the disk is full (or below a store's reserve)
	RefusedStorage                          // another storage failure (a failed log, an I/O error)
	RefusedUnavailable                      // closing, joining, replication refusing publishes
	RefusedTooLarge                         // a message or record above the limits
	RefusedOther
	refusalReasons
)

// RefusalReasons are the label values of the reasons.
var RefusalReasons = [refusalReasons]string{"no_space", "storage", "unavailable", "too_large", "other"}

func (r RefusalReason) String() string { return RefusalReasons[r] }

// ClassifyRefusal returns the reason of a publish error.
func ClassifyRefusal(err error) RefusalReason {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), pebblekv.IsNoSpace(err):
		return RefusedNoSpace
	case errors.Is(err, ErrMessageTooLarge), errors.Is(err, segment.ErrRecordTooLarge):
		return RefusedTooLarge
	case errors.Is(err, ErrClosed), errors.Is(err, ErrJoining), errors.Is(err, pebblekv.ErrUnavailable),
		errors.Is(err, pebblekv.ErrWritesRefused):
		return RefusedUnavailable
	case errors.Is(err, segment.ErrFailed):
		return RefusedStorage
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return RefusedStorage
	}
	return RefusedOther
}

// refusals counts failed publishes by reason and keeps their warnings from
// flooding the log: the first of a reason on a stream is logged, then one
// line per interval with how many were held back.
type refusals struct {
	counts [refusalReasons]atomic.Uint64
	rate   *lograte.Limiter
}

// PublishRefusals returns how many messages were refused for each reason
// (indexed like RefusalReasons).
func (m *Metrics) PublishRefusals() [len(RefusalReasons)]uint64 {
	var out [len(RefusalReasons)]uint64
	for i := range out {
		out[i] = m.refusals.counts[i].Load()
	}
	return out
}

// refused counts n refused messages and logs the refusal (rate-limited).
func (m *Metrics) refused(log *zap.Logger, stream, producer string, n int, err error) {
	r := ClassifyRefusal(err)
	m.PublishErrors.Add(uint64(n))
	m.refusals.counts[r].Add(uint64(n))
	m.refusals.rate.Warn(log, fmt.Sprintf("%s/%s", r, stream), "publish failed",
		zap.String("producer", producer), zap.String("reason", r.String()), zap.Int("messages", n), zap.Error(err))
}
