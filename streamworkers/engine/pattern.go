package engine

import (
	"fmt"
	"math"
	"sort"

	"github.com/valyala/fastjson"
)

// pattern runs a pattern over events in event-time order: an event the
// watermark has reached is matched now; a later one is held until the
// watermark reaches it (so an event of one stream read ahead of the other
// waits for it).
func (w *Worker) pattern(ev Event, sides int) error {
	doc := w.lastDoc
	maxT := int64(math.MinInt64)
	for side := 0; side < 2; side++ {
		if sides&(1<<side) == 0 {
			continue
		}
		en := sideEnv(side, &ev, doc)
		t, err := w.eventTime(side, &en)
		if err != nil {
			return err
		}
		if w.late(t) {
			return fmt.Errorf("%w: event time %s is behind the watermark %s by more than the allowed lateness", ErrLate, ms2s(t), ms2s(w.st.wm))
		}
		maxT = max(maxT, t)
	}
	w.observe(ev.Stream, maxT) // releases held events, expires starts
	if w.st.hasWM && maxT <= w.st.wm {
		return w.match(ev, doc, sides, maxT)
	}
	b := keep(ev, maxT, w.st.seq+1)
	if err := w.limit(bufferedBytes(b), 0); err != nil {
		return err
	}
	w.st.seq++
	i := sort.Search(len(w.st.held), func(i int) bool { return heldBefore(b, w.st.held[i]) })
	w.st.held = append(w.st.held, buffered{})
	copy(w.st.held[i+1:], w.st.held[i:])
	w.st.held[i] = b
	w.st.bytes += bufferedBytes(b)
	return nil
}

// heldBefore orders held events by event time, then arrival.
func heldBefore(a, b buffered) bool {
	if a.T != b.T {
		return a.T < b.T
	}
	return a.Seq < b.Seq
}

// release matches the held events the watermark wm reaches, in order; their
// errors go out with them.
func (w *Worker) release(wm int64) {
	st := w.st
	n := 0
	for n < len(st.held) && st.held[n].T <= wm {
		n++
	}
	if n == 0 {
		return
	}
	out := st.held[:n]
	st.held = append([]buffered(nil), st.held[n:]...)
	for _, b := range out {
		st.bytes -= bufferedBytes(b)
		doc, err := w.parse(3, b.Ev.Payload)
		if err == nil {
			err = w.match(b.Ev, doc, w.sidesOf(b.Ev.Stream), b.T)
		}
		if err != nil {
			w.relErrs = append(w.relErrs, EventError{Event: b.Ev, Err: err})
		}
	}
}

// match: an event of the second side completes the waiting starts of its
// key within the time; an event of the first side starts one.
func (w *Worker) match(ev Event, doc *fastjson.Value, sides int, t int64) error {
	q := w.q
	times := [2]int64{t, t}
	// Which roles the event plays, and under which key.
	var role [2]bool
	var keys [2]string
	for side := 0; side < 2; side++ {
		if sides&(1<<side) == 0 {
			continue
		}
		en := sideEnv(side, &ev, doc)
		en.now = times[side]
		if f := q.patFilter[side]; f != nil {
			v, err := f(&en)
			if err != nil {
				return fmt.Errorf("pattern condition: %w", err)
			}
			ok, err := v.truth()
			if err != nil {
				return fmt.Errorf("pattern condition: %w", err)
			}
			if !ok {
				continue
			}
		}
		if len(q.patKeys[side]) == 0 {
			keys[side], role[side] = ev.Key, true
			continue
		}
		k, ok, err := keyOf(q.patKeys[side], &en)
		if err != nil {
			return err
		}
		keys[side], role[side] = k, ok
	}
	var add int64
	if role[0] {
		if len(w.st.pending[keys[0]]) >= maxPendingPerKey {
			return fmt.Errorf("%w: %d pattern starts wait for key %q", ErrLimit, maxPendingPerKey, ev.Key)
		}
		add = bufferedBytes(buffered{Ev: ev})
	}
	if err := w.limit(add, 0); err != nil {
		return err
	}
	var firstErr error
	if role[1] {
		tb := times[1]
		list := w.st.pending[keys[1]]
		kept := list[:0]
		for _, a := range list {
			if tb < a.T || tb > a.T+q.within {
				kept = append(kept, a)
				continue
			}
			adoc, err := w.parse(2, a.Ev.Payload)
			if err != nil {
				kept = append(kept, a)
				continue
			}
			aev := a.Ev
			var en env
			en.ev[0], en.doc[0] = &aev, adoc
			en.ev[1], en.doc[1] = &ev, doc
			en.now = tb
			if q.patCond != nil {
				v, err := q.patCond(&en)
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("pattern condition: %w", err)
					}
					kept = append(kept, a)
					continue
				}
				if ok, err := v.truth(); err != nil || !ok {
					if err != nil && firstErr == nil {
						firstErr = fmt.Errorf("pattern condition: %w", err)
					}
					kept = append(kept, a)
					continue
				}
			}
			w.st.bytes -= bufferedBytes(a)
			if !q.absent {
				if err := w.emit(&en); err != nil && firstErr == nil {
					firstErr = err
				}
			}
		}
		if len(kept) == 0 {
			delete(w.st.pending, keys[1])
		} else {
			w.st.pending[keys[1]] = kept
		}
	}
	if role[0] {
		w.st.seq++
		a := keep(ev, times[0], w.st.seq)
		w.st.pending[keys[0]] = append(w.st.pending[keys[0]], a)
		w.st.bytes += bufferedBytes(a)
		w.st.nextEvict = min(w.st.nextEvict, a.T+q.within)
	}
	return firstErr
}

// expirePatterns drops starts whose time is up; NOT_FOLLOWED_BY emits them.
func (w *Worker) expirePatterns() {
	st := w.st
	if st.wm <= st.nextEvict {
		return
	}
	var expired []buffered
	next := int64(math.MaxInt64)
	for k, list := range st.pending {
		kept := list[:0]
		for _, a := range list {
			if a.T+w.q.within < st.wm {
				st.bytes -= bufferedBytes(a)
				expired = append(expired, a)
				continue
			}
			next = min(next, a.T+w.q.within)
			kept = append(kept, a)
		}
		if len(kept) == 0 {
			delete(st.pending, k)
		} else {
			st.pending[k] = kept
		}
	}
	st.nextEvict = next
	if !w.q.absent {
		return
	}
	sort.Slice(expired, func(i, j int) bool {
		a, b := expired[i], expired[j]
		if a.T != b.T {
			return a.T < b.T
		}
		return a.Seq < b.Seq
	})
	for _, a := range expired {
		doc, err := w.parse(2, a.Ev.Payload)
		if err != nil {
			continue
		}
		aev := a.Ev
		var en env
		en.ev[0], en.doc[0] = &aev, doc
		en.now = a.T + w.q.within
		if err := w.emit(&en); err != nil {
			w.errs = append(w.errs, fmt.Errorf("pattern %s@%s timed out: %w", aev.Stream, ms2s(int64(aev.Position)), err))
		}
	}
}
