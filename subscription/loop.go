package subscription

import (
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
)

// run is the dispatch loop: one goroutine per subscription, woken by the
// Source growing, permits, acks, attach/detach, and timers (ack timeouts,
// nack delays, retries).
func (s *Subscription) run() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var quietUntil time.Time // ignore Changed until then (see below)
	var barriers []chan struct{}
	for {
		// Take Changed before reading EndOffset so no append is missed.
		var changed <-chan struct{}
		if time.Now().After(quietUntil) {
			changed = s.src.Changed()
		}
		end := s.src.EndOffset()
		wakeAt, more := s.step()
		for _, b := range barriers {
			close(b)
		}
		barriers = barriers[:0]
		if more {
			s.kick()
		}
		if changed == nil && (wakeAt.IsZero() || quietUntil.Before(wakeAt)) {
			wakeAt = quietUntil
		}
		timer.Stop()
		if !wakeAt.IsZero() {
			timer.Reset(max(time.Until(wakeAt), 0))
		}
		select {
		case <-s.stop:
			for _, b := range barriers {
				close(b)
			}
			return
		case <-s.wake:
		case <-changed:
			// A closed source keeps Changed closed; without an advance,
			// stop listening for a while instead of spinning. An append
			// that landed between taking changed and reading end also
			// wakes us with no advance, but then a fresh Changed is open:
			// going quiet there would delay the next appends by
			// readRetryDelay.
			if s.src.EndOffset() == end && isClosed(s.src.Changed()) && s.src.EndOffset() == end {
				quietUntil = time.Now().Add(readRetryDelay)
			}
		case <-timer.C:
		case b := <-s.barrier:
			barriers = append(barriers, b)
		}
	}
}

// sync waits until the loop has run a full round that started after the
// call (tests use it to observe "nothing more is delivered"). It returns
// false if the subscription closed first.
func (s *Subscription) sync() bool {
	b := make(chan struct{})
	select {
	case s.barrier <- b:
	case <-s.loopDone:
		return false
	}
	select {
	case <-b:
		return true
	case <-s.loopDone:
		return false
	}
}

// step runs one round: fire timers, dispatch, read and push records, publish
// dead letters. It returns when the loop must wake at the latest (zero:
// never) and whether a full round suggests more work right away.
func (s *Subscription) step() (wakeAt time.Time, more bool) {
	now := time.Now()
	ahead, learned, keysFailed := s.readKeys()
	s.mu.Lock()
	v := s.core.CursorVersion()
	s.core.LogStart(s.src.StartOffset())
	s.core.LogEnd(s.src.EndOffset())
	s.core.Tick(now)
	dead := s.core.TakeDeadLetters()
	as := s.core.Dispatch(now, s.roomLocked, maxDispatchMessages)
	roomBound := s.core.RoomBound()
	moreKeys := learned && s.core.MoreKeys()
	s.changedVersionLocked(v)
	s.mu.Unlock()

	readFailed := s.deliver(as, ahead)
	if len(dead) > 0 {
		s.deadLetter(dead)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.core.NextDeadline(); ok {
		wakeAt = at
	}
	poll := func(d time.Duration) {
		if t := now.Add(d); wakeAt.IsZero() || t.Before(wakeAt) {
			wakeAt = t
		}
	}
	if readFailed || keysFailed {
		poll(readRetryDelay)
	}
	if roomBound {
		// Permits beyond the channel's room (pull mode): look again soon,
		// as draining a channel wakes nobody.
		poll(roomPoll)
	}
	return wakeAt, (len(as) == maxDispatchMessages || moreKeys) && !readFailed
}

// readKeys reads the records whose keys a Key_Shared dispatcher asks for
// (KeysWanted) and hands it their keys. It returns the records read, for
// deliver, whether it learned any key, and whether reading failed.
func (s *Subscription) readKeys() (ahead map[uint64]segment.Record, learned, failed bool) {
	s.mu.Lock()
	s.core.LogStart(s.src.StartOffset())
	s.core.LogEnd(s.src.EndOffset())
	from, n := s.core.KeysWanted(maxDispatchMessages)
	s.mu.Unlock()
	if n == 0 {
		return nil, false, false
	}
	recs, err := s.src.Read(from, n, maxReadBytes)
	if err != nil {
		if from >= s.src.StartOffset() {
			s.log.Warn("reading keys for dispatch failed", zap.Uint64("from", from), zap.Error(err))
			failed = true
		}
		return nil, false, failed
	}
	keys := make([]string, 0, len(recs))
	ahead = make(map[uint64]segment.Record, len(recs))
	for _, r := range recs {
		if r.Offset != from+uint64(len(keys)) || len(keys) == n {
			break
		}
		keys = append(keys, r.Key)
		ahead[r.Offset] = r
	}
	s.mu.Lock()
	s.core.LearnKeys(from, keys)
	s.mu.Unlock()
	return ahead, len(keys) > 0, false
}

func (s *Subscription) changedVersionLocked(before uint64) {
	if s.core.CursorVersion() != before {
		s.persist.kick()
	}
}

// roomLocked is how many more messages c's channel takes without blocking.
// Only the loop sends, so room can only grow until the loop sends again.
func (s *Subscription) roomLocked(id ConsumerID) int {
	c := s.consumers[id]
	if c == nil {
		return 0
	}
	return cap(c.ch) - len(c.ch)
}

// deliver reads the assigned records (those not already in ahead) and
// pushes them to their consumers; assignments it cannot deliver are
// cancelled. It reports a read failure.
func (s *Subscription) deliver(as []Assignment, ahead map[uint64]segment.Record) (readFailed bool) {
	if len(as) == 0 {
		return false
	}
	offsets := make([]uint64, 0, len(as))
	for _, a := range as {
		if _, ok := ahead[a.Offset]; !ok {
			offsets = append(offsets, a.Offset)
		}
	}
	recs, err := s.readOffsets(offsets)
	for off, r := range ahead {
		recs[off] = r
	}
	if err != nil {
		start := s.src.StartOffset()
		if offsets[0] >= start {
			s.log.Warn("reading records for dispatch failed", zap.Uint64("from", offsets[0]), zap.Error(err))
			readFailed = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.core.LogStart(s.src.StartOffset())
	for _, a := range as {
		c := s.consumers[a.Consumer]
		rec, ok := recs[a.Offset]
		if !ok || c == nil || !s.core.Outstanding(a.Consumer, a.Offset) {
			s.core.Cancel(a)
			continue
		}
		select {
		case c.ch <- Delivery{Record: rec, RedeliveryCount: a.RedeliveryCount}:
		default: // cannot happen: room was checked under the lock
			s.core.Cancel(a)
		}
	}
	return readFailed
}

// readOffsets reads the records at offsets (in any order, no duplicates),
// batching contiguous runs. On error it returns what it read so far.
func (s *Subscription) readOffsets(offsets []uint64) (map[uint64]segment.Record, error) {
	sorted := slices.Clone(offsets)
	slices.Sort(sorted)
	out := make(map[uint64]segment.Record, len(sorted))
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[j-1]+1 {
			j++
		}
		// Read the run [sorted[i], sorted[j-1]].
		next, last := sorted[i], sorted[j-1]
		for next <= last {
			recs, err := s.src.Read(next, int(last-next+1), maxReadBytes)
			if err != nil {
				return out, fmt.Errorf("subscription: read %d: %w", next, err)
			}
			progressed := false
			for _, r := range recs {
				if r.Offset >= next && r.Offset <= last {
					out[r.Offset] = r
					next, progressed = r.Offset+1, true
				}
			}
			if !progressed {
				return out, fmt.Errorf("subscription: source returned no record at offset %d", next)
			}
		}
		i = j
	}
	return out, nil
}

// deadLetter publishes messages that exhausted their redeliveries, then
// acknowledges them; failures are retried after the nack delay.
func (s *Subscription) deadLetter(dead []DeadLetter) {
	offsets := make([]uint64, len(dead))
	for i, d := range dead {
		offsets[i] = d.Offset
	}
	recs, err := s.readOffsets(offsets)
	if err != nil {
		s.log.Warn("reading records to dead-letter failed", zap.Error(err))
	}
	results := make([]error, len(dead))
	for i, d := range dead {
		rec, ok := recs[d.Offset]
		if !ok {
			results[i] = fmt.Errorf("subscription: record %d unreadable", d.Offset)
			continue
		}
		results[i] = s.cfg.DeadLetter(rec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.core.CursorVersion()
	s.core.LogStart(s.src.StartOffset())
	retryAt := time.Now().Add(max(s.cfg.NackDelay, minDeadLetterRetry))
	for i, d := range dead {
		if results[i] != nil {
			s.log.Warn("dead-lettering failed; will retry", zap.Uint64("offset", d.Offset), zap.Error(results[i]))
			s.core.DeadLetterFailed(d.Offset, retryAt)
			continue
		}
		s.log.Info("message dead-lettered", zap.Uint64("offset", d.Offset), zap.Int("redeliveryCount", d.RedeliveryCount))
		s.core.DeadLettered(d.Offset)
	}
	s.changedVersionLocked(v)
}

// isClosed reports whether ch is closed (it is only ever closed, never
// sent on).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
