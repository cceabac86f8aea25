// Package dblog routes dragonboat's logs to zap. Dragonboat logs through a
// process-wide registry of loggers that can be set once
// (logger.SetLoggerFactory panics the second time), and a node runs several
// Raft groups (SPOT, the region's metadata): they all route through here.
package dblog

import (
	"fmt"
	"sync"
	"sync/atomic"

	dblogger "github.com/lni/dragonboat/v4/logger"
	"go.uber.org/zap"
)

// The adapter below is installed once per process and writes to the zap
// logger of the newest group started: that is the one piece of process
// state this package keeps, and only because dragonboat imposes it. Dragonboat's info
// lines (elections, connections) go to debug, its warnings to info.
var dragonboatLog struct {
	once    sync.Once
	current atomic.Pointer[zap.Logger]
}

// Route sends dragonboat's logs to log from now on.
func Route(log *zap.Logger) {
	dragonboatLog.current.Store(log.Named("dragonboat"))
	dragonboatLog.once.Do(func() {
		dblogger.SetLoggerFactory(func(pkg string) dblogger.ILogger { return zapDragonboat{pkg: pkg} })
	})
}

type zapDragonboat struct{ pkg string }

func (z zapDragonboat) log() *zap.Logger {
	if l := dragonboatLog.current.Load(); l != nil {
		return l
	}
	return zap.NewNop()
}

func (zapDragonboat) SetLevel(dblogger.LogLevel) {}

func (z zapDragonboat) Debugf(format string, args ...any) {
	z.log().Debug(fmt.Sprintf(format, args...), zap.String("pkg", z.pkg))
}

func (z zapDragonboat) Infof(format string, args ...any) {
	z.log().Debug(fmt.Sprintf(format, args...), zap.String("pkg", z.pkg))
}

func (z zapDragonboat) Warningf(format string, args ...any) {
	z.log().Info(fmt.Sprintf(format, args...), zap.String("pkg", z.pkg))
}

// Errorf logs at error level, except the transport's: a peer that is down
// is an expected state, reported by the group's own answers.
func (z zapDragonboat) Errorf(format string, args ...any) {
	if z.pkg == "transport" {
		z.log().Warn(fmt.Sprintf(format, args...), zap.String("pkg", z.pkg))
		return
	}
	z.log().Error(fmt.Sprintf(format, args...), zap.String("pkg", z.pkg))
}

func (z zapDragonboat) Panicf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	z.log().Error(msg, zap.String("pkg", z.pkg))
	panic(msg)
}
