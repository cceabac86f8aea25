package ship

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
)

// fetchFunc sends a fetch to the leader at addr.
type fetchFunc func(ctx context.Context, addr string, req Request) (Response, error)

// follower is a running fetch loop toward one leader at one epoch.
type follower struct {
	core   region.Follower
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
	// Guarded by the replica's mu: when the leader last answered, and
	// why the last fetch failed or was refused ("" when it was not).
	started    time.Time
	answeredAt time.Time
	problem    string
}

// FollowerStatus is a following replica's fetch loop.
type FollowerStatus struct {
	Leader region.NodeID `json:"leader"`
	Epoch  uint64        `json:"epoch"`
	Addr   string        `json:"addr"`
	// Silent is how long ago the leader last answered (since the loop
	// started, when it never did).
	Silent time.Duration `json:"silent"`
	// Problem says why the last fetch failed or was refused.
	Problem string `json:"problem,omitempty"`
}

// status reports the loop; the replica's mu is held.
func (f *follower) status() FollowerStatus {
	at := f.answeredAt
	if at.IsZero() {
		at = f.started
	}
	return FollowerStatus{Leader: f.core.Leader, Epoch: f.core.Epoch, Addr: f.addr, Silent: time.Since(at), Problem: f.problem}
}

// fetchFailed records why a fetch got no answer, for status.
func (r *Replica) fetchFailed(f *follower, err error) {
	r.mu.Lock()
	f.problem = err.Error()
	r.mu.Unlock()
}

// errBadAnswer marks a leader's answer that does not fit the log; it is
// dropped and the fetch asked again.
var errBadAnswer = errors.New("ship: answer does not fit the log")

// follow makes the replica follow leader (at addr) in epoch. Following the
// same leader in the same epoch again changes nothing.
func (r *Replica) follow(leader region.NodeID, addr string, epoch uint64, fetch fetchFunc) {
	r.mu.Lock()
	cur := r.follower
	same := cur != nil && cur.core.Leader == leader && cur.core.Epoch == epoch && cur.addr == addr
	r.mu.Unlock()
	if same {
		return
	}
	r.stopFollowing()
	r.stepDown(epoch)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.failed != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{
		core:    region.Follower{Unit: r.unit, Self: r.self, Leader: leader, Epoch: epoch, HighWatermark: r.hw},
		addr:    addr,
		cancel:  cancel,
		done:    make(chan struct{}),
		started: time.Now(),
	}
	r.follower = f
	r.epoch = max(r.epoch, epoch)
	r.log.Debug("following", zap.Uint64("leader", uint64(leader)), zap.Uint64("epoch", epoch), zap.String("addr", addr))
	go r.runFollower(ctx, f, fetch)
}

// stopFollowing stops the fetch loop, if any, and waits for it.
func (r *Replica) stopFollowing() {
	r.mu.Lock()
	f := r.follower
	r.follower = nil
	r.mu.Unlock()
	if f != nil {
		f.cancel()
		<-f.done
	}
}

func (r *Replica) runFollower(ctx context.Context, f *follower, fetch fetchFunc) {
	defer close(f.done)
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(r.cfg.RetryInterval):
			return true
		}
	}
	for ctx.Err() == nil {
		r.mu.Lock()
		seg, epochs := r.seg, r.epochs
		r.mu.Unlock()
		req := f.core.Request(seg.EndOffset(), epochs)
		resp, err := fetch(ctx, f.addr, Request{FetchRequest: req, MaxWaitMillis: uint64(r.cfg.MaxWait / time.Millisecond)})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.fetchFailed(f, err)
			r.cfg.rate.Warn(r.log, string(r.unit)+" fetch", "fetch failed", zap.String("leader", f.addr), zap.Error(err))
			pause()
			continue
		}
		r.mu.Lock()
		f.answeredAt, f.problem = time.Now(), ""
		if resp.Err != region.FetchOK {
			f.problem = fmt.Sprintf("refused: %v", resp.Err)
		}
		step := f.core.Handle(resp.FetchResponse, seg.EndOffset(), r.epochs)
		if hw := min(f.core.HighWatermark, seg.EndOffset()); hw > r.hw {
			r.hw = hw
			r.notify()
		}
		r.mu.Unlock()
		switch {
		case step.Refused != region.FetchOK:
			// The leader refused this epoch: wait for the metadata to
			// move (the Manager restarts the loop) or the leader to
			// catch up with it.
			pause()
		case step.Restart:
			if err := r.restartAt(step.RestartAt); err != nil {
				r.fail(err)
				return
			}
		case step.Truncate:
			if err := r.truncate(step.TruncateTo); err != nil {
				r.fail(err)
				return
			}
		case len(step.Entries) > 0:
			err := r.appendFetched(step.Entries, resp.Records)
			if errors.Is(err, errBadAnswer) {
				r.cfg.rate.Warn(r.log, string(r.unit)+" answer", "dropped a fetch answer", zap.String("leader", f.addr), zap.Error(err))
				pause()
				continue
			}
			if err != nil {
				r.fail(err)
				return
			}
		}
	}
}

// appendFetched appends a leader's records, noting each new epoch in the
// history (durably) before its first record.
func (r *Replica) appendFetched(entries []region.Entry, recs []segment.Record) error {
	if len(recs) != len(entries) {
		return fmt.Errorf("%w: %d records for %d entries", errBadAnswer, len(recs), len(entries))
	}
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Epoch == entries[i].Epoch {
			j++
		}
		epoch, offset := entries[i].Epoch, entries[i].Offset
		r.mu.Lock()
		seg, epochs := r.seg, r.epochs
		r.mu.Unlock()
		switch {
		case offset != seg.EndOffset():
			return fmt.Errorf("%w: records from %d, the log ends at %d", errBadAnswer, offset, seg.EndOffset())
		case epoch < epochs.Last():
			return fmt.Errorf("%w: records of epoch %d after epoch %d", errBadAnswer, epoch, epochs.Last())
		case epoch > epochs.Last():
			next := epochs.Assign(epoch, offset)
			if err := saveEpochs(r.fs, r.dir, next); err != nil {
				return err
			}
			r.mu.Lock()
			r.epochs = next
			r.mu.Unlock()
		}
		first, err := seg.Append(recs[i:j])
		if err != nil {
			return fmt.Errorf("ship: %s: append fetched records: %w", r.unit, err)
		}
		if first != offset {
			return fmt.Errorf("ship: %s: fetched records from %d landed at %d", r.unit, offset, first)
		}
		i = j
	}
	return nil
}

// truncate cuts the log at offset (the records from there on diverge from
// the leader's): the log is closed, cut crash-safely and opened again,
// then the epoch history forgets what lay past the cut.
func (r *Replica) truncate(offset uint64) error {
	r.mu.Lock()
	seg := r.seg
	r.mu.Unlock()
	end := seg.EndOffset()
	if offset >= end {
		// No record to cut, but the history may end in epochs whose
		// leader wrote nothing (lead assigns its epoch before writing):
		// the leader does not know them, and a follower asking with one
		// as its last epoch would be told it diverges at its own end
		// forever (the geo kill test's stuck journal).
		r.mu.Lock()
		epochs := r.epochs.TruncateTo(offset)
		changed := len(epochs) != len(r.epochs)
		r.mu.Unlock()
		if !changed {
			return nil
		}
		r.log.Info("forgetting epochs without records", zap.Uint64("from", offset))
		if err := saveEpochs(r.fs, r.dir, epochs); err != nil {
			return err
		}
		r.mu.Lock()
		r.epochs = epochs
		r.mu.Unlock()
		return nil
	}
	r.log.Info("truncating a diverged log", zap.Uint64("from", offset), zap.Uint64("end", end))
	if err := seg.Close(); err != nil {
		return fmt.Errorf("ship: %s: close to truncate: %w", r.unit, err)
	}
	if err := segment.Truncate(r.fs, r.dir, offset, r.opts); err != nil {
		return fmt.Errorf("ship: %s: truncate at %d: %w", r.unit, offset, err)
	}
	next, err := segment.Open(r.fs, r.dir, r.opts)
	if err != nil {
		return fmt.Errorf("ship: %s: reopen after truncation: %w", r.unit, err)
	}
	r.mu.Lock()
	r.seg = next
	epochs := r.epochs.TruncateTo(offset)
	r.epochs = epochs
	r.hw = min(r.hw, offset)
	r.mu.Unlock()
	return saveEpochs(r.fs, r.dir, epochs)
}

// restartAt empties the log and starts it again at offset: the leader's
// first record is past this log's end (retention removed what this
// replica lacks), so nothing here is worth keeping.
func (r *Replica) restartAt(offset uint64) error {
	r.mu.Lock()
	seg := r.seg
	r.mu.Unlock()
	r.log.Info("the leader's log starts past this one's end: starting it again there",
		zap.Uint64("end", seg.EndOffset()), zap.Uint64("at", offset))
	if err := seg.Close(); err != nil {
		return fmt.Errorf("ship: %s: close to restart: %w", r.unit, err)
	}
	if err := r.fs.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("ship: %s: remove to restart: %w", r.unit, err)
	}
	opts := r.opts
	opts.BaseOffset = offset
	next, err := segment.Open(r.fs, r.dir, opts)
	if err != nil {
		return fmt.Errorf("ship: %s: restart at %d: %w", r.unit, offset, err)
	}
	if err := saveEpochs(r.fs, r.dir, nil); err != nil {
		_ = next.Close()
		return err
	}
	r.mu.Lock()
	r.seg, r.epochs, r.hw = next, nil, min(r.hw, offset)
	r.mu.Unlock()
	return nil
}
