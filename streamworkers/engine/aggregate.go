package engine

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// group is one GROUP BY group and its open windows.
type group struct {
	key  string
	vals []value
	wins []*win // by start
	// enc caches the group's snapshot encoding while clean is set (any
	// change clears clean), so a snapshot re-encodes only changed groups.
	enc   []byte
	clean bool
}

// win is one window of a group.
type win struct {
	Start int64
	End   int64
	Aggs  []aggState
	Fired bool
	N     int       // events, TUMBLE_COUNT
	Ring  [][]value // last n arguments, SLIDE_COUNT
}

// aggState is one aggregate's running state.
type aggState struct {
	N   int64 // values counted (non-NULL; rows for COUNT(*))
	Sum float64
	V   value // MIN / MAX
}

const (
	groupOverhead = 64
	winOverhead   = 48
	aggBytes      = 40
)

func groupBytes(g *group) int64 {
	n := int64(groupOverhead + len(g.key))
	for _, v := range g.vals {
		n += valueBytes(v)
	}
	return n
}

func winBytes(w *win) int64 {
	n := int64(winOverhead + aggBytes*len(w.Aggs))
	for _, r := range w.Ring {
		n += tupleBytes(r)
	}
	return n
}

func tupleBytes(t []value) int64 {
	n := int64(0)
	for _, v := range t {
		n += valueBytes(v)
	}
	return n
}

// groupKey encodes group values without ambiguity.
func groupKey(vals []value) string { return string(appendGroupKey(nil, vals)) }

func appendGroupKey(b []byte, vals []value) []byte {
	for _, v := range vals {
		b = append(b, byte('0'+v.K))
		switch v.K {
		case kStr, kRaw:
			b = strconv.AppendInt(b, int64(len(v.S)), 10)
			b = append(b, ':')
			b = append(b, v.S...)
		default:
			s := v.text()
			b = strconv.AppendInt(b, int64(len(s)), 10)
			b = append(b, ':')
			b = append(b, s...)
		}
	}
	return b
}

// aggregate adds a row to its group's windows.
func (w *Worker) aggregate(en *env) error {
	q := w.q
	vals := w.vals[:0]
	for _, g := range q.groupExprs {
		v, err := g(en)
		if err != nil {
			return fmt.Errorf("GROUP BY: %w", err)
		}
		vals = append(vals, v)
	}
	w.vals = vals
	args := w.args[:0]
	for _, a := range q.aggs {
		if a.arg == nil {
			args = append(args, null)
			continue
		}
		v, err := a.arg(en)
		if err != nil {
			return fmt.Errorf("aggregate: %w", err)
		}
		switch {
		case v.isNull():
		case (a.fn == aggSum || a.fn == aggAvg) && v.K != kNum:
			return fmt.Errorf("%w: SUM and AVG want numbers, got a %s", ErrType, v.K)
		case (a.fn == aggMin || a.fn == aggMax) && v.K == kRaw:
			return fmt.Errorf("%w: MIN and MAX want numbers, strings or booleans, got an %s", ErrType, v.K)
		}
		args = append(args, v)
	}
	w.args = args
	w.keyBuf = appendGroupKey(w.keyBuf[:0], vals)
	g := w.st.groups[string(w.keyBuf)]
	newGroup := g == nil
	if newGroup {
		g = &group{key: string(w.keyBuf), vals: append([]value(nil), vals...)}
	}
	g.clean = false
	switch q.win.kind {
	case winNone, winTumbleCount, winSlideCount:
		return w.countWindow(g, newGroup, args)
	case winSession:
		return w.session(g, newGroup, args, en)
	}
	return w.fixedWindows(g, newGroup, args, en)
}

// addGroup stores a new group once it has a window.
func (w *Worker) addGroup(g *group) {
	w.st.groups[g.key] = g
	w.st.sorted = nil
	w.st.bytes += groupBytes(g)
}

// checkArgs says whether args can be added to a window (MIN/MAX compare
// values of one kind).
func (w *Worker) checkArgs(wn *win, args []value) error {
	for i, a := range w.q.aggs {
		if (a.fn == aggMin || a.fn == aggMax) && !args[i].isNull() && !wn.Aggs[i].V.isNull() {
			if _, err := compare(args[i], wn.Aggs[i].V); err != nil {
				return fmt.Errorf("MIN/MAX: %w", err)
			}
		}
		if a.fn == aggSum || a.fn == aggAvg {
			if s := wn.Aggs[i].Sum + args[i].N; math.IsInf(s, 0) {
				return fmt.Errorf("%w: SUM overflows", ErrType)
			}
		}
	}
	return nil
}

// apply adds args to aggregate states (checked by checkArgs).
func (w *Worker) apply(states []aggState, args []value) {
	for i, a := range w.q.aggs {
		st, v := &states[i], args[i]
		if a.arg == nil {
			st.N++
			continue
		}
		if v.isNull() {
			continue
		}
		st.N++
		switch a.fn {
		case aggSum, aggAvg:
			st.Sum += v.N
		case aggMin:
			if c, _ := compare(v, st.V); st.V.isNull() || c < 0 {
				st.V = v
			}
		case aggMax:
			if c, _ := compare(v, st.V); st.V.isNull() || c > 0 {
				st.V = v
			}
		}
	}
}

// mergeAggs merges src into dst (session windows).
func (w *Worker) mergeAggs(dst, src []aggState) {
	for i, a := range w.q.aggs {
		d, s := &dst[i], src[i]
		d.N += s.N
		d.Sum += s.Sum
		if s.V.isNull() {
			continue
		}
		if d.V.isNull() {
			d.V = s.V
			continue
		}
		c, err := compare(s.V, d.V)
		if err != nil {
			continue // kinds differ: keep the older
		}
		if (a.fn == aggMin && c < 0) || (a.fn == aggMax && c > 0) {
			d.V = s.V
		}
	}
}

// finish turns aggregate states into values.
func (w *Worker) finish(states []aggState) []value {
	out := make([]value, len(states))
	for i, a := range w.q.aggs {
		st := states[i]
		switch a.fn {
		case aggCount:
			out[i] = num(float64(st.N))
		case aggSum:
			if st.N > 0 {
				out[i] = num(st.Sum)
			}
		case aggAvg:
			if st.N > 0 {
				out[i] = num(st.Sum / float64(st.N))
			}
		default:
			out[i] = st.V
		}
	}
	return out
}

// countWindow: continuous aggregation (a row per event), TUMBLE_COUNT and
// SLIDE_COUNT.
func (w *Worker) countWindow(g *group, newGroup bool, args []value) error {
	var wn *win
	if len(g.wins) == 1 {
		wn = g.wins[0]
	}
	add := int64(0)
	if newGroup {
		add += groupBytes(g)
	}
	if wn == nil {
		wn = &win{Aggs: make([]aggState, len(w.q.aggs))}
		add += winBytes(wn)
	}
	slide := w.q.win.kind == winSlideCount
	if slide {
		add += tupleBytes(args)
		if len(wn.Ring) == w.q.win.count {
			add -= tupleBytes(wn.Ring[0])
		}
	}
	nw := 0
	if len(g.wins) == 0 {
		nw = 1
	}
	if err := w.limit(add, nw); err != nil {
		return err
	}
	if !slide {
		if err := w.checkArgs(wn, args); err != nil {
			return err
		}
	} else {
		for i, a := range w.q.aggs {
			if (a.fn == aggMin || a.fn == aggMax) && !args[i].isNull() {
				for _, r := range wn.Ring {
					if !r[i].isNull() {
						if _, err := compare(args[i], r[i]); err != nil {
							return fmt.Errorf("MIN/MAX: %w", err)
						}
					}
				}
			}
		}
	}
	if newGroup {
		w.addGroup(g)
	}
	if len(g.wins) == 0 {
		g.wins = []*win{wn}
		w.st.windows++
		w.st.bytes += winBytes(wn)
	}
	if slide {
		w.st.bytes -= winBytes(wn)
		if len(wn.Ring) == w.q.win.count {
			wn.Ring = wn.Ring[1:]
		}
		wn.Ring = append(wn.Ring, append([]value(nil), args...))
		wn.Aggs = make([]aggState, len(w.q.aggs))
		for _, r := range wn.Ring {
			w.apply(wn.Aggs, r)
		}
		w.st.bytes += winBytes(wn)
		w.row(g, wn)
		return nil
	}
	w.apply(wn.Aggs, args)
	wn.N++
	switch w.q.win.kind {
	case winNone:
		w.row(g, wn)
	case winTumbleCount:
		if wn.N == w.q.win.count {
			w.row(g, wn)
			wn.N = 0
			wn.Aggs = make([]aggState, len(w.q.aggs))
		}
	}
	return nil
}

// windowTime is the time a row is windowed by.
func (w *Worker) windowTime(en *env) (int64, error) {
	if w.q.win.proc {
		return max(w.st.proc, w.pub), nil
	}
	v, err := w.q.win.time(en)
	if err != nil {
		return 0, fmt.Errorf("window time: %w", err)
	}
	t, ok, err := millis(v, "window time")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: the window's time field is missing", ErrType)
	}
	return t, nil
}

// closedAt says whether a window ending at end takes no more rows.
func (w *Worker) closedAt(end int64) bool {
	if w.q.win.proc {
		return end <= w.st.proc
	}
	return w.st.hasWM && end+w.q.lateness <= w.st.wm
}

// passed says whether the event-time watermark has reached end (a window
// ending there fires).
func (w *Worker) passed(end int64) bool {
	return !w.q.win.proc && w.st.hasWM && end <= w.st.wm
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// fixedWindows: TUMBLE and HOP.
func (w *Worker) fixedWindows(g *group, newGroup bool, args []value, en *env) error {
	t, err := w.windowTime(en)
	if err != nil {
		return err
	}
	size, step := w.q.win.size, w.q.win.step
	last := floorDiv(t, step) * step
	type slot struct {
		start int64
		wn    *win
	}
	var buf [8]slot
	slots := buf[:0]
	for s := last; s > t-size; s -= step {
		if w.closedAt(s + size) {
			break
		}
		slots = append(slots, slot{start: s})
	}
	if len(slots) == 0 {
		return fmt.Errorf("%w: event time %s is behind the watermark %s by more than the allowed lateness", ErrLate, ms2s(t), ms2s(w.st.wm))
	}
	add, nw := int64(0), 0
	if newGroup {
		add += groupBytes(g)
	}
	for i := range slots {
		slots[i].wn = g.find(slots[i].start)
		if slots[i].wn == nil {
			add += winOverhead + aggBytes*int64(len(w.q.aggs))
			nw++
		} else if err := w.checkArgs(slots[i].wn, args); err != nil {
			return err
		}
	}
	if err := w.limit(add, nw); err != nil {
		return err
	}
	if newGroup {
		w.addGroup(g)
	}
	// Oldest window first, so late re-emissions come out in window order.
	for i := len(slots) - 1; i >= 0; i-- {
		wn := slots[i].wn
		if wn == nil {
			wn = &win{Start: slots[i].start, End: slots[i].start + size, Aggs: make([]aggState, len(w.q.aggs))}
			g.insert(wn)
			w.st.windows++
			w.st.bytes += winBytes(wn)
			w.st.nextFire = min(w.st.nextFire, wn.End)
		}
		w.apply(wn.Aggs, args)
		if wn.Fired {
			w.row(g, wn) // a late row within the allowed lateness: the window's result again
		} else if w.passed(wn.End) {
			wn.Fired = true // a late row opening a window the watermark has passed
			w.row(g, wn)
		}
	}
	return nil
}

func (g *group) find(start int64) *win {
	i := sort.Search(len(g.wins), func(i int) bool { return g.wins[i].Start >= start })
	if i < len(g.wins) && g.wins[i].Start == start {
		return g.wins[i]
	}
	return nil
}

func (g *group) insert(wn *win) {
	i := sort.Search(len(g.wins), func(i int) bool { return g.wins[i].Start >= wn.Start })
	g.wins = append(g.wins, nil)
	copy(g.wins[i+1:], g.wins[i:])
	g.wins[i] = wn
}

// session: SESSION windows merge when an event falls within gap of one.
func (w *Worker) session(g *group, newGroup bool, args []value, en *env) error {
	t, err := w.windowTime(en)
	if err != nil {
		return err
	}
	gap := w.q.win.gap
	start, end := t, t+gap
	var overlap []*win
	for _, wn := range g.wins {
		if wn.Start <= end && start <= wn.End && !w.closedAt(wn.End) {
			overlap = append(overlap, wn)
		}
	}
	if len(overlap) == 0 && w.closedAt(end) {
		return fmt.Errorf("%w: event time %s is behind the watermark %s by more than the allowed lateness", ErrLate, ms2s(t), ms2s(w.st.wm))
	}
	for _, wn := range overlap {
		if err := w.checkArgs(wn, args); err != nil {
			return err
		}
	}
	add, nw := int64(0), 0
	if newGroup {
		add += groupBytes(g)
	}
	if len(overlap) == 0 {
		add += winOverhead + aggBytes*int64(len(w.q.aggs))
		nw = 1
	}
	if err := w.limit(add, nw); err != nil {
		return err
	}
	if newGroup {
		w.addGroup(g)
	}
	merged := &win{Start: start, End: end, Aggs: make([]aggState, len(w.q.aggs))}
	for _, wn := range overlap {
		merged.Start, merged.End = min(merged.Start, wn.Start), max(merged.End, wn.End)
		w.mergeAggs(merged.Aggs, wn.Aggs)
		g.remove(wn)
		w.st.windows--
		w.st.bytes -= winBytes(wn)
	}
	w.apply(merged.Aggs, args)
	g.insert(merged)
	w.st.windows++
	w.st.bytes += winBytes(merged)
	if w.passed(merged.End) {
		merged.Fired = true // late rows within the allowed lateness: the session's result (again)
		w.row(g, merged)
	}
	w.st.nextFire = min(w.st.nextFire, merged.End)
	return nil
}

func (g *group) remove(wn *win) {
	for i, x := range g.wins {
		if x == wn {
			g.wins = append(g.wins[:i], g.wins[i+1:]...)
			return
		}
	}
}

// fire emits the windows whose end the watermark (or processing time) has
// reached and drops those past the allowed lateness.
func (w *Worker) fire() {
	st := w.st
	if !w.q.agg || !w.q.timeKnown() || w.q.win.kind == winNone {
		return
	}
	now := st.wm
	if w.q.win.proc {
		now = st.proc
	} else if !st.hasWM {
		return
	}
	if now < st.nextFire {
		return
	}
	type fired struct {
		g  *group
		wn *win
	}
	var out []fired
	next := int64(math.MaxInt64)
	for key, g := range st.groups {
		keep := g.wins[:0]
		for _, wn := range g.wins {
			if !wn.Fired && wn.End <= now {
				wn.Fired = true
				g.clean = false
				out = append(out, fired{g, wn})
			}
			if wn.Fired && w.closedAt(wn.End) {
				g.clean = false
				st.windows--
				st.bytes -= winBytes(wn)
				continue
			}
			if wn.Fired {
				next = min(next, wn.End+w.q.lateness)
			} else {
				next = min(next, wn.End)
			}
			keep = append(keep, wn)
		}
		g.wins = keep
		if len(g.wins) == 0 {
			st.bytes -= groupBytes(g)
			delete(st.groups, key)
			st.sorted = nil
		}
	}
	st.nextFire = next
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.wn.End != b.wn.End {
			return a.wn.End < b.wn.End
		}
		if a.wn.Start != b.wn.Start {
			return a.wn.Start < b.wn.Start
		}
		return a.g.key < b.g.key
	})
	for _, f := range out {
		w.row(f.g, f.wn)
	}
}

// row evaluates HAVING and the SELECT list for a group's window and adds
// the row; an evaluation error is kept for the caller.
func (w *Worker) row(g *group, wn *win) {
	en := env{groups: g.vals, aggs: w.finish(wn.Aggs), start: wn.Start, end: wn.End, now: wn.End}
	if w.q.having != nil {
		v, err := w.q.having(&en)
		if err == nil {
			var ok bool
			ok, err = v.truth()
			if err == nil && !ok {
				return
			}
		}
		if err != nil {
			w.fireErr(g, wn, fmt.Errorf("HAVING: %w", err))
			return
		}
	}
	val, key, err := w.object(&en)
	if err != nil {
		w.fireErr(g, wn, err)
		return
	}
	if w.q.keyItem < 0 {
		key = w.rowKey(g, wn)
	}
	w.out = append(w.out, Row{Key: key, Value: val})
}

// rowKey is an aggregate row's default key: the group's values, then the
// window's start, joined with ':' ("all" when there are none).
func (w *Worker) rowKey(g *group, wn *win) string {
	parts := make([]string, 0, len(g.vals)+1)
	for _, v := range g.vals {
		parts = append(parts, v.text())
	}
	switch w.q.win.kind {
	case winTumble, winHop, winSession:
		parts = append(parts, ms2s(wn.Start))
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, ":")
}

func (w *Worker) fireErr(g *group, wn *win, err error) {
	parts := make([]string, len(g.vals))
	for i, v := range g.vals {
		if parts[i] = v.text(); v.isNull() {
			parts[i] = "NULL"
		}
	}
	label := "group (" + strings.Join(parts, ", ") + ")"
	switch w.q.win.kind {
	case winTumble, winHop, winSession:
		label += " window [" + ms2s(wn.Start) + ", " + ms2s(wn.End) + ")"
	}
	w.errs = append(w.errs, fmt.Errorf("%s: %w", label, err))
}
