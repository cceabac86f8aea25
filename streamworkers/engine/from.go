package engine

import (
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// from reads the FROM clause: one stream, or a stream joined with a stream
// (window join or pattern) or with a collection (lookup).
func (c *compiler) from(refs *ast.TableRefsClause) error {
	j := refs.TableRefs
	if j == nil {
		return c.errf("a query needs FROM stream")
	}
	left, ok := j.Left.(*ast.TableSource)
	if !ok {
		return c.errf("FROM takes at most two sources: stream [JOIN stream|collection]")
	}
	ls, err := c.tableSource(left, false)
	if err != nil {
		return err
	}
	c.q.sources = append(c.q.sources, ls)
	if j.Right == nil {
		if j.On != nil {
			return c.errf("ON without JOIN")
		}
		return nil
	}
	right, ok := j.Right.(*ast.TableSource)
	if !ok {
		return c.errf("FROM takes at most two sources: stream [JOIN stream|collection]")
	}
	rs, err := c.tableSource(right, true)
	if err != nil {
		return err
	}
	if c.q.sourceLabel(0) == labelOf(rs) {
		return c.errAt(rs.name, "both sides of the join are called %s: give them aliases", rs.name)
	}
	c.q.sources = append(c.q.sources, rs)
	if j.NaturalJoin || j.StraightJoin || j.Using != nil || j.ExplicitParens {
		return c.errf("only JOIN ... ON and LEFT JOIN ... ON are supported")
	}
	if j.On == nil {
		return c.errAt(rs.name, "JOIN %s needs ON", rs.name)
	}
	if j.Tp == ast.RightJoin {
		return c.errf("RIGHT JOIN is not supported")
	}
	if rs.collection {
		c.q.mode = modeLookup
		c.q.leftJoin = j.Tp == ast.LeftJoin
		return c.lookupOn(j.On.Expr)
	}
	if j.Tp == ast.LeftJoin {
		return c.errf("LEFT JOIN is for a collection lookup; two streams join with JOIN")
	}
	if fc := findFollowedBy(j.On.Expr); fc != nil {
		c.q.mode = modePattern
		return c.patternOn(j.On.Expr)
	}
	c.q.mode = modeJoin
	return c.joinOn(j.On.Expr)
}

func labelOf(s source) string {
	if s.alias != "" {
		return s.alias
	}
	return s.name
}

// tableSource resolves one FROM item; the schema "streams" or "collections"
// picks the kind when a name is both.
func (c *compiler) tableSource(ts *ast.TableSource, joined bool) (source, error) {
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return source{}, c.errf("subqueries in FROM are not supported")
	}
	name, schema := tn.Name.O, lower(tn.Schema.O)
	s := source{name: name, alias: ts.AsName.O}
	isStream, isColl := c.cat.StreamExists(name), c.cat.CollectionExists(name)
	switch schema {
	case "":
	case "streams":
		isColl = false
	case "collections":
		isStream = false
	default:
		return source{}, c.errAt(tn.Schema.O, "unknown schema %s (want streams or collections)", tn.Schema.O)
	}
	switch {
	case isStream && isColl:
		return source{}, c.errAt(name, "%s is both a stream and a collection: write streams.%s or collections.%s", name, name, name)
	case isStream:
		return s, nil
	case isColl && joined:
		s.collection = true
		return s, nil
	case isColl:
		return source{}, c.errAt(name, "%s is a collection: a worker reads a stream (join the collection to enrich it)", name)
	case schema == "collections":
		return source{}, c.errAt(name, "unknown collection %s", name)
	}
	return source{}, c.errAt(name, "unknown stream %s", name)
}

// conjuncts splits a condition at AND.
func conjuncts(e ast.ExprNode) []ast.ExprNode {
	e = unparen(e)
	if b, ok := e.(*ast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []ast.ExprNode{e}
}

// sidesOf says which sources an expression reads (bit 0: left, bit 1: right).
func (c *compiler) sidesOf(e ast.ExprNode) int {
	v := &sideFinder{c: c}
	e.Accept(v)
	return v.sides
}

type sideFinder struct {
	c     *compiler
	sides int
}

func (v *sideFinder) Enter(n ast.Node) (ast.Node, bool) {
	if cn, ok := n.(*ast.ColumnNameExpr); ok {
		src, _ := v.c.resolve(cn.Name)
		v.sides |= 1 << src
	}
	return n, false
}
func (v *sideFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// lookupOn reads ON c._key = expr-of-the-stream.
func (c *compiler) lookupOn(on ast.ExprNode) error {
	b, ok := unparen(on).(*ast.BinaryOperationExpr)
	if !ok || b.Op != opcode.EQ {
		return c.errAt(c.q.sources[1].name, "a collection join is ON %s._key = expression of the stream", c.q.sourceLabel(1))
	}
	l, r := b.L, b.R
	if c.isLookupKey(r) {
		l, r = r, l
	}
	if !c.isLookupKey(l) || c.sidesOf(r) != 1 {
		return c.errAt(c.q.sources[1].name, "a collection join is ON %s._key = expression of the stream", c.q.sourceLabel(1))
	}
	e, err := c.expr(r)
	if err != nil {
		return err
	}
	c.q.lookupKey = e
	return nil
}

func (c *compiler) isLookupKey(e ast.ExprNode) bool {
	cn, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok {
		return false
	}
	src, path := c.resolve(cn.Name)
	return src == 1 && len(path) == 1 && path[0] == "_key"
}

// joinOn reads ON a.k = b.k [AND ...] AND b.t BETWEEN a.t - INTERVAL x AND
// a.t + INTERVAL y.
func (c *compiler) joinOn(on ast.ExprNode) error {
	var between *ast.BetweenExpr
	for _, x := range conjuncts(on) {
		if bt, ok := x.(*ast.BetweenExpr); ok && !bt.Not {
			if between != nil {
				return c.errAt("between", "a stream join has one BETWEEN time bound")
			}
			between = bt
			continue
		}
		b, ok := x.(*ast.BinaryOperationExpr)
		if !ok || b.Op != opcode.EQ {
			return c.errAt(snippet(x), "a stream join's ON holds equalities of the two sides and one BETWEEN time bound (put other conditions in WHERE): %s", restore(x))
		}
		if err := c.keyPair(b, &c.q.joinKeys); err != nil {
			return err
		}
	}
	if between == nil {
		return c.errf("a stream join needs a time bound: ON ... AND %s.ts BETWEEN %s.ts - INTERVAL n SECOND AND %s.ts + INTERVAL n SECOND",
			c.q.sourceLabel(1), c.q.sourceLabel(0), c.q.sourceLabel(0))
	}
	if len(c.q.joinKeys[0]) == 0 {
		return c.errf("a stream join needs at least one equality of the two sides in ON")
	}
	return c.between(between)
}

// keyPair adds an equality left-expr = right-expr (either order).
func (c *compiler) keyPair(b *ast.BinaryOperationExpr, keys *[2][]expr) error {
	l, r := b.L, b.R
	ls, rs := c.sidesOf(l), c.sidesOf(r)
	if ls == 2 && rs == 1 {
		l, r, ls, rs = r, l, rs, ls
	}
	if ls != 1 || rs != 2 {
		return c.errAt(snippet(b), "join keys compare an expression of %s with one of %s: %s", c.q.sourceLabel(0), c.q.sourceLabel(1), restore(b))
	}
	le, err := c.expr(l)
	if err != nil {
		return err
	}
	re, err := c.expr(r)
	if err != nil {
		return err
	}
	keys[0] = append(keys[0], le)
	keys[1] = append(keys[1], re)
	return nil
}

// between reads b.t BETWEEN a.t [- INTERVAL x unit] AND a.t [+ INTERVAL y unit];
// a.t and b.t become the two sides' event times.
func (c *compiler) between(bt *ast.BetweenExpr) error {
	bad := func() error {
		return c.errAt("between", "the join's time bound is %s.t BETWEEN %s.t - INTERVAL n unit AND %s.t + INTERVAL n unit, with the same field t of %s on both ends",
			c.q.sourceLabel(1), c.q.sourceLabel(0), c.q.sourceLabel(0), c.q.sourceLabel(0))
	}
	rt, ok := unparen(bt.Expr).(*ast.ColumnNameExpr)
	if !ok || c.sidesOf(rt) != 2 {
		return bad()
	}
	lcol, lo, err := c.timeOffset(bt.Left, "DATE_SUB")
	if err != nil {
		return err
	}
	rcol, hi, err := c.timeOffset(bt.Right, "DATE_ADD")
	if err != nil {
		return err
	}
	if lcol == nil || rcol == nil || c.sidesOf(lcol) != 1 || restore(lcol) != restore(rcol) {
		return bad()
	}
	c.q.lower, c.q.upper = lo, hi
	var err2 error
	if c.q.timeOf[0], err2 = c.expr(lcol); err2 != nil {
		return err2
	}
	if c.q.timeOf[1], err2 = c.expr(rt); err2 != nil {
		return err2
	}
	return nil
}

// timeOffset reads col or col +/- INTERVAL n unit (fn names the sign).
func (c *compiler) timeOffset(e ast.ExprNode, fn string) (*ast.ColumnNameExpr, int64, error) {
	e = unparen(e)
	if cn, ok := e.(*ast.ColumnNameExpr); ok {
		return cn, 0, nil
	}
	f, ok := e.(*ast.FuncCallExpr)
	if !ok || f.FnName.L != lower(fn) || len(f.Args) != 3 {
		return nil, 0, nil
	}
	cn, ok := unparen(f.Args[0]).(*ast.ColumnNameExpr)
	if !ok {
		return nil, 0, nil
	}
	ms, err := c.interval(f.Args[1], f.Args[2])
	if err != nil {
		return nil, 0, err
	}
	return cn, ms, nil
}

// interval reads INTERVAL n unit (n a non-negative number literal).
func (c *compiler) interval(n, unit ast.ExprNode) (int64, error) {
	f, ok := numberLiteral(n)
	tu, ok2 := unit.(*ast.TimeUnitExpr)
	if !ok || !ok2 || f < 0 {
		return 0, c.errAt("interval", "INTERVAL takes a non-negative number and MICROSECOND, SECOND, MINUTE, HOUR, DAY or WEEK")
	}
	var d time.Duration
	switch tu.Unit {
	case ast.TimeUnitMicrosecond:
		d = time.Microsecond
	case ast.TimeUnitSecond:
		d = time.Second
	case ast.TimeUnitMinute:
		d = time.Minute
	case ast.TimeUnitHour:
		d = time.Hour
	case ast.TimeUnitDay:
		d = 24 * time.Hour
	case ast.TimeUnitWeek:
		d = 7 * 24 * time.Hour
	default:
		return 0, c.errAt("interval", "INTERVAL unit %s is not supported", tu.Unit.String())
	}
	ms := f * float64(d) / float64(time.Millisecond)
	if ms > float64(maxDurationMs) {
		return 0, c.errAt("interval", "INTERVAL longer than a year")
	}
	return int64(ms), nil
}

const maxDurationMs = 366 * 24 * 3600 * 1000

// duration reads a duration string literal such as '10s' (positive, at
// most a year).
func (c *compiler) duration(e ast.ExprNode, what string) (int64, error) {
	s, ok := literalString(e)
	if !ok {
		return 0, c.errAt(restore(e), "%s takes a duration string such as '10s', '1m' or '500ms'", what)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Millisecond || d.Milliseconds() > maxDurationMs {
		return 0, c.errAt(s, "%s: %q is not a duration between 1ms and a year (such as '10s', '1m', '500ms')", what, s)
	}
	return d.Milliseconds(), nil
}

// findFollowedBy finds a FOLLOWED_BY or NOT_FOLLOWED_BY conjunct.
func findFollowedBy(on ast.ExprNode) *ast.FuncCallExpr {
	for _, x := range conjuncts(on) {
		if f, ok := x.(*ast.FuncCallExpr); ok && (f.FnName.L == "followed_by" || f.FnName.L == "not_followed_by") {
			return f
		}
	}
	return nil
}

// patternOn reads ON [NOT_]FOLLOWED_BY(a, b, 'T') AND conditions: a
// condition of one side filters that side's events, an equality of the two
// sides is the partition key, other conditions of both sides must hold for
// a match.
func (c *compiler) patternOn(on ast.ExprNode) error {
	var both []expr
	seen := false
	for _, x := range conjuncts(on) {
		if f, ok := x.(*ast.FuncCallExpr); ok && (f.FnName.L == "followed_by" || f.FnName.L == "not_followed_by") {
			if seen {
				return c.errAt(f.FnName.O, "one FOLLOWED_BY per pattern")
			}
			seen = true
			if err := c.followedBy(f); err != nil {
				return err
			}
			continue
		}
		switch c.sidesOf(x) {
		case 0, 1:
			if err := c.addFilter(0, x); err != nil {
				return err
			}
		case 2:
			if err := c.addFilter(1, x); err != nil {
				return err
			}
		default:
			if b, ok := x.(*ast.BinaryOperationExpr); ok && b.Op == opcode.EQ && c.sidesOf(b.L) != 3 && c.sidesOf(b.R) != 3 && c.sidesOf(b.L) != 0 && c.sidesOf(b.R) != 0 {
				if err := c.keyPair(b, &c.q.patKeys); err != nil {
					return err
				}
				continue
			}
			e, err := c.expr(x)
			if err != nil {
				return err
			}
			both = append(both, e)
		}
	}
	if c.q.absent && len(both) > 0 {
		return c.errf("NOT_FOLLOWED_BY takes only equalities of the two sides and conditions of one side in ON")
	}
	if len(both) > 0 {
		c.q.patCond = andAll(both)
	}
	return nil
}

func (c *compiler) addFilter(side int, x ast.ExprNode) error {
	e, err := c.expr(x)
	if err != nil {
		return err
	}
	if c.q.patFilter[side] == nil {
		c.q.patFilter[side] = e
	} else {
		c.q.patFilter[side] = andAll([]expr{c.q.patFilter[side], e})
	}
	return nil
}

func (c *compiler) followedBy(f *ast.FuncCallExpr) error {
	name := strings.ToUpper(f.FnName.O)
	if len(f.Args) != 3 {
		return c.errAt(f.FnName.O, "%s takes (%s, %s, 'duration')", name, c.q.sourceLabel(0), c.q.sourceLabel(1))
	}
	for i, a := range f.Args[:2] {
		cn, ok := unparen(a).(*ast.ColumnNameExpr)
		if !ok || cn.Name.Schema.O != "" || cn.Name.Table.O != "" || cn.Name.Name.O != c.q.sourceLabel(i) {
			return c.errAt(f.FnName.O, "%s takes (%s, %s, 'duration'): the first side, then the second", name, c.q.sourceLabel(0), c.q.sourceLabel(1))
		}
	}
	ms, err := c.duration(f.Args[2], name)
	if err != nil {
		return err
	}
	c.q.within = ms
	c.q.absent = f.FnName.L == "not_followed_by"
	return nil
}
