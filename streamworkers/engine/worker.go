package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// Worker runs a plan over events. It is not safe for concurrent use; it
// starts no goroutines and reads no clock.
type Worker struct {
	p   *Plan
	q   *query
	lk  Lookup
	lim Limits
	st  *state
	// parsers: one per source, one for buffered events of a join or pattern.
	ps [4]fastjson.Parser
	// out collects the rows of one call.
	out []Row
	buf []byte
	// errs collects errors of rows computed while windows fire or patterns
	// expire in one call; advErrs keeps those of the last Advance.
	errs    []error
	advErrs []EventError
	// relErrs: errors of held pattern events released in this call.
	relErrs []EventError
	pub     int64 // the current event's publish time (Unix ms)
	lastDoc *fastjson.Value
	// scratch for aggregate: group values, aggregate arguments, group key.
	vals, args []value
	keyBuf     []byte
	// the env of a one-source row (kept here so it is not allocated per
	// event; nothing holds it after the call).
	evScratch Event
	enScratch env
}

// state is everything a snapshot holds.
type state struct {
	maxTime []int64 // per input (Plan.Inputs order): the highest event time seen
	hasTime []bool
	wm      int64 // watermark: no event older than wm - lateness is accepted
	hasWM   bool
	proc    int64 // processing time: the latest Advance

	groups   map[string]*group
	sorted   []*group // the groups in key order; nil when groups come or go
	windows  int      // open (group, window) pairs
	bytes    int64    // estimated size
	nextFire int64    // lowest end of an unfired window, or of a fired one's expiry

	join    [2]map[string][]buffered // stream join: buffered events per key
	pending map[string][]buffered    // pattern: starts waiting per key
	held    []buffered               // pattern: events the watermark has not reached, by (time, arrival)
	seq     uint64                   // insertion order of buffered events
	// nextEvict: the lowest watermark at which a buffered event or a
	// pattern start expires.
	nextEvict int64
}

// buffered is an event kept by a join or a pattern.
type buffered struct {
	Ev  Event
	T   int64  // event time
	Seq uint64 // arrival order
}

func newState(q *query) *state {
	return &state{
		maxTime:   make([]int64, len(q.inputs)),
		hasTime:   make([]bool, len(q.inputs)),
		groups:    map[string]*group{},
		nextFire:  math.MaxInt64,
		nextEvict: math.MaxInt64,
		join:      [2]map[string][]buffered{{}, {}},
		pending:   map[string][]buffered{},
	}
}

// NewWorker starts a worker from a snapshot (nil: fresh state). lk may be
// nil unless the query joins a collection.
func (p *Plan) NewWorker(snapshot []byte, lk Lookup, lim Limits) (*Worker, error) {
	if p == nil || p.q == nil {
		return nil, errors.New("streamworkers: NewWorker of a plan Compile did not return")
	}
	if p.q.mode == modeLookup && lk == nil {
		return nil, fmt.Errorf("streamworkers: the query joins collection %s: a Lookup is required", p.q.sources[1].name)
	}
	w := &Worker{p: p, q: p.q, lk: lk, lim: lim.withDefaults(), st: newState(p.q)}
	if snapshot != nil {
		st, err := decodeState(p.q, snapshot)
		if err != nil {
			return nil, err
		}
		w.st = st
	}
	return w, nil
}

// StateBytes is the estimated size of the worker's state.
func (w *Worker) StateBytes() int64 { return w.st.bytes }

// Windows is the number of open windows (one per group and window).
func (w *Worker) Windows() int { return w.st.windows }

// Watermark is the current event-time watermark (ok false before the first
// event with an event time).
func (w *Worker) Watermark() (t time.Time, ok bool) {
	return time.UnixMilli(w.st.wm).UTC(), w.st.hasWM
}

// Process feeds one event and returns the rows it produces and the errors
// (at most one, for this event).
func (w *Worker) Process(ev Event) ([]Row, []EventError) {
	w.out, w.errs, w.relErrs = w.out[:0], w.errs[:0], nil
	w.pub = ev.Time.UnixMilli()
	err := w.process(ev)
	var rows []Row
	if len(w.out) > 0 {
		rows = append([]Row(nil), w.out...)
	}
	var errs []EventError
	if err != nil {
		errs = append(errs, EventError{Event: ev, Err: err})
	}
	errs = append(errs, w.relErrs...)
	for _, e := range w.errs {
		errs = append(errs, EventError{Event: ev, Err: e})
	}
	return rows, errs
}

func (w *Worker) process(ev Event) error {
	sides := w.sidesOf(ev.Stream)
	if sides == 0 {
		return fmt.Errorf("streamworkers: stream %s is not an input of this worker", ev.Stream)
	}
	doc, err := w.parse(0, ev.Payload)
	if err != nil {
		return err
	}
	w.lastDoc = doc
	switch w.q.mode {
	case modeSingle:
		return w.single(ev, doc)
	case modeLookup:
		return w.lookup(ev, doc)
	case modeJoin:
		return w.streamJoin(ev, sides)
	}
	return w.pattern(ev, sides)
}

// sidesOf says which sources read the stream (bit i: source i).
func (w *Worker) sidesOf(stream string) int {
	s := 0
	for i, src := range w.q.sources {
		if !src.collection && src.name == stream {
			s |= 1 << i
		}
	}
	return s
}

// parse parses a payload with parser i; it must be a JSON object.
func (w *Worker) parse(i int, payload []byte) (*fastjson.Value, error) {
	d, err := w.ps[i].ParseBytes(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if d.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("%w (a JSON %s)", ErrPayload, d.Type())
	}
	return d, nil
}

// eventTime is the event time of an event read as source i.
func (w *Worker) eventTime(i int, en *env) (int64, error) {
	if w.q.timeOf[i] == nil {
		return en.ev[i].Time.UnixMilli(), nil
	}
	v, err := w.q.timeOf[i](en)
	if err != nil {
		return 0, fmt.Errorf("event time: %w", err)
	}
	t, ok, err := millis(v, "event time")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: the event has no event time field", ErrType)
	}
	return t, nil
}

// usesEventTime: windows on event time, joins and patterns.
func (q *query) usesEventTime() bool {
	switch q.mode {
	case modeJoin, modePattern:
		return true
	}
	switch q.win.kind {
	case winTumble, winHop, winSession:
		return !q.win.proc
	}
	return false
}

// observe moves the watermark with an accepted event's time.
// observe moves the watermark with an accepted event's time: it is the
// lowest over the inputs of the highest event time seen on each, less the
// watermark delay - so an input read behind another (a backlog) does not
// find its events late. It does not move until every input has sent an
// event (with @idle_timeout, Advance moves it on an idle input).
func (w *Worker) observe(stream string, t int64) {
	st := w.st
	low, all := int64(math.MaxInt64), true
	for i, in := range w.q.inputs {
		if in == stream && (!st.hasTime[i] || t > st.maxTime[i]) {
			st.maxTime[i], st.hasTime[i] = t, true
		}
		if !st.hasTime[i] {
			all = false
		}
		low = min(low, st.maxTime[i])
	}
	if all {
		w.raiseWatermark(low - w.q.delay)
	}
}

func (w *Worker) raiseWatermark(wm int64) {
	st := w.st
	if !st.hasWM || wm > st.wm {
		if w.q.mode == modePattern {
			w.release(wm) // under the old watermark, in event-time order
		}
		st.wm, st.hasWM = wm, true
		w.onWatermark()
	}
}

// late says whether event time t is behind the watermark by more than the
// allowed lateness.
func (w *Worker) late(t int64) bool {
	return w.st.hasWM && t < w.st.wm-w.q.lateness
}

func (w *Worker) single(ev Event, doc *fastjson.Value) error {
	w.evScratch, w.enScratch = ev, env{}
	en := &w.enScratch
	en.ev[0], en.doc[0] = &w.evScratch, doc
	en.now = ev.Time.UnixMilli()
	if w.q.usesEventTime() || w.q.timeOf[0] != nil {
		t, err := w.eventTime(0, en)
		if err != nil {
			return err
		}
		en.now = t
	}
	// The watermark moves before the row is windowed: the row's own
	// windows end after it, and a row refused for a limit or a type error
	// still moves time on (windows fire and free their state).
	if w.q.usesEventTime() {
		w.observe(ev.Stream, en.now)
	}
	return w.emit(en)
}

func (w *Worker) lookup(ev Event, doc *fastjson.Value) error {
	w.evScratch, w.enScratch = ev, env{}
	en := &w.enScratch
	en.ev[0], en.doc[0] = &w.evScratch, doc
	en.now = ev.Time.UnixMilli()
	if w.q.usesEventTime() || w.q.timeOf[0] != nil {
		t, err := w.eventTime(0, en)
		if err != nil {
			return err
		}
		en.now = t
	}
	if w.q.usesEventTime() {
		w.observe(ev.Stream, en.now)
	}
	kv, err := w.q.lookupKey(en)
	if err != nil {
		return fmt.Errorf("lookup key: %w", err)
	}
	if !kv.isNull() {
		if kv.K == kRaw {
			return fmt.Errorf("%w: lookup key is an %s", ErrType, kv.K)
		}
		coll := w.q.sources[1].name
		raw, found, err := w.lk.Get(coll, kv.text())
		if err != nil {
			return fmt.Errorf("%w: %s/%s: %v", ErrLookup, coll, kv.text(), err)
		}
		if found {
			d, err := w.ps[1].ParseBytes(raw)
			if err != nil || d.Type() != fastjson.TypeObject {
				return fmt.Errorf("%w: document %s/%s is not a JSON object", ErrLookup, coll, kv.text())
			}
			en.doc[1] = d
		}
	}
	if en.doc[1] == nil && !w.q.leftJoin {
		return nil
	}
	return w.emit(en)
}

// emit runs WHERE and then projects (or aggregates) one row.
func (w *Worker) emit(en *env) error {
	if w.q.where != nil {
		v, err := w.q.where(en)
		if err != nil {
			return fmt.Errorf("WHERE: %w", err)
		}
		ok, err := v.truth()
		if err != nil {
			return fmt.Errorf("WHERE: %w", err)
		}
		if !ok {
			return nil
		}
	}
	if w.q.agg {
		return w.aggregate(en)
	}
	return w.project(en)
}

// project adds the row of a non-aggregate query.
func (w *Worker) project(en *env) error {
	var key string
	if en.ev[0] != nil {
		key = en.ev[0].Key
	}
	if w.q.star {
		w.out = append(w.out, Row{Key: key, Value: en.doc[0].MarshalTo(nil)})
		return nil
	}
	val, k, err := w.object(en)
	if err != nil {
		return err
	}
	if w.q.keyItem >= 0 {
		key = k
	}
	w.out = append(w.out, Row{Key: key, Value: val})
	return nil
}

// object evaluates the SELECT list into a JSON object; the field named
// _key is the row's key and is left out of the object.
func (w *Worker) object(en *env) ([]byte, string, error) {
	b := w.buf[:0]
	b = append(b, '{')
	var key string
	first := true
	for i, it := range w.q.items {
		v, err := it.e(en)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", it.name, err)
		}
		if i == w.q.keyItem {
			if v.isNull() {
				return nil, "", fmt.Errorf("%w: _key is NULL", ErrType)
			}
			key = v.text()
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendQuoted(b, it.name)
		b = append(b, ':')
		b = v.appendJSON(b)
	}
	b = append(b, '}')
	w.buf = b
	return append([]byte(nil), b...), key, nil
}

// Advance moves processing time to now: processing-time windows whose end
// has passed fire; with @idle_timeout the watermark rises to now minus the
// timeout, closing event-time windows and expiring patterns on an idle
// input.
func (w *Worker) Advance(now time.Time) []Row {
	w.out, w.errs, w.advErrs, w.relErrs = w.out[:0], w.errs[:0], nil, nil
	ms := now.UnixMilli()
	st := w.st
	if ms > st.proc {
		st.proc = ms
		if w.q.win.proc {
			w.fire()
		}
	}
	if w.q.idle > 0 && w.q.usesEventTime() {
		w.raiseWatermark(ms - w.q.idle)
	}
	w.advErrs = append(w.advErrs, w.relErrs...)
	for _, e := range w.errs {
		w.advErrs = append(w.advErrs, EventError{Event: Event{Time: now}, Err: e})
	}
	if len(w.out) == 0 {
		return nil
	}
	return append([]Row(nil), w.out...)
}

// Flush ends time, for a dry run over a finite input: every open time
// window fires (processing-time ones too) and waiting pattern starts time
// out, as if the watermark had reached the end of time. Count windows'
// partial groups are not emitted. Afterwards every event with an event time
// is late. Errors of the rows are returned by AdvanceErrors.
func (w *Worker) Flush() []Row {
	w.out, w.errs, w.advErrs, w.relErrs = w.out[:0], w.errs[:0], nil, nil
	const end = math.MaxInt64 / 4
	if w.q.win.proc {
		w.st.proc = end
		w.fire()
	}
	if w.q.usesEventTime() {
		w.raiseWatermark(end)
	}
	w.advErrs = append(w.advErrs, w.relErrs...)
	for _, e := range w.errs {
		w.advErrs = append(w.advErrs, EventError{Err: e})
	}
	if len(w.out) == 0 {
		return nil
	}
	return append([]Row(nil), w.out...)
}

// AdvanceErrors returns the errors of the last Advance (or Flush): rows of windows
// that fired or patterns that expired whose HAVING or SELECT list failed to
// evaluate (their Event holds only the time given to Advance).
func (w *Worker) AdvanceErrors() []EventError { return w.advErrs }

// onWatermark fires windows, drops old join buffers and expires patterns.
func (w *Worker) onWatermark() {
	switch w.q.mode {
	case modeJoin:
		w.evictJoin()
	case modePattern:
		w.expirePatterns()
	}
	if w.q.agg && !w.q.win.proc {
		w.fire()
	}
}

// limit checks that adding bytes and windows keeps within the limits.
func (w *Worker) limit(bytes int64, windows int) error {
	if w.st.bytes+bytes > w.lim.MaxStateBytes {
		return fmt.Errorf("%w: state of %d bytes would exceed %d", ErrLimit, w.st.bytes+bytes, w.lim.MaxStateBytes)
	}
	if w.st.windows+windows > w.lim.MaxWindows {
		return fmt.Errorf("%w: %d open windows would exceed %d", ErrLimit, w.st.windows+windows, w.lim.MaxWindows)
	}
	return nil
}

func valueBytes(v value) int64 { return 24 + int64(len(v.S)) }

func bufferedBytes(b buffered) int64 {
	n := int64(96 + len(b.Ev.Stream) + len(b.Ev.Key) + len(b.Ev.Payload))
	for k, v := range b.Ev.Properties {
		n += int64(32 + len(k) + len(v))
	}
	return n
}

func ms2s(ms int64) string { return strconv.FormatInt(ms, 10) }
