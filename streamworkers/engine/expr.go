package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/valyala/fastjson"
)

// env is what an expression reads: the row's sources and, in an aggregate
// query, the group's values and aggregates.
type env struct {
	ev     [2]*Event
	doc    [2]*fastjson.Value // parsed payload objects; nil: absent
	now    int64              // the row's event time (Unix ms), for NOW()
	groups []value
	aggs   []value
	start  int64 // window bounds (Unix ms)
	end    int64
}

// expr is a compiled expression.
type expr func(*env) (value, error)

func restore(n ast.Node) string {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "?"
	}
	return sb.String()
}

// resolve maps a column reference to a source and a path: a leading alias
// (or stream name) picks the source, a leading "payload" is dropped, and
// names split at dots.
func (c *compiler) resolve(cn *ast.ColumnName) (int, []string) {
	var parts []string
	for _, s := range []string{cn.Schema.O, cn.Table.O, cn.Name.O} {
		if s != "" {
			parts = append(parts, strings.Split(s, ".")...)
		}
	}
	src := 0
	if len(parts) > 1 {
		for i := range c.q.sources {
			if parts[0] == c.q.sourceLabel(i) {
				src, parts = i, parts[1:]
				break
			}
		}
	}
	if len(parts) > 1 && parts[0] == "payload" {
		parts = parts[1:]
	}
	return src, parts
}

// column reads path of source src.
func (c *compiler) column(src int, path []string) expr {
	if !c.q.sources[src].collection && len(path) >= 1 {
		switch path[0] {
		case "_key":
			if len(path) == 1 {
				return func(en *env) (value, error) {
					if en.ev[src] == nil {
						return null, nil
					}
					return str(en.ev[src].Key), nil
				}
			}
		case "_time":
			if len(path) == 1 {
				return func(en *env) (value, error) {
					if en.ev[src] == nil {
						return null, nil
					}
					return num(float64(en.ev[src].Time.UnixMilli())), nil
				}
			}
		case "_stream":
			if len(path) == 1 {
				return func(en *env) (value, error) {
					if en.ev[src] == nil {
						return null, nil
					}
					return str(en.ev[src].Stream), nil
				}
			}
		case "_position":
			if len(path) == 1 {
				return func(en *env) (value, error) {
					if en.ev[src] == nil {
						return null, nil
					}
					return num(float64(en.ev[src].Position)), nil
				}
			}
		case "_properties":
			if len(path) == 2 {
				name := path[1]
				return func(en *env) (value, error) {
					if en.ev[src] == nil {
						return null, nil
					}
					v, ok := en.ev[src].Properties[name]
					if !ok {
						return null, nil
					}
					return str(v), nil
				}
			}
		}
	}
	return func(en *env) (value, error) {
		d := en.doc[src]
		if d == nil {
			return null, nil
		}
		return fromJSON(d.Get(path...)), nil
	}
}

// expr compiles an expression. In aggregate mode, a GROUP BY expression or
// an aggregate is read from the group; other columns are refused.
func (c *compiler) expr(n ast.ExprNode) (expr, error) {
	c.nodes++
	if c.nodes > maxExprNodes {
		return nil, c.errf("query too complex (more than %d expression nodes)", maxExprNodes)
	}
	if c.aggMode {
		txt := c.groupText(n)
		for i, g := range c.groupTexts {
			if g == txt {
				return func(en *env) (value, error) { return en.groups[i], nil }, nil
			}
		}
		if a, ok := n.(*ast.AggregateFuncExpr); ok {
			return c.aggregate(a)
		}
	}
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return c.expr(x.Expr)
	case *ast.ColumnNameExpr:
		src, path := c.resolve(x.Name)
		label := strings.Join(path, ".")
		if c.aggMode {
			return nil, c.errAt(label, "field %s must appear in GROUP BY or in an aggregate", label)
		}
		if len(path) > maxPathDepth {
			return nil, c.errAt(label, "field path deeper than %d", maxPathDepth)
		}
		for _, p := range path {
			if p == "" {
				return nil, c.errAt(label, "empty name in field path %q", label)
			}
		}
		return c.column(src, path), nil
	case *test_driver.ValueExpr:
		v, err := c.literal(x)
		if err != nil {
			return nil, err
		}
		return func(*env) (value, error) { return v, nil }, nil
	case *ast.AggregateFuncExpr:
		return nil, c.errAt(x.F, "aggregate %s is not allowed here (only in the SELECT list and HAVING)", strings.ToUpper(x.F))
	case *ast.BinaryOperationExpr:
		return c.binary(x)
	case *ast.UnaryOperationExpr:
		return c.unary(x)
	case *ast.IsNullExpr:
		e, err := c.expr(x.Expr)
		if err != nil {
			return nil, err
		}
		not := x.Not
		return func(en *env) (value, error) {
			v, err := e(en)
			if err != nil {
				return null, err
			}
			return boolean(v.isNull() != not), nil
		}, nil
	case *ast.IsTruthExpr:
		e, err := c.expr(x.Expr)
		if err != nil {
			return nil, err
		}
		want, not := x.True != 0, x.Not
		return func(en *env) (value, error) {
			v, err := e(en)
			if err != nil || v.isNull() {
				return boolean(not), err
			}
			t, err := v.truth()
			return boolean((t == want) != not), err
		}, nil
	case *ast.BetweenExpr:
		return c.betweenExpr(x)
	case *ast.PatternInExpr:
		return c.in(x)
	case *ast.PatternLikeOrIlikeExpr:
		return c.like(x)
	case *ast.CaseExpr:
		return c.caseExpr(x)
	case *ast.FuncCastExpr:
		return c.cast(x)
	case *ast.FuncCallExpr:
		return c.call(x)
	}
	return nil, c.errAt(snippet(n), "unsupported expression %s", restore(n))
}

func (c *compiler) literal(x *test_driver.ValueExpr) (value, error) {
	switch x.Kind() {
	case test_driver.KindNull:
		return null, nil
	case test_driver.KindInt64:
		return num(float64(x.GetInt64())), nil
	case test_driver.KindUint64:
		return num(float64(x.GetUint64())), nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return num(x.GetFloat64()), nil
	case test_driver.KindMysqlDecimal:
		f, err := strconv.ParseFloat(x.GetMysqlDecimal().String(), 64)
		if err != nil {
			return null, c.errAt(restore(x), "bad number %s", restore(x))
		}
		return num(f), nil
	case test_driver.KindString, test_driver.KindBytes:
		return str(x.GetString()), nil
	}
	return null, c.errAt(restore(x), "unsupported literal %s", restore(x))
}

func numberLiteral(n ast.ExprNode) (float64, bool) {
	x, ok := n.(*test_driver.ValueExpr)
	if !ok {
		return 0, false
	}
	switch x.Kind() {
	case test_driver.KindInt64:
		return float64(x.GetInt64()), true
	case test_driver.KindUint64:
		return float64(x.GetUint64()), true
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return x.GetFloat64(), true
	case test_driver.KindMysqlDecimal:
		f, err := strconv.ParseFloat(x.GetMysqlDecimal().String(), 64)
		return f, err == nil
	}
	return 0, false
}

func andAll(es []expr) expr {
	return func(en *env) (value, error) {
		for _, e := range es {
			v, err := e(en)
			if err != nil {
				return null, err
			}
			t, err := v.truth()
			if err != nil || !t {
				return boolean(false), err
			}
		}
		return boolean(true), nil
	}
}

func (c *compiler) binary(x *ast.BinaryOperationExpr) (expr, error) {
	l, err := c.expr(x.L)
	if err != nil {
		return nil, err
	}
	r, err := c.expr(x.R)
	if err != nil {
		return nil, err
	}
	op := x.Op
	switch op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		return logic(op, l, r), nil
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE, opcode.NullEQ:
		return func(en *env) (value, error) {
			a, err := l(en)
			if err != nil {
				return null, err
			}
			b, err := r(en)
			if err != nil {
				return null, err
			}
			if op == opcode.NullEQ {
				if a.isNull() || b.isNull() {
					return boolean(a.isNull() && b.isNull()), nil
				}
			} else if a.isNull() || b.isNull() {
				return null, nil
			}
			cmp, err := compare(a, b)
			if err != nil {
				return null, fmt.Errorf("%s: %w", opSymbol(op), err)
			}
			return boolean(cmpHolds(op, cmp)), nil
		}, nil
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.Mod, opcode.IntDiv:
		name := opSymbol(op)
		return func(en *env) (value, error) {
			a, err := l(en)
			if err != nil {
				return null, err
			}
			b, err := r(en)
			if err != nil {
				return null, err
			}
			fa, ok1, err := a.number(name)
			if err != nil {
				return null, err
			}
			fb, ok2, err := b.number(name)
			if err != nil || !ok1 || !ok2 {
				return null, err
			}
			return arith(op, fa, fb), nil
		}, nil
	}
	return nil, c.errAt(snippet(x), "unsupported operator %s", op.String())
}

func cmpHolds(op opcode.Op, cmp int) bool {
	switch op {
	case opcode.EQ, opcode.NullEQ:
		return cmp == 0
	case opcode.NE:
		return cmp != 0
	case opcode.LT:
		return cmp < 0
	case opcode.LE:
		return cmp <= 0
	case opcode.GT:
		return cmp > 0
	}
	return cmp >= 0
}

// arith: division by zero is NULL, as in MySQL.
func arith(op opcode.Op, a, b float64) value {
	switch op {
	case opcode.Plus:
		return num(a + b)
	case opcode.Minus:
		return num(a - b)
	case opcode.Mul:
		return num(a * b)
	case opcode.Div:
		if b == 0 {
			return null
		}
		return num(a / b)
	case opcode.Mod:
		if b == 0 {
			return null
		}
		return num(math.Mod(a, b))
	}
	if b == 0 {
		return null
	}
	return num(math.Trunc(a / b))
}

// logic is three-valued AND/OR/XOR.
func logic(op opcode.Op, l, r expr) expr {
	tri := func(en *env, e expr) (known, val bool, err error) {
		v, err := e(en)
		if err != nil || v.isNull() {
			return false, false, err
		}
		t, err := v.truth()
		return true, t, err
	}
	return func(en *env) (value, error) {
		ka, a, err := tri(en, l)
		if err != nil {
			return null, err
		}
		if op == opcode.LogicAnd && ka && !a {
			return boolean(false), nil
		}
		if op == opcode.LogicOr && ka && a {
			return boolean(true), nil
		}
		kb, b, err := tri(en, r)
		if err != nil {
			return null, err
		}
		switch op {
		case opcode.LogicAnd:
			if kb && !b {
				return boolean(false), nil
			}
			if ka && kb {
				return boolean(true), nil
			}
		case opcode.LogicOr:
			if kb && b {
				return boolean(true), nil
			}
			if ka && kb {
				return boolean(false), nil
			}
		default:
			if ka && kb {
				return boolean(a != b), nil
			}
		}
		return null, nil
	}
}

func (c *compiler) unary(x *ast.UnaryOperationExpr) (expr, error) {
	e, err := c.expr(x.V)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case opcode.Not, opcode.Not2:
		return func(en *env) (value, error) {
			v, err := e(en)
			if err != nil || v.isNull() {
				return null, err
			}
			t, err := v.truth()
			return boolean(!t), err
		}, nil
	case opcode.Minus:
		return func(en *env) (value, error) {
			v, err := e(en)
			if err != nil {
				return null, err
			}
			f, ok, err := v.number("-")
			if err != nil || !ok {
				return null, err
			}
			return num(-f), nil
		}, nil
	case opcode.Plus:
		return e, nil
	}
	return nil, c.errAt(snippet(x), "unsupported operator %s", x.Op.String())
}

func (c *compiler) betweenExpr(x *ast.BetweenExpr) (expr, error) {
	e, err := c.expr(x.Expr)
	if err != nil {
		return nil, err
	}
	lo, err := c.expr(x.Left)
	if err != nil {
		return nil, err
	}
	hi, err := c.expr(x.Right)
	if err != nil {
		return nil, err
	}
	not := x.Not
	return func(en *env) (value, error) {
		v, err := e(en)
		if err != nil {
			return null, err
		}
		a, err := lo(en)
		if err != nil {
			return null, err
		}
		b, err := hi(en)
		if err != nil {
			return null, err
		}
		if v.isNull() || a.isNull() || b.isNull() {
			return null, nil
		}
		c1, err := compare(v, a)
		if err != nil {
			return null, fmt.Errorf("BETWEEN: %w", err)
		}
		c2, err := compare(v, b)
		if err != nil {
			return null, fmt.Errorf("BETWEEN: %w", err)
		}
		return boolean((c1 >= 0 && c2 <= 0) != not), nil
	}, nil
}

func (c *compiler) in(x *ast.PatternInExpr) (expr, error) {
	if x.Sel != nil {
		return nil, c.errf("IN (subquery) is not supported")
	}
	e, err := c.expr(x.Expr)
	if err != nil {
		return nil, err
	}
	list := make([]expr, len(x.List))
	for i, it := range x.List {
		if list[i], err = c.expr(it); err != nil {
			return nil, err
		}
	}
	not := x.Not
	return func(en *env) (value, error) {
		v, err := e(en)
		if err != nil || v.isNull() {
			return null, err
		}
		sawNull := false
		for _, le := range list {
			w, err := le(en)
			if err != nil {
				return null, err
			}
			if w.isNull() {
				sawNull = true
				continue
			}
			if w.K != v.K {
				continue
			}
			if cmp, _ := compare(v, w); cmp == 0 {
				return boolean(!not), nil
			}
		}
		if sawNull {
			return null, nil
		}
		return boolean(not), nil
	}, nil
}

func (c *compiler) like(x *ast.PatternLikeOrIlikeExpr) (expr, error) {
	e, err := c.expr(x.Expr)
	if err != nil {
		return nil, err
	}
	p, err := c.expr(x.Pattern)
	if err != nil {
		return nil, err
	}
	not, fold, esc := x.Not, !x.IsLike, x.Escape
	if esc == 0 {
		esc = '\\'
	}
	return func(en *env) (value, error) {
		v, err := e(en)
		if err != nil {
			return null, err
		}
		pv, err := p(en)
		if err != nil || v.isNull() || pv.isNull() {
			return null, err
		}
		if v.K != kStr || pv.K != kStr {
			return null, fmt.Errorf("%w: LIKE wants strings, got a %s and a %s", ErrType, v.K, pv.K)
		}
		s, pat := v.S, pv.S
		if int64(len(s))*int64(len(pat)) > maxLikeWork {
			return null, fmt.Errorf("%w: LIKE of %d bytes against a pattern of %d is too costly", ErrLimit, len(s), len(pat))
		}
		if fold {
			s, pat = strings.ToLower(s), strings.ToLower(pat)
		}
		return boolean(likeMatch(s, pat, esc) != not), nil
	}, nil
}

// maxLikeWork bounds LIKE's worst case (string length times pattern length).
const maxLikeWork = 1 << 26

// likeMatch matches SQL LIKE (% any run, _ one character), iteratively.
func likeMatch(s, p string, esc byte) bool {
	sr, pr := []rune(s), []rune(p)
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			switch {
			case pr[pi] == rune(esc) && pi+1 < len(pr):
				if pr[pi+1] == sr[si] {
					si, pi = si+1, pi+2
					continue
				}
			case pr[pi] == '%':
				star, mark = pi, si
				pi++
				continue
			case pr[pi] == '_' || pr[pi] == sr[si]:
				si, pi = si+1, pi+1
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi, mark = star+1, mark+1
		si = mark
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}

func (c *compiler) caseExpr(x *ast.CaseExpr) (expr, error) {
	var subject expr
	var err error
	if x.Value != nil {
		if subject, err = c.expr(x.Value); err != nil {
			return nil, err
		}
	}
	type arm struct{ when, then expr }
	arms := make([]arm, len(x.WhenClauses))
	for i, w := range x.WhenClauses {
		if arms[i].when, err = c.expr(w.Expr); err != nil {
			return nil, err
		}
		if arms[i].then, err = c.expr(w.Result); err != nil {
			return nil, err
		}
	}
	var els expr
	if x.ElseClause != nil {
		if els, err = c.expr(x.ElseClause); err != nil {
			return nil, err
		}
	}
	return func(en *env) (value, error) {
		var sv value
		if subject != nil {
			v, err := subject(en)
			if err != nil {
				return null, err
			}
			sv = v
		}
		for _, a := range arms {
			w, err := a.when(en)
			if err != nil {
				return null, err
			}
			var hit bool
			if subject != nil {
				if !sv.isNull() && !w.isNull() && sv.K == w.K {
					cmp, _ := compare(sv, w)
					hit = cmp == 0
				}
			} else if hit, err = w.truth(); err != nil {
				return null, fmt.Errorf("CASE WHEN: %w", err)
			}
			if hit {
				return a.then(en)
			}
		}
		if els != nil {
			return els(en)
		}
		return null, nil
	}, nil
}

// opSymbol is an operator as written in SQL, for messages.
func opSymbol(op opcode.Op) string {
	switch op {
	case opcode.EQ:
		return "="
	case opcode.NE:
		return "<>"
	case opcode.LT:
		return "<"
	case opcode.LE:
		return "<="
	case opcode.GT:
		return ">"
	case opcode.GE:
		return ">="
	case opcode.NullEQ:
		return "<=>"
	case opcode.Plus:
		return "+"
	case opcode.Minus:
		return "-"
	case opcode.Mul:
		return "*"
	case opcode.Div:
		return "/"
	case opcode.Mod:
		return "%"
	case opcode.IntDiv:
		return "DIV"
	}
	return op.String()
}
