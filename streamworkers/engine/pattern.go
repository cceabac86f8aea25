package engine

import (
	"fmt"
	"math"
	"sort"
)

// pattern: an event of the second side completes the waiting starts of its
// key within the time; an event of the first side starts one.
func (w *Worker) pattern(ev Event, sides int) error {
	doc := w.lastDoc
	q := w.q
	var times [2]int64
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
		times[side] = t
	}
	maxT := int64(math.MinInt64)
	for side := 0; side < 2; side++ {
		if sides&(1<<side) != 0 {
			maxT = max(maxT, times[side])
		}
	}
	w.observe(ev.Stream, maxT) // expires the starts the event comes too late for
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
