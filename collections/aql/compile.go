package aql

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/causeway/causeway/collections"
)

// compiler turns participle's tree into pipelines of statements.
type compiler struct {
	q        *Query
	slots    int
	nodes    int
	modified map[string]bool // collections written so far (static names)
}

// scope is the variables visible in one pipeline, then its parents'.
type scope struct {
	vars   map[string]int
	order  []string // declaration order (COLLECT INTO's objects)
	parent *scope
}

func (s *scope) lookup(name string) (int, bool) {
	for ; s != nil; s = s.parent {
		if slot, ok := s.vars[name]; ok {
			return slot, true
		}
	}
	return 0, false
}

func (c *compiler) declare(s *scope, name string) (int, error) {
	if _, ok := s.lookup(name); ok {
		return 0, badQuery(NumVariableRedeclared, "variable '%s' is assigned multiple times", name)
	}
	slot := c.slots
	c.slots++
	s.vars[name] = slot
	s.order = append(s.order, name)
	return slot, nil
}

func (c *compiler) count() error {
	c.nodes++
	if c.nodes > maxExprNodes {
		return badQuery(NumResourceLimit, "query has more than %d expression nodes", maxExprNodes)
	}
	return nil
}

// pipeline is a sequence of statements (a query or subquery) ending with
// RETURN or a data modification.
type pipeline struct {
	stmts []stmt
	ret   *returnStmt
}

func (c *compiler) pipeline(g *gQuery, parent *scope, depth int) (*pipeline, error) {
	if depth > maxSubqueryDepth {
		return nil, badQuery(NumResourceLimit, "subqueries nested more than %d deep", maxSubqueryDepth)
	}
	if len(g.With) > 0 && (parent != nil || depth > 0) {
		return nil, badQuery(NumQueryParse, "WITH is only allowed at the start of the query")
	}
	s := &scope{vars: map[string]int{}, parent: parent}
	p := &pipeline{}
	for i, gs := range g.Stmts {
		last := i == len(g.Stmts)-1
		st, err := c.stmt(gs, s, depth)
		if err != nil {
			return nil, err
		}
		if r, ok := st.(*returnStmt); ok {
			if !last {
				return nil, badQuery(NumQueryParse, "syntax error, unexpected statement after RETURN at position %d:%d", g.Stmts[i+1].Pos.Line, g.Stmts[i+1].Pos.Column)
			}
			p.ret = r
			continue
		}
		if last {
			if _, ok := st.(*modifyStmt); !ok {
				return nil, badQuery(NumQueryParse, "syntax error, the query must end with RETURN or a data-modification statement")
			}
		}
		p.stmts = append(p.stmts, st)
	}
	c.pushDownFilters(p)
	for i, st := range p.stmts {
		if srt, ok := st.(*sortStmt); ok && i+1 < len(p.stmts) {
			srt.limit, _ = p.stmts[i+1].(*limitStmt)
		}
	}
	keySort(p)
	return p, nil
}

func (c *compiler) stmt(g *gStmt, s *scope, depth int) (stmt, error) {
	switch {
	case g.For != nil:
		return c.forStmt(g.For, s, depth)
	case g.Let != nil:
		v, err := c.expr(g.Let.Value, s, depth)
		if err != nil {
			return nil, err
		}
		slot, err := c.declare(s, g.Let.Name)
		if err != nil {
			return nil, err
		}
		return &letStmt{slot: slot, e: v}, nil
	case g.Filter != nil:
		v, err := c.expr(g.Filter, s, depth)
		if err != nil {
			return nil, err
		}
		return &filterStmt{e: v}, nil
	case g.Sort != nil:
		st := &sortStmt{}
		for _, t := range g.Sort.Terms {
			v, err := c.expr(t.Expr, s, depth)
			if err != nil {
				return nil, err
			}
			st.terms = append(st.terms, sortTerm{e: v, desc: strings.EqualFold(t.Dir, "DESC")})
		}
		return st, nil
	case g.Limit != nil:
		a, err := c.expr(g.Limit.First, s, depth)
		if err != nil {
			return nil, err
		}
		st := &limitStmt{count: a, top: depth == 0}
		if g.Limit.Count != nil {
			b, err := c.expr(g.Limit.Count, s, depth)
			if err != nil {
				return nil, err
			}
			st.offset, st.count = a, b
		}
		return st, nil
	case g.Collect != nil:
		return c.collectStmt(g.Collect, s, depth)
	case g.Return != nil:
		v, err := c.expr(g.Return.Value, s, depth)
		if err != nil {
			return nil, err
		}
		return &returnStmt{e: v, distinct: g.Return.Distinct}, nil
	}
	return c.modifyStmt(g, s, depth)
}

func (c *compiler) forStmt(g *gFor, s *scope, depth int) (stmt, error) {
	if len(g.Vars) > 1 {
		return nil, errorf(NumNotImplemented, 501, "FOR with %d variables (graph traversals and views) is not supported yet", len(g.Vars))
	}
	if g.Opts != nil {
		return nil, errorf(NumNotImplemented, 501, "FOR ... OPTIONS is not supported yet")
	}
	st := &forStmt{}
	// A bare name that is not a variable, or @@param, names a collection.
	if name, ok := bareName(g.In); ok {
		if _, isVar := s.lookup(name); !isVar {
			ref, err := c.collection(name)
			if err != nil {
				return nil, err
			}
			st.coll = &ref
		}
	}
	if st.coll == nil {
		v, err := c.expr(g.In, s, depth)
		if err != nil {
			return nil, err
		}
		st.src = v
	}
	if st.coll != nil && st.coll.param == "" && c.modified[st.coll.name] {
		return nil, badQuery(NumAccessAfterModify, "access after data-modification by collection '%s'", st.coll.name)
	}
	slot, err := c.declare(s, g.Vars[0])
	if err != nil {
		return nil, err
	}
	st.slot = slot
	st.name = g.Vars[0]
	return st, nil
}

// bareName returns the identifier or @@param an expression consists of.
func bareName(g *gExpr) (string, bool) {
	if g.Then != nil || len(g.Cond.Right) > 0 || len(g.Cond.Left.Right) > 0 {
		return "", false
	}
	eq := g.Cond.Left.Left
	if len(eq.Right) > 0 || len(eq.Left.Right) > 0 || len(eq.Left.Left.Right) > 0 {
		return "", false
	}
	rg := eq.Left.Left.Left
	if rg.To != nil || len(rg.Left.Right) > 0 || len(rg.Left.Left.Right) > 0 {
		return "", false
	}
	u := rg.Left.Left.Left
	if u.Postfix == nil || len(u.Postfix.Suffix) > 0 {
		return "", false
	}
	p := u.Postfix.Primary
	switch {
	case p.Ident != nil:
		return unquoteIdent(*p.Ident), true
	case p.BindColl != nil:
		return *p.BindColl, true
	}
	return "", false
}

// collection records a collection name (or @@param) the query uses.
func (c *compiler) collection(name string) (collRef, error) {
	if strings.HasPrefix(name, "@@") {
		p := name[1:] // "@name": the bindVars key
		c.q.addParam(p)
		return collRef{param: p}, nil
	}
	if err := collections.ValidateCollectionName(name); err != nil {
		return collRef{}, badQuery(NumCollectionNotFound, "collection or view not found: %s", name)
	}
	if !slices.Contains(c.q.collections, name) {
		c.q.collections = append(c.q.collections, name)
	}
	return collRef{name: name}, nil
}

func unquoteIdent(s string) string {
	if strings.HasPrefix(s, "`") || strings.HasPrefix(s, "´") {
		s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "`"), "´"), "`")
		s = strings.TrimSuffix(s, "´")
		return strings.ReplaceAll(strings.ReplaceAll(s, "\\`", "`"), "\\\\", "\\")
	}
	return s
}

func (c *compiler) collectStmt(g *gCollect, s *scope, depth int) (stmt, error) {
	if g.Opts != nil {
		if _, err := c.expr(g.Opts, s, depth); err != nil { // accepted (method hints), not acted on
			return nil, err
		}
	}
	st := &collectStmt{countSlot: -1, intoSlot: -1}
	for _, a := range g.Groups {
		v, err := c.expr(a.Value, s, depth)
		if err != nil {
			return nil, err
		}
		st.groups = append(st.groups, assign{name: a.Name, e: v})
	}
	for _, a := range g.Aggregate {
		call, ok := aggregateCall(a.Value)
		if !ok {
			return nil, badQuery(NumQueryParse, "AGGREGATE %s: want an aggregate function call such as SUM(expr)", a.Name)
		}
		kind, ok := aggregates[strings.ToUpper(call.Name)]
		if !ok || len(call.Args) != 1 {
			return nil, badQuery(NumFunctionUnknown, "AGGREGATE %s: unknown aggregate function %s() with %d arguments (use LENGTH, COUNT, SUM, AVG, MIN, MAX, COUNT_DISTINCT, UNIQUE, SORTED_UNIQUE, PUSH)", a.Name, call.Name, len(call.Args))
		}
		v, err := c.expr(call.Args[0], s, depth)
		if err != nil {
			return nil, err
		}
		st.aggs = append(st.aggs, aggregate{name: a.Name, kind: kind, e: v})
	}
	if g.Into != nil {
		if g.Into.Expr != nil {
			v, err := c.expr(g.Into.Expr, s, depth)
			if err != nil {
				return nil, err
			}
			st.into = v
		} else {
			for _, name := range s.order {
				if len(g.Into.Keep) > 0 && !slices.Contains(g.Into.Keep, name) {
					continue
				}
				st.intoVars = append(st.intoVars, assign{name: name, e: &varExpr{slot: s.vars[name], name: name}})
			}
			for _, k := range g.Into.Keep {
				if _, ok := s.vars[k]; !ok {
					return nil, badQuery(NumVariableUnknown, "unknown variable '%s' in KEEP", k)
				}
			}
		}
	}
	// After COLLECT only its own variables (and outer queries') are visible.
	s.vars, s.order = map[string]int{}, nil
	for i := range st.groups {
		slot, err := c.declare(s, st.groups[i].name)
		if err != nil {
			return nil, err
		}
		st.groups[i].slot = slot
	}
	for i := range st.aggs {
		slot, err := c.declare(s, st.aggs[i].name)
		if err != nil {
			return nil, err
		}
		st.aggs[i].slot = slot
	}
	if g.Into != nil {
		slot, err := c.declare(s, g.Into.Name)
		if err != nil {
			return nil, err
		}
		st.intoSlot = slot
	}
	if g.CountInto != "" {
		slot, err := c.declare(s, g.CountInto)
		if err != nil {
			return nil, err
		}
		st.countSlot = slot
	}
	if len(st.groups) == 0 && len(st.aggs) == 0 && st.countSlot < 0 {
		return nil, badQuery(NumQueryParse, "syntax error, COLLECT needs a group, AGGREGATE or WITH COUNT INTO")
	}
	return st, nil
}

// aggregateCall returns the function call an AGGREGATE expression is.
func aggregateCall(g *gExpr) (*gCall, bool) {
	if g.Then != nil || len(g.Cond.Right) > 0 || len(g.Cond.Left.Right) > 0 {
		return nil, false
	}
	eq := g.Cond.Left.Left
	if len(eq.Right) > 0 || len(eq.Left.Right) > 0 || len(eq.Left.Left.Right) > 0 {
		return nil, false
	}
	rg := eq.Left.Left.Left
	if rg.To != nil || len(rg.Left.Right) > 0 || len(rg.Left.Left.Right) > 0 {
		return nil, false
	}
	u := rg.Left.Left.Left
	if u.Postfix == nil || len(u.Postfix.Suffix) > 0 || u.Postfix.Primary.Call == nil {
		return nil, false
	}
	return u.Postfix.Primary.Call, true
}

// Expressions.

func (c *compiler) expr(g *gExpr, s *scope, depth int) (expr, error) {
	if err := c.count(); err != nil {
		return nil, err
	}
	if depth > maxExprDepth {
		return nil, badQuery(NumResourceLimit, "expression nested more than %d deep", maxExprDepth)
	}
	cond, err := c.or(g.Cond, s, depth)
	if err != nil {
		return nil, err
	}
	if g.Then == nil {
		return cond, nil
	}
	t := &ternaryExpr{cond: cond}
	if g.Then.Then != nil {
		if t.then, err = c.expr(g.Then.Then, s, depth+1); err != nil {
			return nil, err
		}
	}
	if t.els, err = c.expr(g.Then.Else, s, depth+1); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *compiler) or(g *gOr, s *scope, depth int) (expr, error) {
	l, err := c.and(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.and(r, s, depth)
		if err != nil {
			return nil, err
		}
		l = &logicExpr{l: l, r: re}
	}
	return l, nil
}

func (c *compiler) and(g *gAnd, s *scope, depth int) (expr, error) {
	l, err := c.eq(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.eq(r, s, depth)
		if err != nil {
			return nil, err
		}
		l = &logicExpr{and: true, l: l, r: re}
	}
	return l, nil
}

func (c *compiler) eq(g *gEq, s *scope, depth int) (expr, error) {
	l, err := c.in(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.in(r.Right, s, depth)
		if err != nil {
			return nil, err
		}
		if l, err = eqOp(r.Not, r.Op, l, re); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func eqOp(not bool, op string, l, r expr) (expr, error) {
	var b *binExpr
	switch {
	case not:
		b = &binExpr{op: opNotLike, l: l, r: r}
	case strings.EqualFold(op, "LIKE"):
		b = &binExpr{op: opLike, l: l, r: r}
	default:
		b = &binExpr{op: binOps[op], l: l, r: r}
	}
	if b.op == opRegex || b.op == opNotRegex {
		if lit, ok := r.(*litExpr); ok {
			re, err := compileRegex(toString(lit.v), false)
			if err != nil {
				return nil, err
			}
			b.re = re
		}
	}
	return b, nil
}

func (c *compiler) in(g *gIn, s *scope, depth int) (expr, error) {
	l, err := c.rel(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.rel(r.Right, s, depth)
		if err != nil {
			return nil, err
		}
		op := opIn
		if r.Not {
			op = opNotIn
		}
		l = &binExpr{op: op, l: l, r: re}
	}
	return l, nil
}

func (c *compiler) rel(g *gRel, s *scope, depth int) (expr, error) {
	l, err := c.rangeExpr(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.rangeExpr(r.Right, s, depth)
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: binOps[r.Op], l: l, r: re}
	}
	return l, nil
}

func (c *compiler) rangeExpr(g *gRange, s *scope, depth int) (expr, error) {
	l, err := c.add(g.Left, s, depth)
	if err != nil || g.To == nil {
		return l, err
	}
	r, err := c.add(g.To, s, depth)
	if err != nil {
		return nil, err
	}
	return &rangeExpr{from: l, to: r}, nil
}

func (c *compiler) add(g *gAdd, s *scope, depth int) (expr, error) {
	l, err := c.mul(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.mul(r.Right, s, depth)
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: binOps[r.Op], l: l, r: re}
	}
	return l, nil
}

func (c *compiler) mul(g *gMul, s *scope, depth int) (expr, error) {
	l, err := c.unary(g.Left, s, depth)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := c.unary(r.Right, s, depth)
		if err != nil {
			return nil, err
		}
		l = &binExpr{op: binOps[r.Op], l: l, r: re}
	}
	return l, nil
}

func (c *compiler) unary(g *gUnary, s *scope, depth int) (expr, error) {
	if err := c.count(); err != nil {
		return nil, err
	}
	if g.Postfix != nil {
		return c.postfix(g.Postfix, s, depth)
	}
	if depth > maxExprDepth {
		return nil, badQuery(NumResourceLimit, "expression nested more than %d deep", maxExprDepth)
	}
	x, err := c.unary(g.Operand, s, depth+1)
	if err != nil {
		return nil, err
	}
	switch g.Op {
	case "-":
		return &negExpr{x: x, neg: true}, nil
	case "+":
		return &negExpr{x: x}, nil
	}
	return &notExpr{x: x}, nil
}

func (c *compiler) postfix(g *gPostfix, s *scope, depth int) (expr, error) {
	base, err := c.primary(g.Primary, s, depth)
	if err != nil {
		return nil, err
	}
	return c.suffixes(base, g.Suffix, s, depth)
}

func (c *compiler) suffixes(base expr, sfx []*gSuffix, s *scope, depth int) (expr, error) {
	for i, sf := range sfx {
		if err := c.count(); err != nil {
			return nil, err
		}
		switch {
		case sf.Attr != nil:
			base = &attrExpr{base: base, name: unquoteIdent(*sf.Attr)}
		case sf.Bind != nil:
			name := (*sf.Bind)[1:]
			c.q.addParam(name)
			base = &indexExpr{base: base, index: &paramExpr{name: name}}
		case sf.Expand:
			each, err := c.suffixes(itemExpr{}, sfx[i+1:], s, depth)
			if err != nil {
				return nil, err
			}
			if _, plain := each.(itemExpr); plain {
				each = nil
			}
			return &expandExpr{base: base, each: each}, nil
		default:
			idx, err := c.expr(sf.Index, s, depth+1)
			if err != nil {
				return nil, err
			}
			base = &indexExpr{base: base, index: idx}
		}
	}
	return base, nil
}

func (c *compiler) primary(g *gPrimary, s *scope, depth int) (expr, error) {
	switch {
	case g.Call != nil:
		return c.call(g.Call, s, depth)
	case g.Number != nil:
		f, err := parseNumber(*g.Number)
		if err != nil {
			return nil, badQuery(NumNumberOutOfRange, "number %s out of range at position %d:%d", *g.Number, g.Pos.Line, g.Pos.Column)
		}
		return &litExpr{v: f}, nil
	case g.String != nil:
		str, err := unquoteString(*g.String)
		if err != nil {
			return nil, badQuery(NumQueryParse, "syntax error, bad string at position %d:%d: %v", g.Pos.Line, g.Pos.Column, err)
		}
		return &litExpr{v: str}, nil
	case g.Bind != nil:
		name := (*g.Bind)[1:]
		c.q.addParam(name)
		return &paramExpr{name: name}, nil
	case g.BindColl != nil:
		ref, err := c.collection(*g.BindColl)
		if err != nil {
			return nil, err
		}
		return &collectionExpr{coll: ref}, nil
	case g.True:
		return &litExpr{v: true}, nil
	case g.False:
		return &litExpr{v: false}, nil
	case g.Null:
		return &litExpr{v: nil}, nil
	case g.Array != nil:
		a := &arrayExpr{}
		for _, it := range g.Array.Items {
			v, err := c.expr(it, s, depth+1)
			if err != nil {
				return nil, err
			}
			a.items = append(a.items, v)
		}
		return a, nil
	case g.Object != nil:
		return c.object(g.Object, s, depth)
	case g.Sub != nil:
		p, err := c.pipeline(g.Sub, s, depth+1)
		if err != nil {
			return nil, err
		}
		return &subqueryExpr{p: p}, nil
	case g.Paren != nil:
		return c.expr(g.Paren, s, depth+1)
	}
	name := unquoteIdent(*g.Ident)
	if slot, ok := s.lookup(name); ok {
		return &varExpr{slot: slot, name: name}, nil
	}
	switch strings.ToUpper(name) {
	case "OLD", "NEW":
		return nil, badQuery(NumVariableUnknown, "unknown variable '%s' (OLD and NEW exist after a data-modification statement)", name)
	}
	ref, err := c.collection(name)
	if err != nil {
		return nil, badQuery(NumVariableUnknown, "unknown variable '%s'", name)
	}
	return &collectionExpr{coll: ref}, nil
}

func (c *compiler) object(g *gObject, s *scope, depth int) (expr, error) {
	o := &objectExpr{}
	seen := map[string]bool{}
	for _, m := range g.Members {
		var mb member
		switch {
		case m.Computed != nil:
			v, err := c.expr(m.Computed, s, depth+1)
			if err != nil {
				return nil, err
			}
			mb.computed = v
		case m.Bind != nil:
			name := (*m.Bind)[1:]
			c.q.addParam(name)
			mb.computed = &paramExpr{name: name}
		case m.Str != nil:
			str, err := unquoteString(*m.Str)
			if err != nil {
				return nil, badQuery(NumQueryParse, "syntax error, bad string at position %d:%d", m.Pos.Line, m.Pos.Column)
			}
			mb.name = str
		default:
			mb.name = unquoteIdent(*m.Name)
		}
		if m.Value == nil {
			// Shorthand {a}: the variable a.
			if m.Name == nil {
				return nil, badQuery(NumQueryParse, "syntax error, object member without a value at position %d:%d", m.Pos.Line, m.Pos.Column)
			}
			slot, ok := s.lookup(mb.name)
			if !ok {
				return nil, badQuery(NumVariableUnknown, "unknown variable '%s'", mb.name)
			}
			mb.value = &varExpr{slot: slot, name: mb.name}
		} else {
			v, err := c.expr(m.Value, s, depth+1)
			if err != nil {
				return nil, err
			}
			mb.value = v
		}
		if mb.computed == nil {
			if seen[mb.name] {
				continue // the first value of a repeated name wins, as in ArangoDB
			}
			seen[mb.name] = true
		}
		o.members = append(o.members, mb)
	}
	return o, nil
}

func (c *compiler) call(g *gCall, s *scope, depth int) (expr, error) {
	name := strings.ToUpper(g.Name)
	fn, ok := functions[name]
	if !ok {
		return nil, badQuery(NumFunctionUnknown, "usage of unknown function '%s()'", g.Name)
	}
	if len(g.Args) < fn.min || (fn.max >= 0 && len(g.Args) > fn.max) {
		return nil, badQuery(NumFunctionArgCount, "invalid number of arguments for function '%s()', expected %s", name, fn.arity())
	}
	if fn.impl == nil {
		return nil, errorf(NumNotImplemented, 501, "function %s() is not supported: %s", name, fn.why)
	}
	call := &callExpr{fn: fn, name: name}
	for i, a := range g.Args {
		v, err := c.expr(a, s, depth+1)
		if err != nil {
			return nil, err
		}
		// DOCUMENT(coll, key): a bare collection name is the name.
		if ce, ok := v.(*collectionExpr); ok && name == "DOCUMENT" && i == 0 && len(g.Args) == 2 {
			if ce.coll.param != "" {
				v = &paramExpr{name: ce.coll.param}
			} else {
				v = &litExpr{v: ce.coll.name}
			}
		}
		call.args = append(call.args, v)
	}
	if name == "RAND" {
		c.q.random = true
	}
	return call, nil
}

func parseNumber(s string) (float64, error) {
	switch {
	case len(s) > 2 && (s[1] == 'x' || s[1] == 'X'):
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(n), err
	case len(s) > 2 && (s[1] == 'b' || s[1] == 'B'):
		n, err := strconv.ParseUint(s[2:], 2, 64)
		return float64(n), err
	}
	return strconv.ParseFloat(s, 64)
}

// unquoteString reads a '...' or "..." literal with JSON-like escapes.
func unquoteString(s string) (string, error) {
	if len(s) < 2 {
		return "", strconv.ErrSyntax
	}
	body := s[1 : len(s)-1]
	if !strings.Contains(body, `\`) {
		return body, nil
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if ch != '\\' || i+1 >= len(body) {
			b.WriteByte(ch)
			continue
		}
		i++
		switch e := body[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(body) {
				return "", strconv.ErrSyntax
			}
			var r string
			if err := json.Unmarshal([]byte(`"\u`+body[i+1:i+5]+`"`), &r); err != nil {
				return "", err
			}
			b.WriteString(r)
			i += 4
		default:
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}
