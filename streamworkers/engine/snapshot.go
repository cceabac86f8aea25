package engine

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"
)

// The snapshot format: "SWE" + version byte, the query's FNV-1a hash, the
// clocks, then groups, join buffers and pattern starts in key order (so
// equal states encode to equal bytes). Integers are varints, floats 8
// bytes little-endian, strings length-prefixed.
const (
	snapshotMagic   = "SWE"
	snapshotVersion = 4
)

func queryHash(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	return h.Sum64()
}

// Snapshot returns everything needed to continue exactly where the worker
// is: NewWorker(snapshot) then the same calls give the same rows.
func (w *Worker) Snapshot() ([]byte, error) {
	st := w.st
	e := encoder{b: make([]byte, 0, 64+st.bytes/2)}
	e.b = append(e.b, snapshotMagic...)
	e.b = append(e.b, snapshotVersion)
	e.b = binary.LittleEndian.AppendUint64(e.b, queryHash(w.q.text))
	for i := range st.maxTime {
		e.int(st.maxTime[i])
		e.bool(st.hasTime[i])
	}
	e.int(st.wm)
	e.bool(st.hasWM)
	e.int(st.proc)
	e.uint(st.seq)

	if st.sorted == nil {
		st.sorted = make([]*group, 0, len(st.groups))
		for _, g := range st.groups {
			st.sorted = append(st.sorted, g)
		}
		sort.Slice(st.sorted, func(i, j int) bool { return st.sorted[i].key < st.sorted[j].key })
	}
	e.uint(uint64(len(st.sorted)))
	for _, g := range st.sorted {
		if !g.clean {
			ge := encoder{b: g.enc[:0]}
			ge.group(g)
			g.enc, g.clean = ge.b, true
		}
		e.b = append(e.b, g.enc...)
	}
	e.lists(st.join[0])
	e.lists(st.join[1])
	e.lists(st.pending)
	e.uint(uint64(len(st.held)))
	for _, b := range st.held {
		e.buffered(b)
	}
	return e.b, nil
}

type encoder struct{ b []byte }

func (e *encoder) group(g *group) {
	e.values(g.vals)
	e.uint(uint64(len(g.wins)))
	for _, wn := range g.wins {
		e.int(wn.Start)
		e.int(wn.End)
		e.bool(wn.Fired)
		e.uint(uint64(wn.N))
		e.uint(uint64(len(wn.Aggs)))
		for _, a := range wn.Aggs {
			e.int(a.N)
			e.float(a.Sum)
			e.value(a.V)
		}
		e.uint(uint64(len(wn.Ring)))
		for _, r := range wn.Ring {
			e.values(r)
		}
	}
}

func (e *encoder) uint(u uint64) { e.b = binary.AppendUvarint(e.b, u) }
func (e *encoder) int(i int64)   { e.b = binary.AppendVarint(e.b, i) }
func (e *encoder) float(f float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f))
}
func (e *encoder) str(s string) { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) value(v value) {
	e.b = append(e.b, byte(v.K))
	switch v.K {
	case kBool:
		e.bool(v.B)
	case kNum:
		e.float(v.N)
	case kStr, kRaw:
		e.str(v.S)
	}
}

func (e *encoder) values(vs []value) {
	e.uint(uint64(len(vs)))
	for _, v := range vs {
		e.value(v)
	}
}

func (e *encoder) lists(m map[string][]buffered) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.uint(uint64(len(m[k])))
		for _, b := range m[k] {
			e.buffered(b)
		}
	}
}

func (e *encoder) buffered(b buffered) {
	e.str(b.Ev.Stream)
	e.uint(b.Ev.Position)
	e.str(b.Ev.Key)
	e.str(string(b.Ev.Payload))
	props := make([]string, 0, len(b.Ev.Properties))
	for p := range b.Ev.Properties {
		props = append(props, p)
	}
	sort.Strings(props)
	e.uint(uint64(len(props)))
	for _, p := range props {
		e.str(p)
		e.str(b.Ev.Properties[p])
	}
	e.int(b.Ev.Time.UnixNano())
	e.int(b.T)
	e.uint(b.Seq)
}

// decoder reads a snapshot; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: snapshot truncated or corrupt (%s)", ErrState, what)
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	u, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return u
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	i, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return i
}

// count reads a count of items of at least one byte each.
func (d *decoder) count() int {
	u := d.uint()
	if u > uint64(len(d.b)) {
		d.fail("count")
		return 0
	}
	return int(u)
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail("float")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail("float")
		return 0
	}
	return f
}

func (d *decoder) str() string {
	u := d.uint()
	if d.err != nil || u > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:u])
	d.b = d.b[u:]
	return s
}

func (d *decoder) bool() bool {
	if d.err != nil || len(d.b) < 1 || d.b[0] > 1 {
		d.fail("bool")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *decoder) value() value {
	if d.err != nil || len(d.b) < 1 {
		d.fail("value")
		return null
	}
	k := kind(d.b[0])
	d.b = d.b[1:]
	switch k {
	case kNull:
		return null
	case kBool:
		return boolean(d.bool())
	case kNum:
		return value{K: kNum, N: d.float()}
	case kStr, kRaw:
		return value{K: k, S: d.str()}
	}
	d.fail("value kind")
	return null
}

func (d *decoder) values(want int) []value {
	n := d.count()
	if n != want {
		d.fail("value count")
		return nil
	}
	vs := make([]value, n)
	for i := range vs {
		vs[i] = d.value()
	}
	return vs
}

func (d *decoder) lists(perKey int) map[string][]buffered {
	m := map[string][]buffered{}
	n := d.count()
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		if i > 0 && k <= prev {
			d.fail("key order")
		}
		prev = k
		ne := d.count()
		if ne == 0 || ne > perKey {
			d.fail("list length")
		}
		list := make([]buffered, 0, ne)
		for j := 0; j < ne && d.err == nil; j++ {
			list = append(list, d.buffered())
		}
		m[k] = list
	}
	return m
}

func (d *decoder) buffered() buffered {
	var b buffered
	b.Ev.Stream = d.str()
	b.Ev.Position = d.uint()
	b.Ev.Key = d.str()
	b.Ev.Payload = []byte(d.str())
	if np := d.count(); np > 0 {
		b.Ev.Properties = make(map[string]string, np)
		for p := 0; p < np && d.err == nil; p++ {
			pk := d.str()
			b.Ev.Properties[pk] = d.str()
		}
	}
	b.Ev.Time = time.Unix(0, d.int()).UTC()
	b.T = d.int()
	b.Seq = d.uint()
	return b
}

// decodeState reads a snapshot of this plan's query, checking its shape,
// and recomputes what is derived (sizes, counts, next deadlines).
func decodeState(q *query, b []byte) (*state, error) {
	if len(b) < len(snapshotMagic)+1+8 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a stream worker snapshot", ErrState)
	}
	if v := b[len(snapshotMagic)]; v != snapshotVersion {
		return nil, fmt.Errorf("%w: snapshot version %d, want %d", ErrState, v, snapshotVersion)
	}
	b = b[len(snapshotMagic)+1:]
	if binary.LittleEndian.Uint64(b) != queryHash(q.text) {
		return nil, fmt.Errorf("%w: the snapshot is of another query", ErrState)
	}
	d := &decoder{b: b[8:]}
	st := newState(q)
	for i := range st.maxTime {
		st.maxTime[i] = d.int()
		st.hasTime[i] = d.bool()
	}
	st.wm = d.int()
	st.hasWM = d.bool()
	st.proc = d.int()
	st.seq = d.uint()

	next := int64(math.MaxInt64)
	ng := d.count()
	prev := ""
	for i := 0; i < ng && d.err == nil; i++ {
		vals := d.values(len(q.groupExprs))
		g := &group{key: groupKey(vals), vals: vals}
		if i > 0 && g.key <= prev {
			d.fail("group order")
		}
		prev = g.key
		nw := d.count()
		if nw == 0 || (nw != 1 && !q.timeKnown()) || (nw != 1 && q.win.kind == winNone) {
			d.fail("window count")
		}
		for j := 0; j < nw && d.err == nil; j++ {
			wn := &win{Start: d.int(), End: d.int(), Fired: d.bool()}
			if n := d.uint(); n > math.MaxInt32 || (q.win.kind == winTumbleCount && n >= uint64(q.win.count)) {
				d.fail("event count")
			} else {
				wn.N = int(n)
			}
			if na := d.count(); na != len(q.aggs) {
				d.fail("aggregate count")
			}
			wn.Aggs = make([]aggState, len(q.aggs))
			for a := range wn.Aggs {
				wn.Aggs[a] = aggState{N: d.int(), Sum: d.float(), V: d.value()}
			}
			nr := d.count()
			if nr > q.win.count {
				d.fail("ring length")
			}
			for r := 0; r < nr && d.err == nil; r++ {
				wn.Ring = append(wn.Ring, d.values(len(q.aggs)))
			}
			if j > 0 && g.wins[j-1].Start >= wn.Start {
				d.fail("window order")
			}
			g.wins = append(g.wins, wn)
			st.windows++
			st.bytes += winBytes(wn)
			if wn.Fired {
				next = min(next, wn.End+q.lateness)
			} else {
				next = min(next, wn.End)
			}
		}
		st.groups[g.key] = g
		st.bytes += groupBytes(g)
	}
	st.nextFire = next
	st.join[0] = d.lists(math.MaxInt)
	st.join[1] = d.lists(math.MaxInt)
	st.pending = d.lists(maxPendingPerKey)
	nh := d.count()
	for i := 0; i < nh && d.err == nil; i++ {
		b := d.buffered()
		if i > 0 && !heldBefore(st.held[i-1], b) {
			d.fail("held order")
		}
		st.held = append(st.held, b)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	for side := 0; side < 2; side++ {
		for _, l := range st.join[side] {
			for _, b := range l {
				st.bytes += bufferedBytes(b)
				e := b.T + q.upper + q.lateness
				if side == 1 {
					e = b.T + q.lower + q.lateness
				}
				st.nextEvict = min(st.nextEvict, e)
			}
		}
	}
	for _, l := range st.pending {
		for _, b := range l {
			st.bytes += bufferedBytes(b)
			st.nextEvict = min(st.nextEvict, b.T+q.within)
		}
	}
	for _, b := range st.held {
		st.bytes += bufferedBytes(b)
	}
	return st, nil
}
