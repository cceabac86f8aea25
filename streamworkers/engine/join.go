package engine

import (
	"fmt"
	"maps"
	"math"
	"sort"

	"github.com/valyala/fastjson"
)

// keep copies an event for a join buffer or a pending pattern (the caller
// may reuse its payload).
func keep(ev Event, t int64, seq uint64) buffered {
	ev.Payload = append([]byte(nil), ev.Payload...)
	if ev.Properties != nil {
		ev.Properties = maps.Clone(ev.Properties)
	}
	return buffered{Ev: ev, T: t, Seq: seq}
}

// keyOf evaluates key expressions of one side (ok false: a NULL part).
func keyOf(keys []expr, en *env) (string, bool, error) {
	vals := make([]value, len(keys))
	for i, k := range keys {
		v, err := k(en)
		if err != nil {
			return "", false, fmt.Errorf("join key: %w", err)
		}
		if v.isNull() {
			return "", false, nil
		}
		if v.K == kRaw {
			return "", false, fmt.Errorf("%w: join key is an %s", ErrType, v.K)
		}
		vals[i] = v
	}
	return groupKey(vals), true, nil
}

// sideEnv is the env of one event read as source side.
func sideEnv(side int, ev *Event, doc *fastjson.Value) env {
	var en env
	en.ev[side], en.doc[side] = ev, doc
	return en
}

// streamJoin joins an event with the other side's buffered events within
// the time bound, then buffers it.
func (w *Worker) streamJoin(ev Event, sides int) error {
	doc := w.lastDoc
	var times [2]int64
	var keys [2]string
	var has [2]bool
	add := int64(0)
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
		k, ok, err := keyOf(w.q.joinKeys[side], &en)
		if err != nil {
			return err
		}
		times[side], keys[side], has[side] = t, k, ok
		if ok {
			add += bufferedBytes(buffered{Ev: ev})
		}
	}
	maxT := int64(math.MinInt64)
	for side := 0; side < 2; side++ {
		if sides&(1<<side) != 0 {
			maxT = max(maxT, times[side])
		}
	}
	w.observe(maxT) // drops what the event could not match anyway
	if err := w.limit(add, 0); err != nil {
		return err
	}
	var firstErr error
	for side := 0; side < 2; side++ {
		if sides&(1<<side) == 0 {
			continue
		}
		t := times[side]
		if !has[side] {
			continue
		}
		other := 1 - side
		for _, b := range w.st.join[other][keys[side]] {
			ta, tb := t, b.T
			if side == 1 {
				ta, tb = b.T, t
			}
			if tb < ta-w.q.lower || tb > ta+w.q.upper {
				continue
			}
			bdoc, err := w.parse(2, b.Ev.Payload)
			if err != nil {
				continue // buffered events were parsed once already
			}
			var en env
			en.ev[side], en.doc[side] = &ev, doc
			bev := b.Ev
			en.ev[other], en.doc[other] = &bev, bdoc
			en.now = max(ta, tb)
			if err := w.emit(&en); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		w.st.seq++
		b := keep(ev, t, w.st.seq)
		w.st.join[side][keys[side]] = append(w.st.join[side][keys[side]], b)
		w.st.bytes += bufferedBytes(b)
		w.st.nextEvict = min(w.st.nextEvict, w.evictAt(side, t))
	}
	return firstErr
}

// evictAt is the watermark at which a buffered event of side can match
// nothing more.
func (w *Worker) evictAt(side int, t int64) int64 {
	if side == 0 {
		return t + w.q.upper + w.q.lateness
	}
	return t + w.q.lower + w.q.lateness
}

// evictJoin drops buffered events no future event can match.
func (w *Worker) evictJoin() {
	st := w.st
	if st.wm <= st.nextEvict {
		return
	}
	next := int64(math.MaxInt64)
	for side := 0; side < 2; side++ {
		for k, list := range st.join[side] {
			kept := list[:0]
			for _, b := range list {
				if w.evictAt(side, b.T) < st.wm {
					st.bytes -= bufferedBytes(b)
					continue
				}
				next = min(next, w.evictAt(side, b.T))
				kept = append(kept, b)
			}
			if len(kept) == 0 {
				delete(st.join[side], k)
			} else {
				st.join[side][k] = kept
			}
		}
	}
	st.nextEvict = next
}

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
	w.observe(maxT) // expires the starts the event comes too late for
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
