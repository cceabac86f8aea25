package aql

import (
	"math"
	"regexp"
	"strings"

	"github.com/causeway/causeway/collections/query"
)

// row holds the values of a query's variables, by slot.
type row []any

// expr is a compiled expression.
type expr interface {
	eval(c *ctx, r row) (any, error)
}

type litExpr struct{ v any }

func (e *litExpr) eval(*ctx, row) (any, error) { return e.v, nil }

type varExpr struct {
	slot int
	name string
}

func (e *varExpr) eval(_ *ctx, r row) (any, error) { return r[e.slot], nil }

type paramExpr struct{ name string }

func (e *paramExpr) eval(c *ctx, _ row) (any, error) { return c.params[e.name], nil }

// itemExpr is the element an expansion ([*]) is at.
type itemExpr struct{}

func (itemExpr) eval(c *ctx, _ row) (any, error) { return c.items[len(c.items)-1], nil }

type attrExpr struct {
	base expr
	name string
}

func (e *attrExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.base.eval(c, r)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *lazyDoc:
		return x.get(e.name), nil
	case map[string]any:
		return x[e.name], nil
	}
	return nil, nil
}

// indexExpr is a[i] (array position, negative from the end) or a["name"].
type indexExpr struct {
	base, index expr
}

func (e *indexExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.base.eval(c, r)
	if err != nil {
		return nil, err
	}
	i, err := e.index.eval(c, r)
	if err != nil {
		return nil, err
	}
	i = plain(i)
	if d, ok := v.(*lazyDoc); ok {
		if s, isStr := i.(string); isStr {
			return d.get(s), nil
		}
		v = d.plain()
	}
	switch x := v.(type) {
	case map[string]any:
		if s, ok := i.(string); ok {
			return x[s], nil
		}
		return x[toString(i)], nil
	case []any:
		if !isNumber(i) {
			if s, ok := i.(string); !ok || strings.TrimSpace(s) == "" {
				return nil, nil
			}
		}
		n := toNumber(i)
		if n != math.Trunc(n) {
			return nil, nil
		}
		k := int(n)
		if k < 0 {
			k += len(x)
		}
		if k < 0 || k >= len(x) {
			return nil, nil
		}
		return x[k], nil
	}
	return nil, nil
}

// expandExpr is base[*] followed by each, evaluated per element.
type expandExpr struct {
	base expr
	each expr // over itemExpr; nil: the element itself
}

func (e *expandExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.base.eval(c, r)
	if err != nil {
		return nil, err
	}
	arr, ok := plain(v).([]any)
	if !ok {
		return []any{}, nil
	}
	if e.each == nil {
		return arr, nil
	}
	out := make([]any, 0, len(arr))
	for _, x := range arr {
		c.items = append(c.items, x)
		y, err := e.each.eval(c, r)
		c.items = c.items[:len(c.items)-1]
		if err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, nil
}

type arrayExpr struct{ items []expr }

func (e *arrayExpr) eval(c *ctx, r row) (any, error) {
	out := make([]any, len(e.items))
	for i, it := range e.items {
		v, err := it.eval(c, r)
		if err != nil {
			return nil, err
		}
		out[i] = plain(v)
	}
	return out, nil
}

type member struct {
	name     string
	computed expr // a computed name ([expr] or @param)
	value    expr
}

type objectExpr struct{ members []member }

func (e *objectExpr) eval(c *ctx, r row) (any, error) {
	out := make(map[string]any, len(e.members))
	for _, m := range e.members {
		name := m.name
		if m.computed != nil {
			n, err := m.computed.eval(c, r)
			if err != nil {
				return nil, err
			}
			name = toString(plain(n))
		}
		v, err := m.value.eval(c, r)
		if err != nil {
			return nil, err
		}
		out[name] = plain(v)
	}
	return out, nil
}

type notExpr struct{ x expr }

func (e *notExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.x.eval(c, r)
	if err != nil {
		return nil, err
	}
	return !truthy(v), nil
}

type negExpr struct {
	x   expr
	neg bool
}

func (e *negExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.x.eval(c, r)
	if err != nil {
		return nil, err
	}
	f := toNumber(plain(v))
	if e.neg {
		f = -f
	}
	return numberValue(f), nil
}

// logicExpr is && or ||: AQL returns an operand, not a boolean.
type logicExpr struct {
	and  bool
	l, r expr
}

func (e *logicExpr) eval(c *ctx, r row) (any, error) {
	a, err := e.l.eval(c, r)
	if err != nil {
		return nil, err
	}
	if truthy(a) != e.and {
		return a, nil
	}
	return e.r.eval(c, r)
}

type ternaryExpr struct {
	cond, then, els expr // then nil: cond's value
}

func (e *ternaryExpr) eval(c *ctx, r row) (any, error) {
	v, err := e.cond.eval(c, r)
	if err != nil {
		return nil, err
	}
	if truthy(v) {
		if e.then == nil {
			return v, nil
		}
		return e.then.eval(c, r)
	}
	return e.els.eval(c, r)
}

type binOp uint8

const (
	opEQ binOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
	opIn
	opNotIn
	opLike
	opNotLike
	opRegex
	opNotRegex
	opAdd
	opSub
	opMul
	opDiv
	opMod
)

var binOps = map[string]binOp{
	"==": opEQ, "!=": opNE, "<": opLT, "<=": opLE, ">": opGT, ">=": opGE,
	"=~": opRegex, "!~": opNotRegex, "+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "%": opMod,
}

type binExpr struct {
	op   binOp
	l, r expr
	re   *regexp.Regexp // a constant pattern, compiled once
}

func (e *binExpr) eval(c *ctx, r row) (any, error) {
	a, err := e.l.eval(c, r)
	if err != nil {
		return nil, err
	}
	b, err := e.r.eval(c, r)
	if err != nil {
		return nil, err
	}
	a, b = plain(a), plain(b)
	switch e.op {
	case opEQ:
		return equal(a, b), nil
	case opNE:
		return !equal(a, b), nil
	case opLT:
		return compare(a, b) < 0, nil
	case opLE:
		return compare(a, b) <= 0, nil
	case opGT:
		return compare(a, b) > 0, nil
	case opGE:
		return compare(a, b) >= 0, nil
	case opIn, opNotIn:
		return contains(b, a) == (e.op == opIn), nil
	case opLike, opNotLike:
		return query.Like(toString(a), toString(b)) == (e.op == opLike), nil
	case opRegex, opNotRegex:
		re := e.re
		if re == nil {
			if re, err = compileRegex(toString(b), false); err != nil {
				return nil, err
			}
		}
		return re.MatchString(toString(a)) == (e.op == opRegex), nil
	}
	return c.arith(e.op, a, b), nil
}

func contains(arr, v any) bool {
	xs, ok := arr.([]any)
	if !ok {
		return false
	}
	for _, x := range xs {
		if equal(x, v) {
			return true
		}
	}
	return false
}

// arith is AQL arithmetic: operands are converted with TO_NUMBER; a
// division or modulo by zero is null with a warning.
func (c *ctx) arith(op binOp, a, b any) any {
	x, y := toNumber(a), toNumber(b)
	switch op {
	case opAdd:
		return numberValue(x + y)
	case opSub:
		return numberValue(x - y)
	case opMul:
		return numberValue(x * y)
	case opDiv:
		if y == 0 {
			c.warn(NumDivisionByZero, "division by zero")
			return nil
		}
		return numberValue(x / y)
	}
	if y == 0 {
		c.warn(NumDivisionByZero, "division by zero")
		return nil
	}
	return numberValue(math.Mod(x, y))
}

// maxRegexBytes bounds a regular expression's text.
const maxRegexBytes = 8 << 10

func compileRegex(p string, caseInsensitive bool) (*regexp.Regexp, error) {
	if len(p) > maxRegexBytes {
		return nil, badQuery(NumInvalidRegex, "regular expression of %d bytes exceeds %d", len(p), maxRegexBytes)
	}
	if caseInsensitive {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, badQuery(NumInvalidRegex, "invalid regular expression %q: %v", p, err)
	}
	return re, nil
}

type rangeExpr struct{ from, to expr }

func (e *rangeExpr) eval(c *ctx, r row) (any, error) {
	a, err := e.from.eval(c, r)
	if err != nil {
		return nil, err
	}
	b, err := e.to.eval(c, r)
	if err != nil {
		return nil, err
	}
	x, y := math.Trunc(toNumber(plain(a))), math.Trunc(toNumber(plain(b)))
	if math.Abs(x) > 1<<53 || math.Abs(y) > 1<<53 {
		return nil, badQuery(NumNumberOutOfRange, "range %v..%v: bounds beyond ±2^53", x, y)
	}
	if math.IsNaN(y-x) || math.Abs(y-x) >= float64(c.maxRows) {
		return nil, badQuery(NumResourceLimit, "range %v..%v has more than %d values", x, y, c.maxRows)
	}
	step := 1.0
	if y < x {
		step = -1
	}
	out := make([]any, 0, int(math.Abs(y-x))+1)
	for v := x; ; v += step {
		out = append(out, v)
		if v == y {
			break
		}
	}
	return out, nil
}

type callExpr struct {
	fn   *function
	name string
	args []expr
}

func (e *callExpr) eval(c *ctx, r row) (any, error) {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		v, err := a.eval(c, r)
		if err != nil {
			return nil, err
		}
		args[i] = plain(v)
	}
	return e.fn.impl(c, args)
}

// subqueryExpr runs a subquery once per evaluation and answers its values.
type subqueryExpr struct{ p *pipeline }

func (e *subqueryExpr) eval(c *ctx, r row) (any, error) {
	return c.runPipeline(e.p, r)
}

// collectionExpr is a collection named in an expression: all its documents.
type collectionExpr struct{ coll collRef }

func (e *collectionExpr) eval(c *ctx, r row) (any, error) {
	name, err := e.coll.resolve(c)
	if err != nil {
		return nil, err
	}
	return c.readAll(name)
}
