package shell

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/pebblekv"
)

// Recovery from a full disk, in process. A failed journal append is undone
// by the segment log (the file is cut back), so the journals hold exactly
// the ops whose writes succeeded; but the engine had already created the
// refused ones. Once the shell fails, it refuses publishes and ignores
// peers; when every step in flight is through and the disk takes a probe
// write, heal rebuilds the engine from the journals, as a restart does
// (re-applying the journal tails past the applied watermark to the
// streams and registered kinds), and publishes resume. The refused ops
// were never sent (nothing is dispatched before it is durable) nor kept:
// a refusal means stored nowhere. A journaled op whose stream append
// failed was answered ErrAppliedLater and is applied here.

// healInterval is the least time between two recovery attempts.
const healInterval = time.Second

// healDrainWait bounds how long heal waits for the steps in flight.
const healDrainWait = 2 * time.Second

// probeBytes is the size of the probe write.
const probeBytes = 256 << 10

// heal recovers a failed shell once the disk has room (loop goroutine).
func (s *Shell) heal(now time.Time) {
	if s.failed.Load() == nil || now.Sub(s.lastHeal) < healInterval || s.stopping() {
		return
	}
	s.lastHeal = now
	// Steps issued since the failure are refused without I/O: the
	// completer is through them at once. Those with appends in flight
	// wait for their journal writes.
	for start := time.Now(); s.stepsInFlight.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > healDrainWait {
			return
		}
	}
	for o, l := range s.journals.logs {
		if journalFailed(l) {
			s.logRate.Error(s.log, "journal failed", "a journal failed beyond a refused write (its file could not be cut back): restart the node to recover",
				zap.String("journal", o))
			return
		}
	}
	if err := s.probe(); err != nil {
		s.logRate.Warn(s.log, "heal probe", "replication still cannot write", zap.Error(err))
		return
	}
	s.applies.Wait()
	for _, r := range s.own {
		r.req.fail(s.failure())
	}
	s.own = nil
	if err := s.rebuild(now); err != nil {
		s.logRate.Warn(s.log, "heal restore", "rebuilding replication from the journals failed; retrying", zap.Error(err))
		return
	}
	s.failed.Store(nil)
	s.m.recoveries.Add(1)
	s.log.Info("replication recovered: the journals are writable again, publishes resume",
		zap.Any("delivered", s.engine.Delivered()))
}

// rebuild re-applies the journal tails past the applied watermark and
// rebuilds the engine from the journals, as a restart does (loop
// goroutine, no step in flight, no apply running).
func (s *Shell) rebuild(now time.Time) error {
	if err := s.restore(); err != nil {
		return err
	}
	for p := range s.peers {
		if err := s.engine.PeerDown(p); err != nil {
			s.log.Warn("peer down after heal", zap.String("peer", p), zap.Error(err))
		}
		s.peerCur[p] = peerCur{}
	}
	s.evictMu.Lock()
	for _, r := range s.evicted {
		if err := s.engine.EvictRegion(r); err != nil {
			s.log.Warn("evict after heal", zap.String("region", r), zap.Error(err))
		}
	}
	s.evictMu.Unlock()
	s.journals.cache.drop(s.self)
	s.syncPeers(now)
	return nil
}

// probe writes, syncs and removes a file in the journal directory.
func (s *Shell) probe() error {
	name := filepath.Join(s.dir, "heal-probe")
	f, err := s.fs.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("shell: probe: %w", err)
	}
	defer func() { _ = s.fs.Remove(name) }()
	_, err = f.Write(make([]byte, probeBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shell: probe: %w", err)
	}
	return nil
}

// applyFailed fails the shell after a storage error applying journaled
// ops (a full disk): heal re-applies them from the journals.
func (s *Shell) applyFailed(what string, err error) {
	s.fail(fmt.Errorf("shell: apply to %s: %w", what, err))
	s.logRate.Warn(s.log, "apply failed: "+what, "apply of journaled ops failed; they are re-applied when the disk has room",
		zap.String("to", what), zap.Error(err))
}

// storageFull reports an error of a full disk or of a store refusing
// writes for one.
func storageFull(err error) bool {
	return pebblekv.IsNoSpace(err) || errors.Is(err, pebblekv.ErrWritesRefused) || errors.Is(err, pebblekv.ErrUnavailable)
}
