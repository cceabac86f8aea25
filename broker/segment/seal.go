package segment

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/vfs"
)

// Sealing behind the writer. Under FsyncInterval and FsyncNever a rolled
// segment holds up to a whole segment of writes that were never synced
// (64 MiB by default under FsyncNever): syncing it on the writer, as
// FsyncAlways does, stalled every append queued behind the roll for that
// flush (~100 ms at 40,000 msgs/s of 1 KiB, every 1.6 s). The writer
// hands the rolled segment to a goroutine that syncs its data, then its
// index, and goes on in the new segment. One seal runs at a time (a roll
// waits for the one before); Sync and Close wait for the one in flight. A
// crash before a seal ends can leave the sealed segment damaged or short
// with a later segment after it: recovery cuts the log there under these
// policies (recover), as it cuts a torn tail.

// seal makes a rolled segment durable: its data (a failure fails the
// log), then its index idx (a failure is only logged: Open rebuilds it),
// which it closes.
func (l *Log) seal(old *segment, idx vfs.File) error {
	err := l.syncFile(old.log)
	if err != nil {
		err = fmt.Errorf("fsync %s: %w", old.logPath, err)
		l.markFailed(err)
	}
	if idx != nil {
		if err == nil {
			if ierr := idx.Sync(); ierr != nil {
				l.logger.Warn("index fsync failed", zap.String("index", old.idxPath), zap.Error(ierr))
			}
		}
		idx.Close()
	}
	return err
}

// sealBehind seals old on its own goroutine after the seal in flight, if
// any, ended. Called by the writer at a roll.
func (l *Log) sealBehind(old *segment, idx vfs.File) {
	l.waitSealed()
	old.refs.Add(1)
	done := make(chan struct{})
	l.sealMu.Lock()
	l.sealing = done
	l.sealMu.Unlock()
	go func() {
		defer close(done)
		defer old.release()
		_ = l.seal(old, idx) // a failure failed the log
	}()
}

// waitSealed waits until the seal in flight, if any, has ended.
func (l *Log) waitSealed() {
	l.sealMu.Lock()
	ch := l.sealing
	l.sealMu.Unlock()
	if ch != nil {
		<-ch
	}
}
