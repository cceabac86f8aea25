package aql

import (
	"slices"
)

type assign struct {
	name string
	slot int
	e    expr
}

type aggKind uint8

const (
	aggLength aggKind = iota
	aggSum
	aggAvg
	aggMin
	aggMax
	aggCountDistinct
	aggUnique
	aggSortedUnique
	aggPush
)

var aggregates = map[string]aggKind{
	"LENGTH": aggLength, "COUNT": aggLength, "SUM": aggSum, "AVG": aggAvg, "AVERAGE": aggAvg,
	"MIN": aggMin, "MAX": aggMax, "COUNT_DISTINCT": aggCountDistinct, "COUNT_UNIQUE": aggCountDistinct,
	"UNIQUE": aggUnique, "SORTED_UNIQUE": aggSortedUnique, "PUSH": aggPush,
}

type aggregate struct {
	name string
	slot int
	kind aggKind
	e    expr
}

// collectStmt is COLLECT groups [AGGREGATE ...] [INTO g [= expr]]
// [WITH COUNT INTO n]: groups sorted by their values.
type collectStmt struct {
	groups    []assign
	aggs      []aggregate
	into      expr     // INTO g = expr
	intoVars  []assign // INTO g: the variables of each row
	intoSlot  int      // -1: none
	countSlot int      // -1: none
}

type aggState struct {
	n    int64
	sum  float64
	best any
	seen bool
	vals []any
	keys map[string]bool
}

type groupState struct {
	vals  []any
	aggs  []aggState
	into  []any
	count int64
}

func (st *collectStmt) open(c *ctx, in iter, base row) (iter, error) {
	groups := map[string]*groupState{}
	var order []*groupState
	held := 0
	var kb []byte
	for {
		r, ok, err := in.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		vals := make([]any, len(st.groups))
		kb = kb[:0]
		for i, g := range st.groups {
			if vals[i], err = g.e.eval(c, r); err != nil {
				return nil, err
			}
			vals[i] = plain(vals[i])
			kb = valueKey(kb, vals[i])
		}
		g := groups[string(kb)]
		if g == nil {
			held++
			if held > c.maxRows {
				return nil, badQuery(NumResourceLimit, "COLLECT of more than %d groups in memory", c.maxRows)
			}
			g = &groupState{vals: vals, aggs: make([]aggState, len(st.aggs))}
			groups[string(kb)] = g
			order = append(order, g)
		}
		g.count++
		for i, a := range st.aggs {
			v, err := a.e.eval(c, r)
			if err != nil {
				return nil, err
			}
			if err := g.aggs[i].add(c, a.kind, plain(v)); err != nil {
				return nil, err
			}
		}
		if st.intoSlot >= 0 {
			held++
			if held > c.maxRows {
				return nil, badQuery(NumResourceLimit, "COLLECT ... INTO holds more than %d values in memory", c.maxRows)
			}
			var item any
			if st.into != nil {
				if item, err = st.into.eval(c, r); err != nil {
					return nil, err
				}
				item = plain(item)
			} else {
				obj := make(map[string]any, len(st.intoVars))
				for _, v := range st.intoVars {
					obj[v.name] = plain(r[v.e.(*varExpr).slot])
				}
				item = obj
			}
			g.into = append(g.into, item)
		}
	}
	if len(st.groups) == 0 && len(order) == 0 {
		// Without groups there is always one row (a count of 0, nulls).
		order = append(order, &groupState{aggs: make([]aggState, len(st.aggs))})
	}
	slices.SortStableFunc(order, func(a, b *groupState) int {
		for i := range a.vals {
			if x := compare(a.vals[i], b.vals[i]); x != 0 {
				return x
			}
		}
		return 0
	})
	rows := make([]row, len(order))
	for i, g := range order {
		r := make(row, len(base))
		copy(r, base)
		for j, gr := range st.groups {
			r[gr.slot] = g.vals[j]
		}
		for j, a := range st.aggs {
			r[a.slot] = g.aggs[j].result(a.kind)
		}
		if st.intoSlot >= 0 {
			if g.into == nil {
				g.into = []any{}
			}
			r[st.intoSlot] = g.into
		}
		if st.countSlot >= 0 {
			r[st.countSlot] = float64(g.count)
		}
		rows[i] = r
	}
	return &sliceIter{rows: rows}, nil
}

func (a *aggState) add(c *ctx, k aggKind, v any) error {
	switch k {
	case aggLength:
		a.n++
	case aggSum, aggAvg:
		if v != nil {
			a.sum += toNumber(v)
			a.n++
		}
	case aggMin:
		if v != nil && (!a.seen || compare(v, a.best) < 0) {
			a.best, a.seen = v, true
		}
	case aggMax:
		if v != nil && (!a.seen || compare(v, a.best) > 0) {
			a.best, a.seen = v, true
		}
	case aggCountDistinct, aggUnique, aggSortedUnique:
		if a.keys == nil {
			a.keys = map[string]bool{}
		}
		key := string(valueKey(nil, v))
		if !a.keys[key] {
			if len(a.keys) >= c.maxRows {
				return badQuery(NumResourceLimit, "aggregate holds more than %d values", c.maxRows)
			}
			a.keys[key] = true
			if k != aggCountDistinct && v != nil {
				a.vals = append(a.vals, v)
			}
		}
	case aggPush:
		if len(a.vals) >= c.maxRows {
			return badQuery(NumResourceLimit, "aggregate holds more than %d values", c.maxRows)
		}
		a.vals = append(a.vals, v)
	}
	return nil
}

func (a *aggState) result(k aggKind) any {
	switch k {
	case aggLength:
		return float64(a.n)
	case aggSum:
		return numberValue(a.sum)
	case aggAvg:
		if a.n == 0 {
			return nil
		}
		return numberValue(a.sum / float64(a.n))
	case aggMin, aggMax:
		return a.best
	case aggCountDistinct:
		return float64(len(a.keys))
	case aggSortedUnique:
		slices.SortFunc(a.vals, compare)
	}
	if a.vals == nil {
		return []any{}
	}
	return a.vals
}
