package query

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// aggKind is an aggregate function (aggNone for a plain path field).
type aggKind uint8

const (
	aggNone aggKind = iota
	aggCount
	aggSum
	aggAvg
	aggMin
	aggMax
)

var aggNames = map[string]aggKind{"count": aggCount, "sum": aggSum, "avg": aggAvg, "min": aggMin, "max": aggMax}

// field is one item of the SELECT list.
type field struct {
	name string
	path []string // the path of a plain field, or the aggregate's argument (nil: COUNT(*))
	agg  aggKind
}

// orderTerm is one ORDER BY term. In a plain query it sorts by path; in an
// aggregate query by the output column out (index into fields, or
// len(fields)+i for the i-th GROUP BY value).
type orderTerm struct {
	path []string
	out  int
	desc bool
}

// Query is a parsed SELECT, not yet bound to parameter values. It is
// immutable and safe to share (saved queries are parsed once).
type Query struct {
	// Collection is the collection named in FROM.
	Collection string
	text       string
	star       bool
	fields     []field
	where      cond
	groupBy    [][]string
	orderBy    []orderTerm
	aggregate  bool
	limit      *operand
	offset     *operand
	// slots: parameter names by slot ("" for positional), positional count.
	slots      []string
	positional int
}

// Text returns the query text as given.
func (q *Query) Text() string { return q.text }

// Parse parses one SELECT statement of the supported subset.
func Parse(text string) (*Query, error) {
	if len(text) > MaxQueryBytes {
		return nil, fmt.Errorf("%w: query of %d bytes exceeds %d", ErrUnsupported, len(text), MaxQueryBytes)
	}
	stmts, err := parseSQL(text)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%w: want exactly one statement, got %d", ErrUnsupported, len(stmts))
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok {
		return nil, fmt.Errorf("%w: only SELECT statements are supported", ErrUnsupported)
	}
	p := &translator{text: text, q: &Query{text: text}, named: map[string]int{}}
	if err := p.selectStmt(sel); err != nil {
		return nil, err
	}
	return p.q, nil
}

// parseSQL runs the TiDB parser, turning a panic inside it into a syntax
// error (outside input must never crash the node).
func parseSQL(text string) (stmts []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmts, err = nil, fmt.Errorf("%w: parser failure: %v", ErrSyntax, r)
		}
	}()
	stmts, _, err = parser.New().ParseSQL(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrSyntax, strings.TrimSpace(err.Error()))
	}
	return stmts, nil
}

// translator turns the TiDB AST into the package's own form.
type translator struct {
	text   string
	q      *Query
	alias  string
	named  map[string]int
	params map[*test_driver.ParamMarkerExpr]int // positional order
	nodes  int
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

func (p *translator) selectStmt(sel *ast.SelectStmt) error {
	switch {
	case sel.Kind != ast.SelectStmtKindSelect:
		return unsupported("only SELECT ... FROM is supported")
	case sel.Distinct:
		return unsupported("DISTINCT (use GROUP BY)")
	case sel.Having != nil:
		return unsupported("HAVING")
	case len(sel.WindowSpecs) > 0:
		return unsupported("window functions")
	case sel.With != nil:
		return unsupported("WITH")
	case sel.SelectIntoOpt != nil:
		return unsupported("SELECT INTO")
	case sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone:
		return unsupported("locking reads")
	case sel.AfterSetOperator != nil:
		return unsupported("UNION, EXCEPT and INTERSECT")
	case sel.From == nil:
		return unsupported("a query needs FROM collection")
	}
	p.collectParams(sel)
	if err := p.from(sel.From); err != nil {
		return err
	}
	if err := p.groupBy(sel.GroupBy); err != nil {
		return err
	}
	if err := p.fieldList(sel.Fields); err != nil {
		return err
	}
	if sel.Where != nil {
		c, err := p.cond(sel.Where, 0)
		if err != nil {
			return err
		}
		p.q.where = c
	}
	if err := p.orderBy(sel.OrderBy); err != nil {
		return err
	}
	return p.limit(sel.Limit)
}

// collectParams numbers the ? markers by their position in the text.
type paramCollector struct {
	found []*test_driver.ParamMarkerExpr
}

func (c *paramCollector) Enter(n ast.Node) (ast.Node, bool) {
	if pm, ok := n.(*test_driver.ParamMarkerExpr); ok {
		c.found = append(c.found, pm)
	}
	return n, false
}

func (c *paramCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (p *translator) collectParams(sel *ast.SelectStmt) {
	var c paramCollector
	sel.Accept(&c)
	slices.SortFunc(c.found, func(a, b *test_driver.ParamMarkerExpr) int { return a.Offset - b.Offset })
	p.params = make(map[*test_driver.ParamMarkerExpr]int, len(c.found))
	for i, pm := range c.found {
		p.params[pm] = i
	}
	p.q.positional = len(c.found)
	p.q.slots = make([]string, len(c.found))
}

func (p *translator) from(refs *ast.TableRefsClause) error {
	j := refs.TableRefs
	if j == nil || j.Right != nil {
		return unsupported("joins (query one collection)")
	}
	ts, ok := j.Left.(*ast.TableSource)
	if !ok {
		return unsupported("FROM must name one collection")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return unsupported("subqueries in FROM")
	}
	if tn.Schema.O != "" {
		return unsupported("qualified collection name %s.%s", tn.Schema.O, tn.Name.O)
	}
	p.q.Collection = tn.Name.O
	p.alias = ts.AsName.O
	return nil
}

// path resolves a column reference to an attribute path: a leading
// collection name or alias is dropped, and each name is split at dots.
func (p *translator) path(c *ast.ColumnName) ([]string, error) {
	var parts []string
	for _, s := range []string{c.Schema.O, c.Table.O, c.Name.O} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) > 1 && (parts[0] == p.q.Collection || (p.alias != "" && parts[0] == p.alias)) {
		parts = parts[1:]
	}
	var out []string
	for _, s := range parts {
		for name := range strings.SplitSeq(s, ".") {
			if name == "" {
				return nil, unsupported("empty attribute name in %q", strings.Join(parts, "."))
			}
			out = append(out, name)
		}
	}
	if len(out) > maxPathDepth {
		return nil, unsupported("attribute path deeper than %d", maxPathDepth)
	}
	return out, nil
}

func (p *translator) columnPath(e ast.ExprNode) ([]string, bool, error) {
	for {
		pe, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			break
		}
		e = pe.Expr
	}
	c, ok := e.(*ast.ColumnNameExpr)
	if !ok {
		return nil, false, nil
	}
	path, err := p.path(c.Name)
	return path, true, err
}

func (p *translator) groupBy(g *ast.GroupByClause) error {
	if g == nil {
		return nil
	}
	if len(g.Items) > maxFields || g.Rollup {
		return unsupported("GROUP BY with more than %d terms or WITH ROLLUP", maxFields)
	}
	for _, it := range g.Items {
		path, ok, err := p.columnPath(it.Expr)
		if err != nil {
			return err
		}
		if !ok {
			return unsupported("GROUP BY takes attribute paths")
		}
		p.q.groupBy = append(p.q.groupBy, path)
	}
	p.q.aggregate = true
	return nil
}

func (p *translator) fieldList(fl *ast.FieldList) error {
	if fl == nil || len(fl.Fields) == 0 {
		return unsupported("empty SELECT list")
	}
	if len(fl.Fields) > maxFields {
		return unsupported("more than %d fields", maxFields)
	}
	names := map[string]bool{}
	for _, f := range fl.Fields {
		if f.WildCard != nil {
			if len(fl.Fields) != 1 {
				return unsupported("* with other fields")
			}
			if t := f.WildCard.Table.O; f.WildCard.Schema.O != "" || (t != "" && t != p.q.Collection && t != p.alias) {
				return unsupported("%s.* of another collection", t)
			}
			p.q.star = true
			continue
		}
		fd, err := p.field(f)
		if err != nil {
			return err
		}
		if names[fd.name] {
			return unsupported("two fields named %q (use AS)", fd.name)
		}
		names[fd.name] = true
		p.q.fields = append(p.q.fields, fd)
	}
	if p.q.star && p.q.aggregate {
		return unsupported("SELECT * with GROUP BY")
	}
	if !p.q.aggregate {
		return nil
	}
	// Plain fields of an aggregate query must be grouped.
	for _, fd := range p.q.fields {
		if fd.agg == aggNone && !slices.ContainsFunc(p.q.groupBy, func(g []string) bool { return slices.Equal(g, fd.path) }) {
			return unsupported("field %s must appear in GROUP BY or in an aggregate", strings.Join(fd.path, "."))
		}
	}
	return nil
}

func (p *translator) field(f *ast.SelectField) (field, error) {
	if path, ok, err := p.columnPath(f.Expr); ok || err != nil {
		fd := field{name: strings.Join(path, "."), path: path}
		if f.AsName.O != "" {
			fd.name = f.AsName.O
		}
		return fd, err
	}
	agg, ok := f.Expr.(*ast.AggregateFuncExpr)
	if !ok {
		return field{}, unsupported("SELECT list items must be attribute paths or aggregates")
	}
	fd, err := p.aggregate(agg)
	if err != nil {
		return field{}, err
	}
	if f.AsName.O != "" {
		fd.name = f.AsName.O
	}
	p.q.aggregate = true
	return fd, nil
}

func (p *translator) aggregate(a *ast.AggregateFuncExpr) (field, error) {
	kind, ok := aggNames[strings.ToLower(a.F)]
	if !ok {
		return field{}, unsupported("aggregate %s", a.F)
	}
	if a.Distinct || a.Order != nil || len(a.Args) != 1 {
		return field{}, unsupported("%s takes one argument, without DISTINCT", strings.ToUpper(a.F))
	}
	fname := strings.ToUpper(a.F)
	if kind == aggCount {
		if v, ok := a.Args[0].(*test_driver.ValueExpr); ok && v.Kind() != test_driver.KindNull {
			return field{name: "COUNT(*)", agg: aggCount}, nil // COUNT(*), COUNT(1)
		}
	}
	path, ok, err := p.columnPath(a.Args[0])
	if err != nil {
		return field{}, err
	}
	if !ok {
		return field{}, unsupported("%s takes an attribute path", fname)
	}
	return field{name: fname + "(" + strings.Join(path, ".") + ")", path: path, agg: kind}, nil
}

func (p *translator) orderBy(o *ast.OrderByClause) error {
	if o == nil {
		return nil
	}
	if len(o.Items) > maxFields {
		return unsupported("ORDER BY with more than %d terms", maxFields)
	}
	for _, it := range o.Items {
		t, err := p.orderTerm(it.Expr)
		if err != nil {
			return err
		}
		t.desc = it.Desc
		p.q.orderBy = append(p.q.orderBy, t)
	}
	return nil
}

func (p *translator) orderTerm(e ast.ExprNode) (orderTerm, error) {
	if agg, ok := e.(*ast.AggregateFuncExpr); ok {
		fd, err := p.aggregate(agg)
		if err != nil {
			return orderTerm{}, err
		}
		for i, f := range p.q.fields {
			if f.agg == fd.agg && slices.Equal(f.path, fd.path) {
				return orderTerm{out: i}, nil
			}
		}
		return orderTerm{}, unsupported("ORDER BY %s: select it too", fd.name)
	}
	path, ok, err := p.columnPath(e)
	if err != nil {
		return orderTerm{}, err
	}
	if !ok {
		return orderTerm{}, unsupported("ORDER BY takes attribute paths, output names or selected aggregates")
	}
	name := strings.Join(path, ".")
	if !p.q.aggregate {
		for _, f := range p.q.fields {
			if f.name == name {
				return orderTerm{path: f.path, out: -1}, nil
			}
		}
		return orderTerm{path: path, out: -1}, nil
	}
	for i, f := range p.q.fields {
		if f.name == name {
			return orderTerm{out: i}, nil
		}
	}
	for i, g := range p.q.groupBy {
		if slices.Equal(g, path) {
			return orderTerm{out: len(p.q.fields) + i}, nil
		}
	}
	return orderTerm{}, unsupported("ORDER BY %s: not a selected field or GROUP BY path", name)
}

func (p *translator) limit(l *ast.Limit) error {
	if l == nil {
		return nil
	}
	for _, part := range []struct {
		e   ast.ExprNode
		dst **operand
	}{{l.Count, &p.q.limit}, {l.Offset, &p.q.offset}} {
		if part.e == nil {
			continue
		}
		o, err := p.operand(part.e)
		if err != nil {
			return err
		}
		if o.kind == operandPath {
			return unsupported("LIMIT and OFFSET take numbers or parameters")
		}
		if o.kind == operandLiteral {
			if _, err := count(o.lit); err != nil {
				return err
			}
		}
		*part.dst = &o
	}
	return nil
}

// count accepts a non-negative integer value (for LIMIT and OFFSET).
func count(v any) (int64, error) {
	f, ok := toFloat(v)
	if !ok || f < 0 || f != float64(int64(f)) || f > 1<<53 {
		return 0, fmt.Errorf("%w: LIMIT and OFFSET need a non-negative integer, got %s", ErrBindType, appendJSON(nil, v))
	}
	return int64(f), nil
}

func (p *translator) countNode(depth int) error {
	p.nodes++
	if p.nodes > maxExprNodes || depth > maxExprDepth {
		return unsupported("condition larger than %d nodes or deeper than %d", maxExprNodes, maxExprDepth)
	}
	return nil
}

// cond translates a condition.
func (p *translator) cond(e ast.ExprNode, depth int) (cond, error) {
	if err := p.countNode(depth); err != nil {
		return nil, err
	}
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return p.cond(x.Expr, depth+1)
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr:
			l, err := p.cond(x.L, depth+1)
			if err != nil {
				return nil, err
			}
			r, err := p.cond(x.R, depth+1)
			if err != nil {
				return nil, err
			}
			if x.Op == opcode.LogicAnd {
				return &andCond{terms: flattenAnd(l, r)}, nil
			}
			return &orCond{terms: flattenOr(l, r)}, nil
		}
		op, ok := cmpOps[x.Op]
		if !ok {
			return nil, unsupported("operator %s", x.Op)
		}
		l, err := p.operand(x.L)
		if err != nil {
			return nil, err
		}
		r, err := p.operand(x.R)
		if err != nil {
			return nil, err
		}
		return &cmpCond{op: op, l: l, r: r}, nil
	case *ast.UnaryOperationExpr:
		if x.Op != opcode.Not && x.Op != opcode.Not2 {
			return nil, unsupported("operator %s in a condition", x.Op)
		}
		c, err := p.cond(x.V, depth+1)
		if err != nil {
			return nil, err
		}
		return &notCond{c: c}, nil
	case *ast.IsNullExpr:
		o, err := p.operand(x.Expr)
		if err != nil {
			return nil, err
		}
		return &isNullCond{x: o, not: x.Not}, nil
	case *ast.IsTruthExpr:
		o, err := p.operand(x.Expr)
		if err != nil {
			return nil, err
		}
		return &truthCond{x: o, truth: x.True != 0, not: x.Not}, nil
	case *ast.BetweenExpr:
		v, err := p.operand(x.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := p.operand(x.Left)
		if err != nil {
			return nil, err
		}
		hi, err := p.operand(x.Right)
		if err != nil {
			return nil, err
		}
		var c cond = &andCond{terms: []cond{&cmpCond{op: opGE, l: v, r: lo}, &cmpCond{op: opLE, l: v, r: hi}}}
		if x.Not {
			c = &notCond{c: c}
		}
		return c, nil
	case *ast.PatternInExpr:
		if x.Sel != nil {
			return nil, unsupported("IN (subquery)")
		}
		if len(x.List) > maxInList {
			return nil, unsupported("IN list longer than %d", maxInList)
		}
		v, err := p.operand(x.Expr)
		if err != nil {
			return nil, err
		}
		c := &inCond{x: v, not: x.Not}
		for _, it := range x.List {
			o, err := p.operand(it)
			if err != nil {
				return nil, err
			}
			c.list = append(c.list, o)
		}
		return c, nil
	case *ast.PatternLikeOrIlikeExpr:
		if !x.IsLike {
			return nil, unsupported("ILIKE")
		}
		v, err := p.operand(x.Expr)
		if err != nil {
			return nil, err
		}
		pat, err := p.operand(x.Pattern)
		if err != nil {
			return nil, err
		}
		return &likeCond{x: v, pattern: pat, escape: x.Escape, not: x.Not}, nil
	case *ast.ColumnNameExpr, *ast.VariableExpr, *test_driver.ParamMarkerExpr:
		o, err := p.operand(e)
		if err != nil {
			return nil, err
		}
		return &truthCond{x: o, bare: true}, nil
	case *test_driver.ValueExpr:
		o, err := p.operand(e)
		if err != nil {
			return nil, err
		}
		switch v := o.lit.(type) {
		case bool:
			return &constCond{v: triOf(v)}, nil
		case nil:
			return &constCond{v: unknown}, nil
		case float64:
			return &constCond{v: triOf(v != 0)}, nil
		}
		return &constCond{v: unknown}, nil
	}
	return nil, unsupported("expression %T in a condition", e)
}

var cmpOps = map[opcode.Op]cmpOp{
	opcode.EQ: opEQ, opcode.NE: opNE, opcode.LT: opLT, opcode.LE: opLE, opcode.GT: opGT, opcode.GE: opGE,
}

// flattenAnd and flattenOr merge nested ANDs (or ORs) into one term list.
func flattenAnd(l, r cond) []cond {
	var out []cond
	for _, c := range []cond{l, r} {
		if a, ok := c.(*andCond); ok {
			out = append(out, a.terms...)
		} else {
			out = append(out, c)
		}
	}
	return out
}

func flattenOr(l, r cond) []cond {
	var out []cond
	for _, c := range []cond{l, r} {
		if o, ok := c.(*orCond); ok {
			out = append(out, o.terms...)
		} else {
			out = append(out, c)
		}
	}
	return out
}

// operand translates a value: a path, a literal or a parameter.
func (p *translator) operand(e ast.ExprNode) (operand, error) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return p.operand(x.Expr)
	case *ast.ColumnNameExpr:
		path, err := p.path(x.Name)
		return operand{kind: operandPath, path: path}, err
	case *test_driver.ParamMarkerExpr:
		return operand{kind: operandParam, slot: p.params[x]}, nil
	case *ast.VariableExpr:
		if x.IsSystem || x.IsGlobal || x.Value != nil || x.Name == "" {
			return operand{}, unsupported("system variables and assignments")
		}
		slot, ok := p.named[x.Name]
		if !ok {
			if len(p.q.slots) >= maxParams {
				return operand{}, unsupported("more than %d parameters", maxParams)
			}
			slot = len(p.q.slots)
			p.named[x.Name] = slot
			p.q.slots = append(p.q.slots, x.Name)
		}
		return operand{kind: operandParam, slot: slot}, nil
	case *ast.UnaryOperationExpr:
		if x.Op != opcode.Minus && x.Op != opcode.Plus {
			break
		}
		o, err := p.operand(x.V)
		if err != nil {
			return operand{}, err
		}
		f, ok := o.lit.(float64)
		if o.kind != operandLiteral || !ok {
			return operand{}, unsupported("unary %s of a non-number", x.Op)
		}
		if x.Op == opcode.Minus {
			f = -f
		}
		return operand{kind: operandLiteral, lit: f}, nil
	case *test_driver.ValueExpr:
		v, err := p.literal(x)
		return operand{kind: operandLiteral, lit: v}, err
	}
	return operand{}, unsupported("expression %T (use attribute paths, literals and parameters)", e)
}

// literal converts a parsed literal; TRUE and FALSE parse as 1 and 0, so
// they are told apart by their text.
func (p *translator) literal(v *test_driver.ValueExpr) (any, error) {
	switch x := v.GetValue().(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case float64:
		return x, nil
	case uint64:
		return float64(x), nil
	case int64:
		if x == 0 || x == 1 {
			pos := v.OriginTextPosition()
			if pos >= 0 && pos < len(p.text) {
				rest := strings.ToLower(p.text[pos:min(len(p.text), pos+6)])
				if strings.HasPrefix(rest, "true") {
					return true, nil
				}
				if strings.HasPrefix(rest, "false") {
					return false, nil
				}
			}
		}
		return float64(x), nil
	case *test_driver.MyDecimal:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, unsupported("number %s", x.String())
		}
		return f, nil
	}
	return nil, unsupported("literal of type %T", v.GetValue())
}
