package service

import (
	"time"

	"go.uber.org/zap"
)

// maxSweepKeys bounds the expired entries one sweep deletes per collection.
const maxSweepKeys = 1000

// sweepLoop is the compaction loop: every SweepInterval it deletes expired
// key/value entries and trims the op logs (oplogtrim.go).
func (s *Service) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.SweepExpired(); err != nil {
				s.log.Warn("expiry sweep", zap.Error(err))
			}
			if _, err := s.TrimOpLogs(); err != nil {
				s.log.Warn("op log trim", zap.Error(err))
			}
		}
	}
}

// SweepExpired deletes the key/value entries whose expiry has passed (at
// most maxSweepKeys per collection per call; reads already hide them) and
// returns how many it deleted. Each deletion is a delete op, so it reaches
// the change feed (op "expire") and other regions like any write.
func (s *Service) SweepExpired() (int, error) {
	s.mu.RLock()
	var cols []*collection
	for _, c := range s.cols {
		if c.info.Load().KeyValue {
			cols = append(cols, c)
		}
	}
	s.mu.RUnlock()
	total := 0
	now := s.now()
	for _, c := range cols {
		keys, err := s.store.Expired(c.info.Load().ID, now, maxSweepKeys)
		if err != nil || len(keys) == 0 {
			if err != nil {
				return total, err
			}
			continue
		}
		ws := make([]Write, len(keys))
		for i, k := range keys {
			ws[i] = Write{Kind: expire, Key: k}
		}
		results, err := c.write(ws)
		if err != nil {
			return total, err
		}
		for _, r := range results {
			if r.Err == nil && r.Rev != "" {
				total++
			}
		}
	}
	return total, nil
}
