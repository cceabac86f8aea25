package shell

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
)

// restore re-applies the journal tails past the applied watermark in
// causal order, computes the consistent cut and creates the engine from it
// (see restore.go).
func (s *Shell) restore() error {
	started := time.Now()
	ends := s.journals.ends()
	applied, err := s.records.applied()
	if err != nil {
		return err
	}
	for o, v := range applied {
		if _, member := s.journals.logs[o]; !member {
			return fmt.Errorf("shell: applied watermark names region %q outside the fabric: %w", o, ErrJournal)
		}
		applied[o] = min(v, ends[o])
	}
	cursors := make(map[string]restoreCursor)
	for o, end := range ends {
		if end > applied[o] && !s.paused.Load() {
			c, err := newJournalCursor(s.journals, o, applied[o]+1, end)
			if err != nil {
				return err
			}
			cursors[o] = c
		}
	}
	if s.order, err = s.journals.lastOrder(); err != nil {
		return err
	}
	t := &waitTracker{}
	a := applier{s: s, t: t}
	n := 0
	reapply := func(origin string, op *restoreOp) error {
		n++
		a.add(&delivery{d: replicator.Delivery{Origin: origin, Seq: op.Seq, Body: op.Body}})
		return nil
	}
	// First in the order the ops were applied (the streams' lost tails
	// come back at the same offsets), then causally what was not applied.
	cut, err := mergeApplied(applied, cursors, reapply)
	if err != nil {
		return err
	}
	if cut, err = mergeCausal(s.self, cut, cursors, reapply); err != nil {
		return err
	}
	a.flush()
	if err := t.wait(); err != nil {
		return fmt.Errorf("shell: re-apply journals: %w", err)
	}
	s.m.restoredOps.Add(uint64(n))
	if s.progress == nil {
		s.progress = newProgress(cut, s.log)
	} else { // heal: the saver and completer hold it
		s.progress.reset(cut)
	}
	if n > 0 {
		// What the causal pass applied carries no order of its own.
		if err := s.saveWatermark(cut); err != nil {
			return err
		}
	}
	// The engine starts at the cut for remote origins; own ops are all
	// kept. Ops of remote origins past the cut are already journaled.
	delivered := cut.Clone()
	delivered[s.self] = ends[s.self]
	for o, v := range delivered {
		if v == 0 {
			delete(delivered, o)
		}
	}
	st, err := replicator.RestoreFromJournals(s.journals, delivered)
	if err != nil {
		return err
	}
	if st.Rejoin, err = s.records.joinMark(); err != nil {
		return err
	}
	ecfg := s.opts.Engine
	ecfg.Self, ecfg.Regions = s.self, s.regions
	if ecfg.MaxInflightOps == 0 {
		ecfg.MaxInflightOps = DefaultMaxInflightOps
	}
	if ecfg.AckInterval == 0 {
		ecfg.AckInterval = DefaultAckInterval
	}
	if s.engine, err = replicator.New(ecfg, st); err != nil {
		return err
	}
	if s.joining = s.engine.Joining(); s.joining != st.Rejoin {
		if err := s.records.setJoinMark(s.joining); err != nil {
			return err
		}
	}
	// On a heal or a resume the channel stays (callers wait on it); a
	// region not joined before is joined once its engine is not joining:
	// everything delivered is applied (the restore re-applied it).
	if s.joinedC == nil {
		s.joinedC = make(chan struct{})
	}
	if !s.joined.Load() && !s.joining {
		s.joined.Store(true)
		s.joinTarget = nil
		close(s.joinedC)
	}
	if s.joining {
		s.log.Info("joining the fabric: waiting to hear from every peer before publishing",
			zap.Bool("resumed", st.Rejoin), zap.Duration("timeout", s.engine.Config().JoinTimeout))
	}
	s.jend = ends.Clone()
	orphans := uint64(0)
	for o, e := range ends {
		orphans += e - delivered[o]
	}
	s.log.Info("journals restored", zap.Any("journaled", ends), zap.Any("delivered", delivered),
		zap.Int("reapplied", n), zap.Uint64("beyondCut", orphans), zap.Duration("took", time.Since(started)))
	return nil
}

// waitTracker waits for the applies of a restart.
type waitTracker struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (t *waitTracker) add() { t.wg.Add(1) }

func (t *waitTracker) done(err error) {
	if err != nil {
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		t.mu.Unlock()
	}
	t.wg.Done()
}

func (t *waitTracker) wait() error {
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}
