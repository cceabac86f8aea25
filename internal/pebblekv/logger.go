package pebblekv

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/lograte"
)

// commitFatal is the panic value of Fatalf on Pebble's commit path; the
// write that called Pebble recovers it (see DB.write).
type commitFatal struct{ err error }

// logger is the Pebble Logger of one DB: Infof at debug level, Errorf
// rate-limited (a full disk retries flushes), Fatalf never exits.
type logger struct {
	db   *DB
	log  *zap.Logger
	rate *lograte.Limiter
}

func (l logger) Infof(format string, args ...any) { l.log.Debug(fmt.Sprintf(format, args...)) }

func (l logger) Errorf(format string, args ...any) {
	l.rate.Error(l.log, format, fmt.Sprintf(format, args...))
}

// Fatalf marks the store failed. On the commit path (Pebble's
// applyInternal) it panics to the write that called Pebble, which turns it
// into an error: Pebble would otherwise go on and report the failed commit
// as a success. Anywhere else (flush, compaction, MANIFEST) it returns; the
// store refuses writes until it is reopened.
func (l logger) Fatalf(format string, args ...any) {
	err := newFatalError(format, args)
	l.db.markFailed(err, time.Now())
	if strings.HasPrefix(format, "pebble: fatal commit error") {
		panic(commitFatal{err: err})
	}
	l.rate.Error(l.log, "fatal:"+format, "pebble reported a fatal error; the store refuses writes until it is reopened",
		zap.Error(err))
}

// fatalError is what Fatalf reports: its message, wrapping the first error
// among its arguments (so that errors.Is finds ENOSPC through it).
type fatalError struct {
	msg   string
	cause error
}

func newFatalError(format string, args []any) *fatalError {
	e := &fatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.cause = err
			break
		}
	}
	return e
}

func (e *fatalError) Error() string { return e.msg }
func (e *fatalError) Unwrap() error { return e.cause }
