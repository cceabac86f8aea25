package query

import (
	"fmt"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/causeway/causeway/internal/jsonstr"
)

// DocIter yields the documents of a plan's access path, in its order: each
// a JSON object with _key. Only documents that exist (not deleted or
// expired) are yielded. The bytes may be reused after the next call.
type DocIter interface {
	Next() (doc []byte, ok bool, err error)
}

// Rows pulls result rows of a plan from a DocIter. It is not safe for
// concurrent use.
type Rows struct {
	p             *Plan
	src           DocIter
	maxMemoryRows int
	env           env
	parser        fastjson.Parser

	// streaming state
	skipped, emitted int64

	// materialized state
	ready bool
	out   [][]byte
	pos   int
}

// Run starts reading the plan's rows from src. A sort or aggregation holds
// at most maxMemoryRows rows (or groups) in memory (0: DefaultMaxMemoryRows).
func (p *Plan) Run(src DocIter, maxMemoryRows int) *Rows {
	if maxMemoryRows <= 0 {
		maxMemoryRows = DefaultMaxMemoryRows
	}
	return &Rows{p: p, src: src, maxMemoryRows: maxMemoryRows, env: env{params: p.b.values}}
}

// Next returns the next row (a JSON object), or false when there is none.
func (r *Rows) Next() ([]byte, bool, error) {
	if r.p.streaming() {
		return r.nextStreaming()
	}
	if !r.ready {
		var err error
		if r.p.b.q.aggregate {
			r.out, err = r.aggregate()
		} else {
			r.out, err = r.sortAll()
		}
		if err != nil {
			return nil, false, err
		}
		r.out = window(r.out, r.p.b.offset, r.p.b.limit)
		r.ready = true
	}
	if r.pos >= len(r.out) {
		return nil, false, nil
	}
	row := r.out[r.pos]
	r.out[r.pos] = nil
	r.pos++
	return row, true, nil
}

func window[T any](rows []T, offset, limit int64) []T {
	if offset >= int64(len(rows)) {
		return nil
	}
	rows = rows[offset:]
	if limit >= 0 && limit < int64(len(rows)) {
		rows = rows[:limit]
	}
	return rows
}

// needsDecode reports whether rows need the parsed document.
func (r *Rows) needsDecode() bool {
	q := r.p.b.q
	return q.where != nil || !q.star || len(q.orderBy) > 0 || q.aggregate
}

// match reads the next document passing the filter. The parsed document
// is valid until the next call.
func (r *Rows) match() (doc []byte, root *fastjson.Value, ok bool, err error) {
	for {
		doc, ok, err := r.src.Next()
		if err != nil || !ok {
			return nil, nil, false, err
		}
		if !r.needsDecode() {
			return doc, nil, true, nil
		}
		root, err := r.parser.ParseBytes(doc)
		if err != nil || root.Type() != fastjson.TypeObject {
			return nil, nil, false, fmt.Errorf("%w: %.64s", ErrDocument, doc)
		}
		if w := r.p.b.q.where; w != nil {
			r.env.root = root
			if w.eval(&r.env) != trueT {
				continue
			}
		}
		return doc, root, true, nil
	}
}

func (r *Rows) nextStreaming() ([]byte, bool, error) {
	b := r.p.b
	for {
		if b.limit >= 0 && r.emitted >= b.limit {
			return nil, false, nil
		}
		doc, root, ok, err := r.match()
		if err != nil || !ok {
			return nil, false, err
		}
		if r.skipped < b.offset {
			r.skipped++
			continue
		}
		r.emitted++
		return r.project(doc, root), true, nil
	}
}

// project builds the output row of a plain query.
func (r *Rows) project(doc []byte, root *fastjson.Value) []byte {
	q := r.p.b.q
	if q.star {
		return slices.Clone(doc)
	}
	out := []byte{'{'}
	for i, f := range q.fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = jsonstr.Append(out, f.name)
		out = append(out, ':')
		if v := lookup(root, f.path); v != nil {
			out = v.MarshalTo(out)
		} else {
			out = append(out, "null"...)
		}
	}
	return append(out, '}')
}

// sortRow is a row with its sort keys.
type sortRow struct {
	keys []any
	key  string // _key (ties)
	row  []byte
}

func (r *Rows) sortAll() ([][]byte, error) {
	q, b := r.p.b.q, r.p.b
	// With a LIMIT only the best offset+limit rows matter: sort and cut
	// whenever twice as many (within the memory bound) have piled up.
	keep, pruneAt := int64(-1), int64(0)
	if b.limit >= 0 {
		keep = b.offset + b.limit
		pruneAt = max(min(2*keep+1024, int64(r.maxMemoryRows)), keep+1)
	}
	cmp := func(x, y sortRow) int { return compareRows(q.orderBy, x.keys, y.keys, x.key, y.key) }
	var rows []sortRow
	for {
		doc, root, ok, err := r.match()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		sr := sortRow{keys: make([]any, len(q.orderBy)), row: r.project(doc, root)}
		for i, t := range q.orderBy {
			sr.keys[i] = fromFast(lookup(root, t.path))
		}
		sr.key = string(root.GetStringBytes("_key"))
		rows = append(rows, sr)
		if keep >= 0 && int64(len(rows)) >= pruneAt {
			slices.SortFunc(rows, cmp)
			clear(rows[keep:])
			rows = rows[:keep]
		}
		if len(rows) > r.maxMemoryRows {
			return nil, fmt.Errorf("%w: more than %d rows to sort (add LIMIT, or an index on the ORDER BY path with a range condition on it)", ErrTooManyRows, r.maxMemoryRows)
		}
	}
	slices.SortFunc(rows, cmp)
	out := make([][]byte, len(rows))
	for i := range rows {
		out[i] = rows[i].row
	}
	return out, nil
}

// compareRows orders rows by the ORDER BY terms, ties by tie in the
// direction of the last term.
func compareRows(order []orderTerm, a, b []any, tieA, tieB string) int {
	for i, t := range order {
		c := compareTotal(a[i], b[i])
		if t.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := strings.Compare(tieA, tieB)
	if len(order) > 0 && order[len(order)-1].desc {
		c = -c
	}
	return c
}

// acc accumulates one aggregate of one group.
type acc struct {
	n    int64
	sum  float64
	best any
	seen bool
}

type group struct {
	vals []any
	key  string // canonical encoding of vals
	accs []acc
}

func (r *Rows) aggregate() ([][]byte, error) {
	q := r.p.b.q
	groups := map[string]*group{}
	var order []*group
	if len(q.groupBy) == 0 {
		g := &group{accs: make([]acc, len(q.fields))}
		groups[""] = g
		order = append(order, g)
	}
	var keyBuf []byte
	for {
		_, root, ok, err := r.match()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		vals := make([]any, len(q.groupBy))
		keyBuf = keyBuf[:0]
		for i, path := range q.groupBy {
			vals[i] = fromFast(lookup(root, path))
			keyBuf = AppendKey(keyBuf, vals[i])
		}
		g := groups[string(keyBuf)]
		if g == nil {
			if len(groups) >= r.maxMemoryRows {
				return nil, fmt.Errorf("%w: more than %d groups", ErrTooManyRows, r.maxMemoryRows)
			}
			g = &group{vals: vals, key: string(keyBuf), accs: make([]acc, len(q.fields))}
			groups[g.key] = g
			order = append(order, g)
		}
		for i, f := range q.fields {
			g.accs[i].add(f, root)
		}
	}
	type outRow struct {
		vals []any // outputs, then group values
		key  string
		row  []byte
	}
	rows := make([]outRow, 0, len(order))
	for _, g := range order {
		or := outRow{key: g.key}
		row := []byte{'{'}
		for i, f := range q.fields {
			var v any
			if f.agg == aggNone {
				v = g.vals[slices.IndexFunc(q.groupBy, func(p []string) bool { return slices.Equal(p, f.path) })]
			} else {
				v = g.accs[i].result(f.agg)
			}
			or.vals = append(or.vals, v)
			if i > 0 {
				row = append(row, ',')
			}
			row = jsonstr.Append(row, f.name)
			row = append(row, ':')
			row = appendJSON(row, v)
		}
		or.vals = append(or.vals, g.vals...)
		or.row = append(row, '}')
		rows = append(rows, or)
	}
	groupOrder := func(a, b outRow) int {
		n := len(q.fields)
		for i := range q.groupBy {
			if c := compareTotal(a.vals[n+i], b.vals[n+i]); c != 0 {
				return c
			}
		}
		return strings.Compare(a.key, b.key)
	}
	slices.SortFunc(rows, func(a, b outRow) int {
		for _, t := range q.orderBy {
			c := compareTotal(a.vals[t.out], b.vals[t.out])
			if t.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return groupOrder(a, b)
	})
	out := make([][]byte, len(rows))
	for i := range rows {
		out[i] = rows[i].row
	}
	return out, nil
}

func (a *acc) add(f field, root *fastjson.Value) {
	if f.agg == aggNone {
		return
	}
	if f.agg == aggCount && f.path == nil {
		a.n++
		return
	}
	v := fromFast(lookup(root, f.path))
	if v == nil {
		return
	}
	switch f.agg {
	case aggCount:
		a.n++
	case aggSum, aggAvg:
		if x, ok := toFloat(v); ok {
			a.sum += x
			a.n++
		}
	case aggMin:
		if !a.seen || compareTotal(v, a.best) < 0 {
			a.best, a.seen = v, true
		}
	case aggMax:
		if !a.seen || compareTotal(v, a.best) > 0 {
			a.best, a.seen = v, true
		}
	}
}

func (a *acc) result(k aggKind) any {
	switch k {
	case aggCount:
		return a.n
	case aggSum:
		if a.n == 0 {
			return nil
		}
		return a.sum
	case aggAvg:
		if a.n == 0 {
			return nil
		}
		return a.sum / float64(a.n)
	}
	return a.best
}
