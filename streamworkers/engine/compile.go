package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// compiler turns the TiDB AST into a query.
type compiler struct {
	text  string
	cat   Catalog
	q     *query
	nodes int

	// aggregate context while compiling the SELECT list and HAVING.
	aggMode    bool
	groupTexts []string
	aggTexts   []string
	eventTime  string // @event_time path, "" if not set
}

func (c *compiler) errAt(snippet string, format string, args ...any) error {
	pos := -1
	if snippet != "" {
		pos = strings.Index(strings.ToLower(c.text), strings.ToLower(snippet))
	}
	return &CompileError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// snippet is text of a node to find in the query for an error position:
// its first column or function name.
func snippet(n ast.Node) string {
	f := &snippetFinder{}
	n.Accept(f)
	return f.s
}

type snippetFinder struct{ s string }

func (f *snippetFinder) Enter(n ast.Node) (ast.Node, bool) {
	if f.s != "" {
		return n, true
	}
	switch x := n.(type) {
	case *ast.ColumnNameExpr:
		f.s = x.Name.Name.O
		if x.Name.Table.O != "" {
			f.s = x.Name.Table.O + "." + f.s
		}
	case *ast.FuncCallExpr:
		f.s = x.FnName.O
	case *ast.AggregateFuncExpr:
		f.s = x.F
	}
	return n, f.s != ""
}
func (f *snippetFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func (c *compiler) errf(format string, args ...any) error {
	return &CompileError{Pos: -1, Msg: fmt.Sprintf(format, args...)}
}

var lineCol = regexp.MustCompile(`line (\d+) column (\d+)`)

// Compile parses and plans a query against the catalog. Errors are
// *CompileError.
func Compile(text string, cat Catalog) (*Plan, error) {
	if len(text) > MaxQueryBytes {
		return nil, &CompileError{Pos: -1, Msg: fmt.Sprintf("query of %d bytes exceeds %d", len(text), MaxQueryBytes)}
	}
	if cat == nil {
		return nil, &CompileError{Pos: -1, Msg: "no catalog"}
	}
	stmts, err := parseSQL(text)
	if err != nil {
		return nil, err
	}
	c := &compiler{text: text, cat: cat, q: &query{text: text, keyItem: -1}}
	if len(stmts) == 0 {
		return nil, c.errf("empty query")
	}
	for _, s := range stmts[:len(stmts)-1] {
		set, ok := s.(*ast.SetStmt)
		if !ok {
			return nil, c.errf("only SET @option = '...' statements may come before the query")
		}
		if err := c.set(set); err != nil {
			return nil, err
		}
	}
	p := &Plan{q: c.q}
	var sel *ast.SelectStmt
	switch s := stmts[len(stmts)-1].(type) {
	case *ast.SelectStmt:
		sel = s
	case *ast.InsertStmt:
		if sel, err = c.insert(s, p); err != nil {
			return nil, err
		}
	case *ast.SetStmt:
		return nil, c.errf("the query is missing after SET")
	default:
		return nil, c.errf("want SELECT, INSERT INTO stream SELECT or REPLACE INTO collection SELECT")
	}
	if err := c.selectStmt(sel); err != nil {
		return nil, err
	}
	for _, s := range c.q.sources {
		if !s.collection && !contains(p.Inputs, s.name) {
			p.Inputs = append(p.Inputs, s.name)
		}
	}
	c.q.inputs = p.Inputs
	if p.Output.Name != "" && contains(p.Inputs, p.Output.Name) && p.Output.Kind == OutputStream {
		return nil, c.errAt(p.Output.Name, "the worker would read its own output stream %s", p.Output.Name)
	}
	return p, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// parseSQL runs the TiDB parser, turning a panic inside it into an error.
func parseSQL(text string) (stmts []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmts, err = nil, &CompileError{Pos: -1, Msg: fmt.Sprintf("syntax error: parser failure: %v", r)}
		}
	}()
	stmts, _, err = parser.New().ParseSQL(text)
	if err != nil {
		msg := strings.TrimSpace(err.Error())
		return nil, &CompileError{Pos: offsetOf(text, msg), Msg: "syntax error: " + msg}
	}
	return stmts, nil
}

// offsetOf turns the parser's "line L column C" into a byte offset.
func offsetOf(text, msg string) int {
	m := lineCol.FindStringSubmatch(msg)
	if m == nil {
		return -1
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	if off+col > len(text) {
		return len(text)
	}
	return off + col
}

// set reads SET @option = 'value', ... .
func (c *compiler) set(s *ast.SetStmt) error {
	for _, v := range s.Variables {
		if v.IsSystem || v.IsGlobal || v.ExtendValue != nil {
			return c.errAt(v.Name, "only SET @option = '...' is supported")
		}
		lit, ok := literalString(v.Value)
		if !ok {
			return c.errAt(v.Name, "@%s wants a string literal", v.Name)
		}
		name := lower(v.Name)
		switch name {
		case "event_time":
			if lit == "" {
				return c.errAt(v.Name, "@event_time wants a field path")
			}
			c.eventTime = lit
		case "watermark_delay", "allowed_lateness", "idle_timeout":
			d, err := time.ParseDuration(lit)
			if err != nil || d < 0 {
				return c.errAt(lit, "@%s: %q is not a duration like '2s' or '500ms'", name, lit)
			}
			ms := d.Milliseconds()
			switch name {
			case "watermark_delay":
				c.q.delay = ms
			case "allowed_lateness":
				c.q.lateness = ms
			default:
				c.q.idle = ms
			}
		default:
			return c.errAt(v.Name, "unknown option @%s (want @event_time, @watermark_delay, @allowed_lateness or @idle_timeout)", v.Name)
		}
	}
	return nil
}

func literalString(e ast.ExprNode) (string, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok || v.Kind() != test_driver.KindString {
		return "", false
	}
	return v.GetString(), true
}

// insert reads INSERT INTO stream SELECT / REPLACE INTO collection SELECT.
func (c *compiler) insert(s *ast.InsertStmt, p *Plan) (*ast.SelectStmt, error) {
	switch {
	case s.Select == nil || len(s.Lists) > 0 || s.Setlist:
		return nil, c.errf("INSERT and REPLACE take a SELECT (not VALUES or SET)")
	case len(s.Columns) > 0:
		return nil, c.errf("INSERT INTO name (columns) is not supported: name the fields with AS")
	case len(s.OnDuplicate) > 0 || s.IgnoreErr || s.Priority != 0 || len(s.PartitionNames) > 0:
		return nil, c.errf("INSERT options (IGNORE, priorities, ON DUPLICATE KEY, partitions) are not supported")
	}
	sel, ok := s.Select.(*ast.SelectStmt)
	if !ok {
		return nil, c.errf("INSERT and REPLACE take one SELECT")
	}
	if s.Table == nil || s.Table.TableRefs == nil || s.Table.TableRefs.Right != nil {
		return nil, c.errf("INSERT and REPLACE take one target")
	}
	ts, ok := s.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, c.errf("INSERT and REPLACE take one target")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, c.errf("INSERT and REPLACE take one target")
	}
	name, schema := tn.Name.O, lower(tn.Schema.O)
	isStream, isColl := c.cat.StreamExists(name), c.cat.CollectionExists(name)
	if s.IsReplace {
		if schema != "" && schema != "collections" {
			return nil, c.errAt(name, "REPLACE INTO writes a collection, not %s.%s", tn.Schema.O, name)
		}
		if isStream && !isColl {
			return nil, c.errAt(name, "%s is a stream: write it with INSERT INTO", name)
		}
		p.Output = Output{Kind: OutputCollection, Name: name}
		return sel, nil
	}
	if schema != "" && schema != "streams" {
		return nil, c.errAt(name, "INSERT INTO writes a stream, not %s.%s", tn.Schema.O, name)
	}
	if isColl && !isStream {
		return nil, c.errAt(name, "%s is a collection: upsert into it with REPLACE INTO", name)
	}
	p.Output = Output{Kind: OutputStream, Name: name}
	return sel, nil
}

func (c *compiler) selectStmt(sel *ast.SelectStmt) error {
	switch {
	case sel.Kind != ast.SelectStmtKindSelect:
		return c.errf("only SELECT ... FROM is supported")
	case sel.Distinct:
		return c.errf("DISTINCT is not supported (use GROUP BY)")
	case len(sel.WindowSpecs) > 0:
		return c.errf("OVER windows are not supported: use GROUP BY TUMBLE/HOP/SESSION_WINDOW")
	case sel.With != nil:
		return c.errf("WITH is not supported")
	case sel.SelectIntoOpt != nil:
		return c.errf("SELECT INTO is not supported: use INSERT INTO stream SELECT")
	case sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone:
		return c.errf("locking reads are not supported")
	case sel.AfterSetOperator != nil:
		return c.errf("UNION, EXCEPT and INTERSECT are not supported")
	case sel.OrderBy != nil:
		return c.errf("ORDER BY is not supported on a stream")
	case sel.Limit != nil:
		return c.errf("LIMIT is not supported on a stream")
	case sel.From == nil:
		return c.errf("a query needs FROM stream")
	}
	c.q.agg = sel.GroupBy != nil || sel.Having != nil || hasAggregate(sel.Fields)
	if err := c.from(sel.From); err != nil {
		return err
	}
	if err := c.eventTimes(); err != nil {
		return err
	}
	if sel.Where != nil {
		e, err := c.expr(sel.Where)
		if err != nil {
			return err
		}
		c.q.where = e
	}
	if err := c.groupBy(sel.GroupBy); err != nil {
		return err
	}
	if err := c.fields(sel.Fields); err != nil {
		return err
	}
	if sel.Having != nil {
		if !c.q.agg {
			return c.errAt("having", "HAVING needs GROUP BY or an aggregate")
		}
		c.aggMode = true
		e, err := c.expr(sel.Having.Expr)
		c.aggMode = false
		if err != nil {
			return err
		}
		c.q.having = e
	}
	return nil
}

// hasAggregate says whether the SELECT list calls an aggregate.
func hasAggregate(fl *ast.FieldList) bool {
	if fl == nil {
		return false
	}
	var f aggFinder
	for _, x := range fl.Fields {
		if x.Expr != nil {
			x.Expr.Accept(&f)
		}
	}
	return f.found
}

type aggFinder struct{ found bool }

func (f *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.AggregateFuncExpr); ok {
		f.found = true
	}
	return n, f.found
}
func (f *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// eventTimes sets each stream source's event-time expression: @event_time
// if set, else publish time (a stream join sets them from its BETWEEN).
func (c *compiler) eventTimes() error {
	if c.eventTime == "" {
		return nil
	}
	path := strings.Split(c.eventTime, ".")
	for _, s := range path {
		if s == "" {
			return c.errAt(c.eventTime, "@event_time %q is not a field path", c.eventTime)
		}
	}
	for i, s := range c.q.sources {
		if s.collection || c.q.timeOf[i] != nil {
			continue
		}
		c.q.timeOf[i] = c.column(i, path)
	}
	return nil
}

func (c *compiler) fields(fl *ast.FieldList) error {
	if fl == nil || len(fl.Fields) == 0 {
		return c.errf("empty SELECT list")
	}
	if len(fl.Fields) > maxFields {
		return c.errf("more than %d fields", maxFields)
	}
	names := map[string]bool{}
	for _, f := range fl.Fields {
		if f.WildCard != nil {
			if len(fl.Fields) != 1 || c.q.agg || len(c.q.sources) != 1 {
				return c.errAt("*", "SELECT * must be alone, on one stream, without GROUP BY")
			}
			c.q.star = true
			continue
		}
		c.aggMode = c.q.agg
		e, err := c.expr(f.Expr)
		c.aggMode = false
		if err != nil {
			return err
		}
		name := f.AsName.O
		if name == "" {
			name = defaultName(f)
		}
		if names[name] {
			return c.errAt(name, "two fields named %q (use AS)", name)
		}
		names[name] = true
		if name == "_key" {
			c.q.keyItem = len(c.q.items)
		}
		c.q.items = append(c.q.items, item{name: name, e: e})
	}
	return nil
}

// defaultName names an output field: a column's last path element, else
// the expression's text.
func defaultName(f *ast.SelectField) string {
	if cn, ok := unparen(f.Expr).(*ast.ColumnNameExpr); ok {
		parts := strings.Split(cn.Name.Name.O, ".")
		return parts[len(parts)-1]
	}
	if t := strings.TrimSpace(f.Text()); t != "" {
		return t
	}
	return restore(f.Expr)
}

func unparen(e ast.ExprNode) ast.ExprNode {
	for {
		p, ok := e.(*ast.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}
