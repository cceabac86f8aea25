package query

import (
	"fmt"
	"slices"
)

// Params are the values of a query's bind parameters: Named for @name,
// Positional for ? in order of appearance. Values are decoded JSON (see
// NormalizeValue).
type Params struct {
	Named      map[string]any
	Positional []any
}

// Bound is a query with a value for each of its parameters.
type Bound struct {
	q      *Query
	values []any
	limit  int64 // -1: none
	offset int64
}

// Query returns the parsed query.
func (b *Bound) Query() *Query { return b.q }

// ParamNames lists the named parameters the query uses, sorted.
func (q *Query) ParamNames() []string {
	var out []string
	for _, n := range q.slots {
		if n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Bind gives each parameter its value. Every parameter needs one, and every
// value given must be used (as in ArangoDB, a stray value is an error).
func (q *Query) Bind(p Params) (*Bound, error) {
	if len(p.Positional) != q.positional {
		return nil, fmt.Errorf("%w: the query has %d positional parameters (?), got %d values", ErrBindMissing, q.positional, len(p.Positional))
	}
	b := &Bound{q: q, values: make([]any, len(q.slots)), limit: -1}
	for i, v := range p.Positional {
		n, ok := NormalizeValue(v)
		if !ok {
			return nil, fmt.Errorf("%w: positional parameter %d", ErrBindType, i+1)
		}
		b.values[i] = n
	}
	used := 0
	for slot := q.positional; slot < len(q.slots); slot++ {
		name := q.slots[slot]
		v, ok := p.Named[name]
		if !ok {
			return nil, fmt.Errorf("%w: @%s", ErrBindMissing, name)
		}
		n, ok := NormalizeValue(v)
		if !ok {
			return nil, fmt.Errorf("%w: @%s", ErrBindType, name)
		}
		b.values[slot] = n
		used++
	}
	if used != len(p.Named) {
		for name := range p.Named {
			if !slices.Contains(q.slots[q.positional:], name) {
				return nil, fmt.Errorf("%w: @%s", ErrBindUnused, name)
			}
		}
	}
	var err error
	if b.limit, err = b.count(q.limit, -1); err != nil {
		return nil, err
	}
	if b.offset, err = b.count(q.offset, 0); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Bound) count(o *operand, none int64) (int64, error) {
	if o == nil {
		return none, nil
	}
	return count(o.value(&env{params: b.values}))
}

// resolved returns an operand's value when it does not depend on the
// document (a literal or a bound parameter).
func (b *Bound) resolved(o *operand) (any, bool) {
	switch o.kind {
	case operandLiteral:
		return o.lit, true
	case operandParam:
		return b.values[o.slot], true
	}
	return nil, false
}
