package engine

import (
	"fmt"
	"maps"
	"math"

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
	w.observe(ev.Stream, maxT) // drops what the event could not match anyway
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
