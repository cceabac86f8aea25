package aql

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/valyala/fastjson"

	"github.com/causeway/causeway/collections/query"
)

// ctx is the state of one query run.
type ctx struct {
	q        *Query
	opts     Options
	params   map[string]any
	maxRows  int
	items    []any // expansion ([*]) elements being evaluated
	rnd      *rand.Rand
	warnings []Warning
	open     map[DocIter]struct{}
	modified map[string]bool
	steps    int
	scanned  int
	// fullCount is the rows the top-level LIMIT saw (-1: no LIMIT).
	fullCount int64
	// keyOrdered says a FOR with keyOrder reads in key order.
	keyOrdered map[*forStmt]bool
	parser     fastjson.Parser
}

func (c *ctx) warn(code int, msg string) {
	if len(c.warnings) < maxWarnings {
		c.warnings = append(c.warnings, Warning{Code: code, Message: msg})
	}
}

// step counts a loop iteration and calls the caller's check now and then.
func (c *ctx) step() error {
	c.steps++
	if c.steps%checkEvery == 0 && c.opts.Check != nil {
		return c.opts.Check()
	}
	return nil
}

// iter yields rows.
type iter interface {
	next() (row, bool, error)
}

// stmt is a compiled statement: it wraps the rows before it.
type stmt interface {
	open(c *ctx, in iter, base row) (iter, error)
}

type singleIter struct {
	r    row
	done bool
}

func (s *singleIter) next() (row, bool, error) {
	if s.done {
		return nil, false, nil
	}
	s.done = true
	return s.r, true, nil
}

// openPipeline chains a pipeline's statements over one starting row.
func (c *ctx) openPipeline(p *pipeline, base row) (iter, error) {
	var it iter = &singleIter{r: base}
	for _, st := range p.stmts {
		var err error
		if it, err = st.open(c, it, base); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// runPipeline runs a subquery to the end and answers its values.
func (c *ctx) runPipeline(p *pipeline, outer row) (any, error) {
	base := make(row, len(outer))
	copy(base, outer)
	it, err := c.openPipeline(p, base)
	if err != nil {
		return nil, err
	}
	out := []any{}
	var seen map[string]bool
	if p.ret != nil && p.ret.distinct {
		seen = map[string]bool{}
	}
	for {
		r, ok, err := it.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if p.ret == nil {
			continue
		}
		v, err := p.ret.e.eval(c, r)
		if err != nil {
			return nil, err
		}
		v = plain(v)
		if seen != nil {
			k := string(valueKey(nil, v))
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		if len(out) >= c.maxRows {
			return nil, badQuery(NumResourceLimit, "a subquery holds more than %d values in memory", c.maxRows)
		}
		out = append(out, v)
	}
}

// collRef is a collection named in the query, or a @@parameter.
type collRef struct {
	name  string
	param string // "@name": the bindVars key
}

func (r collRef) resolve(c *ctx) (string, error) {
	if r.param == "" {
		return r.name, nil
	}
	return c.params[r.param].(string), nil // checked at bind time
}

// decode parses a document into a value.
func (c *ctx) decode(doc []byte) (any, error) {
	v, err := c.parser.ParseBytes(doc)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("aql: document is not a JSON object: %.64s", doc)
	}
	return query.FromFast(v), nil
}

func (c *ctx) scan(name string, a query.Access, latest bool) (DocIter, error) {
	var it DocIter
	var err error
	if latest {
		it, err = c.opts.Source.ScanLatest(name, a)
	} else {
		it, err = c.opts.Source.Scan(name, a)
	}
	if err != nil {
		return nil, err
	}
	c.open[it] = struct{}{}
	return it, nil
}

func (c *ctx) closeIter(it DocIter) {
	if _, ok := c.open[it]; ok {
		delete(c.open, it)
		_ = it.Close()
	}
}

// readAll reads a whole collection as an array value.
func (c *ctx) readAll(name string) (any, error) {
	if c.modified[name] {
		return nil, badQuery(NumAccessAfterModify, "access after data-modification by collection '%s'", name)
	}
	it, err := c.scan(name, query.Access{Kind: query.FullScan}, false)
	if err != nil {
		return nil, err
	}
	defer c.closeIter(it)
	out := []any{}
	for {
		doc, ok, err := it.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		c.scanned++
		if len(out) >= c.maxRows {
			return nil, badQuery(NumResourceLimit, "collection %s holds more than %d documents to read as a value", name, c.maxRows)
		}
		v, err := c.decode(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// FOR.

type forStmt struct {
	slot int
	name string
	coll *collRef // a collection, or
	src  expr     // an array
	// terms are FILTER conditions the access path may use.
	terms []accessTerm
	// keyOrder asks for key order when the access path allows it: a SORT
	// on this loop's _key follows (0 none, 1 ascending, 2 descending).
	keyOrder uint8
}

type forIter struct {
	parser fastjson.Parser
	st     *forStmt
	c      *ctx
	in     iter
	cur    row
	arr    []any
	pos    int
	docs   DocIter
	coll   string
}

func (st *forStmt) open(c *ctx, in iter, _ row) (iter, error) {
	if st.coll != nil {
		// Statements open in query order: a collection written by an
		// earlier statement cannot be read (its snapshot predates the
		// writes).
		name, err := st.coll.resolve(c)
		if err != nil {
			return nil, err
		}
		if c.modified[name] {
			return nil, badQuery(NumAccessAfterModify, "access after data-modification by collection '%s'", name)
		}
	}
	return &forIter{st: st, c: c, in: in}, nil
}

func (f *forIter) next() (row, bool, error) {
	for {
		if f.cur != nil {
			v, ok, err := f.item()
			if err != nil {
				return nil, false, err
			}
			if ok {
				if err := f.c.step(); err != nil {
					return nil, false, err
				}
				out := make(row, len(f.cur))
				copy(out, f.cur)
				out[f.st.slot] = v
				return out, true, nil
			}
			f.cur = nil
		}
		r, ok, err := f.in.next()
		if err != nil || !ok {
			return nil, false, err
		}
		if err := f.start(r); err != nil {
			return nil, false, err
		}
		f.cur = r
	}
}

// start begins the loop for one outer row.
func (f *forIter) start(r row) error {
	c := f.c
	if f.st.coll == nil {
		v, err := f.st.src.eval(c, r)
		if err != nil {
			return err
		}
		v = plain(v)
		switch x := v.(type) {
		case nil:
			f.arr = nil
		case []any:
			f.arr = x
		default:
			return badQuery(NumArrayExpected, "collection or array expected as operand to FOR loop; you provided a value of type '%s'", typeName(v))
		}
		f.pos = 0
		return nil
	}
	name, err := f.st.coll.resolve(c)
	if err != nil {
		return err
	}
	a, err := c.access(name, f.st.terms, r)
	if err != nil {
		return err
	}
	if f.st.keyOrder != 0 {
		ordered := a.Kind == query.FullScan || a.Kind == query.KeyRange
		if ordered {
			a.Reverse = f.st.keyOrder == 2
		}
		if c.keyOrdered == nil {
			c.keyOrdered = map[*forStmt]bool{}
		}
		c.keyOrdered[f.st] = ordered
	}
	f.docs, err = c.scan(name, a, false)
	f.coll = name
	return err
}

func (f *forIter) item() (any, bool, error) {
	if f.st.coll == nil {
		if f.pos >= len(f.arr) {
			return nil, false, nil
		}
		f.pos++
		return f.arr[f.pos-1], true, nil
	}
	doc, ok, err := f.docs.Next()
	if err != nil || !ok {
		f.c.closeIter(f.docs)
		return nil, false, err
	}
	f.c.scanned++
	d, ok := parseLazy(&f.parser, doc)
	if !ok {
		return nil, false, fmt.Errorf("aql: document is not a JSON object: %.64s", doc)
	}
	return d, true, nil
}

// LET, FILTER.

type letStmt struct {
	slot int
	e    expr
}

type mapIter struct {
	in iter
	fn func(row) (row, bool, error)
}

func (m *mapIter) next() (row, bool, error) {
	for {
		r, ok, err := m.in.next()
		if err != nil || !ok {
			return nil, false, err
		}
		out, keep, err := m.fn(r)
		if err != nil {
			return nil, false, err
		}
		if keep {
			return out, true, nil
		}
	}
}

func (st *letStmt) open(c *ctx, in iter, _ row) (iter, error) {
	return &mapIter{in: in, fn: func(r row) (row, bool, error) {
		v, err := st.e.eval(c, r)
		if err != nil {
			return nil, false, err
		}
		r[st.slot] = v
		return r, true, nil
	}}, nil
}

type filterStmt struct{ e expr }

func (st *filterStmt) open(c *ctx, in iter, _ row) (iter, error) {
	return &mapIter{in: in, fn: func(r row) (row, bool, error) {
		v, err := st.e.eval(c, r)
		if err != nil {
			return nil, false, err
		}
		return r, truthy(v), nil
	}}, nil
}

// SORT.

type sortTerm struct {
	e    expr
	desc bool
}

type sortStmt struct {
	terms []sortTerm
	// byKey is the FOR whose _key the SORT orders by, when it is the
	// pipeline's first loop (keySortIter).
	byKey *forStmt
	// limit is the LIMIT right after the SORT: only the first
	// offset+count rows are kept.
	limit *limitStmt
}

type sliceIter struct {
	rows []row
	pos  int
}

func (s *sliceIter) next() (row, bool, error) {
	if s.pos >= len(s.rows) {
		return nil, false, nil
	}
	r := s.rows[s.pos]
	s.rows[s.pos] = nil
	s.pos++
	return r, true, nil
}

func (st *sortStmt) open(c *ctx, in iter, base row) (iter, error) {
	if st.byKey != nil {
		return &keySortIter{st: st, c: c, in: in, base: base}, nil
	}
	return st.sortAll(c, in, base)
}

// keySortIter is a SORT on the _key of the pipeline's first FOR: when the
// loop reads the collection in key order (a full scan or a key range,
// reversed for DESC) the rows already come sorted and stream through;
// when it reads an index they are sorted. The loop decides when it starts,
// at the first row.
type keySortIter struct {
	st      *sortStmt
	c       *ctx
	in      iter
	base    row
	started bool
	sorted  iter // nil: rows stream through
}

func (k *keySortIter) next() (row, bool, error) {
	if k.sorted != nil {
		return k.sorted.next()
	}
	if k.started {
		return k.in.next()
	}
	k.started = true
	r, ok, err := k.in.next()
	if err != nil || !ok {
		return nil, false, err
	}
	if k.c.keyOrdered[k.st.byKey] {
		return r, true, nil
	}
	if k.sorted, err = k.st.sortAll(k.c, &prependIter{first: r, in: k.in}, k.base); err != nil {
		return nil, false, err
	}
	return k.sorted.next()
}

// prependIter yields first, then in's rows.
type prependIter struct {
	first row
	in    iter
}

func (p *prependIter) next() (row, bool, error) {
	if p.first != nil {
		r := p.first
		p.first = nil
		return r, true, nil
	}
	return p.in.next()
}

// sortAll reads every row and sorts them (only the best offset+count with
// a LIMIT right after).
func (st *sortStmt) sortAll(c *ctx, in iter, base row) (iter, error) {
	type keyed struct {
		keys []any
		r    row
		seq  int // arrival order: the sort is stable
	}
	cmp := func(a, b keyed) int {
		for i, t := range st.terms {
			x := compare(a.keys[i], b.keys[i])
			if t.desc {
				x = -x
			}
			if x != 0 {
				return x
			}
		}
		return a.seq - b.seq
	}
	// With a LIMIT after the SORT only the best offset+count rows matter:
	// sort and cut whenever twice as many have piled up.
	keep, pruneAt := -1, 0
	if st.limit != nil {
		var off, n int64
		var err error
		if st.limit.offset != nil {
			if off, err = limitValue(c, st.limit.offset, base, "offset"); err != nil {
				return nil, err
			}
		}
		if n, err = limitValue(c, st.limit.count, base, "count"); err != nil {
			return nil, err
		}
		if off+n < int64(c.maxRows) {
			keep = int(off + n)
			pruneAt = max(min(2*keep+1024, c.maxRows), keep+1)
		}
	}
	var rows []keyed
	seq := 0
	for {
		r, ok, err := in.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		pinRow(r)
		if len(rows) >= c.maxRows {
			return nil, badQuery(NumResourceLimit, "SORT of more than %d rows in memory (add a LIMIT before it or a narrower FILTER)", c.maxRows)
		}
		k := keyed{keys: make([]any, len(st.terms)), r: r}
		for i, t := range st.terms {
			if k.keys[i], err = t.e.eval(c, r); err != nil {
				return nil, err
			}
			k.keys[i] = plain(k.keys[i])
		}
		k.seq = seq
		seq++
		rows = append(rows, k)
		if keep >= 0 && len(rows) >= pruneAt {
			slices.SortFunc(rows, cmp)
			clear(rows[keep:])
			rows = rows[:keep]
		}
	}
	slices.SortFunc(rows, cmp)
	out := make([]row, len(rows))
	for i := range rows {
		out[i] = rows[i].r
	}
	return &sliceIter{rows: out}, nil
}

// LIMIT.

type limitStmt struct {
	offset, count expr // offset nil: 0
	top           bool // the query's own (fullCount counts past it)
}

type limitIter struct {
	c                         *ctx
	in                        iter
	offset, count             int64
	skipped, emitted, drained int64
	countFull                 bool
	done                      bool
}

func (st *limitStmt) open(c *ctx, in iter, base row) (iter, error) {
	li := &limitIter{c: c, in: in, countFull: st.top && c.opts.FullCount}
	var err error
	if st.offset != nil {
		if li.offset, err = limitValue(c, st.offset, base, "offset"); err != nil {
			return nil, err
		}
	}
	if li.count, err = limitValue(c, st.count, base, "count"); err != nil {
		return nil, err
	}
	return li, nil
}

func limitValue(c *ctx, e expr, base row, what string) (int64, error) {
	v, err := e.eval(c, base)
	if err != nil {
		return 0, err
	}
	v = plain(v)
	f, ok := num(v)
	if !ok || f < 0 || f != math.Trunc(f) || f > 1<<53 {
		return 0, badQuery(NumNumberOutOfRange, "LIMIT %s must be a non-negative integer, got %s", what, toString(v))
	}
	return int64(f), nil
}

func (l *limitIter) next() (row, bool, error) {
	for !l.done {
		if l.emitted >= l.count {
			l.done = true
			if l.countFull {
				for {
					_, ok, err := l.in.next()
					if err != nil {
						return nil, false, err
					}
					if !ok {
						break
					}
					l.drained++
				}
				l.c.fullCount = l.skipped + l.emitted + l.drained
			}
			return nil, false, nil
		}
		r, ok, err := l.in.next()
		if err != nil {
			return nil, false, err
		}
		if !ok {
			l.done = true
			if l.countFull {
				l.c.fullCount = l.skipped + l.emitted
			}
			return nil, false, nil
		}
		if l.skipped < l.offset {
			l.skipped++
			continue
		}
		l.emitted++
		return r, true, nil
	}
	return nil, false, nil
}

// RETURN.

type returnStmt struct {
	e        expr
	distinct bool
}

// open is never called: a pipeline keeps its RETURN apart.
func (st *returnStmt) open(*ctx, iter, row) (iter, error) {
	return nil, fmt.Errorf("aql: RETURN opened as a statement")
}
