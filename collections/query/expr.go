package query

import (
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// tri is a three-valued truth value.
type tri uint8

const (
	unknown tri = iota
	falseT
	trueT
)

func triOf(b bool) tri {
	if b {
		return trueT
	}
	return falseT
}

func (t tri) not() tri {
	switch t {
	case trueT:
		return falseT
	case falseT:
		return trueT
	}
	return unknown
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

var cmpNames = [...]string{opEQ: "=", opNE: "!=", opLT: "<", opLE: "<=", opGT: ">", opGE: ">="}

// flip returns the operator with its operands swapped (a < b is b > a).
func (o cmpOp) flip() cmpOp {
	switch o {
	case opLT:
		return opGT
	case opLE:
		return opGE
	case opGT:
		return opLT
	case opGE:
		return opLE
	}
	return o
}

// operandKind says where an operand's value comes from.
type operandKind uint8

const (
	operandPath operandKind = iota
	operandLiteral
	operandParam
)

// operand is a value in a condition: an attribute path of the document, a
// literal, or a bind parameter (slot in Bound.values).
type operand struct {
	kind operandKind
	path []string
	lit  any
	slot int
}

// env is what a condition is evaluated against: the parsed document and
// the bound parameter values.
type env struct {
	root   *fastjson.Value
	params []any
}

func (o *operand) value(e *env) any {
	switch o.kind {
	case operandPath:
		return fromFast(lookup(e.root, o.path))
	case operandParam:
		return e.params[o.slot]
	}
	return o.lit
}

// cond is a condition node.
type cond interface {
	eval(e *env) tri
}

type andCond struct{ terms []cond }

func (c *andCond) eval(e *env) tri {
	out := trueT
	for _, t := range c.terms {
		switch t.eval(e) {
		case falseT:
			return falseT
		case unknown:
			out = unknown
		}
	}
	return out
}

type orCond struct{ terms []cond }

func (c *orCond) eval(e *env) tri {
	out := falseT
	for _, t := range c.terms {
		switch t.eval(e) {
		case trueT:
			return trueT
		case unknown:
			out = unknown
		}
	}
	return out
}

type notCond struct{ c cond }

func (c *notCond) eval(e *env) tri { return c.c.eval(e).not() }

type constCond struct{ v tri }

func (c *constCond) eval(*env) tri { return c.v }

type cmpCond struct {
	op   cmpOp
	l, r operand
}

func (c *cmpCond) eval(e *env) tri {
	return compareOp(c.op, c.l.value(e), c.r.value(e))
}

// compareOp applies a comparison with SQL's NULL rules and the typed
// ordering of the package comment.
func compareOp(op cmpOp, a, b any) tri {
	ca, cb := classOf(a), classOf(b)
	if ca == classNull || cb == classNull {
		return unknown
	}
	switch op {
	case opEQ:
		return triOf(ca == cb && compareTotal(a, b) == 0)
	case opNE:
		return triOf(ca != cb || compareTotal(a, b) != 0)
	}
	if ca != cb || ca > classString {
		return unknown
	}
	c := compareTotal(a, b)
	switch op {
	case opLT:
		return triOf(c < 0)
	case opLE:
		return triOf(c <= 0)
	case opGT:
		return triOf(c > 0)
	}
	return triOf(c >= 0)
}

type isNullCond struct {
	x   operand
	not bool
}

func (c *isNullCond) eval(e *env) tri {
	isNull := c.x.value(e) == nil
	return triOf(isNull != c.not)
}

// truthCond is "x IS [NOT] TRUE|FALSE" or, with bare set, a value used as a
// condition: true is true, false is false, anything else unknown.
type truthCond struct {
	x     operand
	truth bool
	not   bool
	bare  bool
}

func (c *truthCond) eval(e *env) tri {
	b, isBool := c.x.value(e).(bool)
	if c.bare {
		if !isBool {
			return unknown
		}
		return triOf(b)
	}
	return triOf((isBool && b == c.truth) != c.not)
}

type inCond struct {
	x    operand
	list []operand
	not  bool
}

func (c *inCond) eval(e *env) tri {
	v := c.x.value(e)
	out := falseT
	for i := range c.list {
		switch compareOp(opEQ, v, c.list[i].value(e)) {
		case trueT:
			return triOf(!c.not)
		case unknown:
			out = unknown
		}
	}
	if c.not {
		return out.not()
	}
	return out
}

type likeCond struct {
	x, pattern operand
	escape     byte
	not        bool
}

func (c *likeCond) eval(e *env) tri {
	s, ok1 := c.x.value(e).(string)
	p, ok2 := c.pattern.value(e).(string)
	if !ok1 || !ok2 {
		return unknown
	}
	return triOf(like(s, p, c.escape) != c.not)
}

// like matches s against a SQL LIKE pattern: % any run, _ one character,
// escape before either (or itself) for a literal. Case-sensitive.
func like(s, p string, escape byte) bool {
	// Iterative matching with backtracking to the last %.
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := p[pi]
			switch {
			case c == escape && pi+1 < len(p):
				if s[si] == p[pi+1] {
					si++
					pi += 2
					continue
				}
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '_':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			case s[si] == c:
				si++
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}
