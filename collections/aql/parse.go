package aql

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2"

	"github.com/causeway/causeway/collections"
)

// Query is a parsed and compiled AQL query, not yet bound to parameter
// values. It is immutable and safe to share.
type Query struct {
	text        string
	main        *pipeline
	slots       int
	params      []string // bindVars keys the query uses ("x" for @x, "@c" for @@c)
	collections []string // collections named in the text
	writes      bool
	random      bool
}

// Text returns the query text.
func (q *Query) Text() string { return q.text }

// Params lists the bindVars keys the query uses, sorted.
func (q *Query) Params() []string { return slices.Clone(q.params) }

// Collections lists the collections named in the query text (not those
// given as @@parameters).
func (q *Query) Collections() []string { return slices.Clone(q.collections) }

// Writes reports a query with a data-modification statement.
func (q *Query) Writes() bool { return q.writes }

func (q *Query) addParam(name string) {
	if !slices.Contains(q.params, name) {
		q.params = append(q.params, name)
		slices.Sort(q.params)
	}
}

// unsupportedWords are AQL keywords of features this node does not have.
var unsupportedWords = map[string]string{
	"OUTBOUND": "graph traversals", "INBOUND": "graph traversals", "ANY": "graph traversals or array comparison operators",
	"ALL": "array comparison operators", "NONE": "array comparison operators", "GRAPH": "graph traversals",
	"SHORTEST_PATH": "shortest paths", "K_SHORTEST_PATHS": "shortest paths", "K_PATHS": "k paths",
	"ALL_SHORTEST_PATHS": "shortest paths", "PRUNE": "graph traversals", "SEARCH": "search views", "WINDOW": "WINDOW aggregations",
}

// Parse parses and compiles a query. Errors are *Error with ArangoDB's
// numbers: 1501 syntax (with line and column), 1502 empty, 1511, 1512,
// 1540, 1541, 1203 (an illegal collection name), 501/9 for features that
// are not supported yet.
func Parse(text string) (q *Query, err error) {
	if len(text) > MaxQueryBytes {
		return nil, badQuery(NumResourceLimit, "query of %d bytes exceeds %d", len(text), MaxQueryBytes)
	}
	if strings.TrimSpace(text) == "" {
		return nil, badQuery(NumQueryEmpty, "query is empty")
	}
	// The parser must never take the node down.
	defer func() {
		if r := recover(); r != nil {
			q, err = nil, badQuery(NumQueryParse, "syntax error: parser failure: %v", r)
		}
	}()
	if err := checkTokens(text); err != nil {
		return nil, err
	}
	g, err := aqlParser.ParseString("", text)
	if err != nil {
		return nil, syntaxError(text, err)
	}
	q = &Query{text: text}
	c := &compiler{q: q}
	for _, w := range g.With {
		if _, err := c.collection(unquoteIdent(w)); err != nil {
			return nil, err
		}
	}
	if q.main, err = c.pipeline(g, nil, 0); err != nil {
		return nil, err
	}
	if len(q.params) > maxParams {
		return nil, badQuery(NumResourceLimit, "more than %d bind parameters", maxParams)
	}
	q.slots = c.slots
	return q, nil
}

// checkTokens refuses the keywords of features not supported yet, with a
// clear error rather than a syntax error.
func checkTokens(text string) error {
	lex, err := aqlLexer.LexString("", text)
	if err != nil {
		return syntaxError(text, err)
	}
	for {
		t, err := lex.Next()
		if err != nil {
			return syntaxError(text, err)
		}
		if t.EOF() {
			return nil
		}
		if what, ok := unsupportedWords[strings.ToUpper(t.Value)]; ok && t.Type == aqlLexer.Symbols()["Keyword"] {
			return errorf(NumNotImplemented, 501, "%s (%s at position %d:%d) are not supported yet", what, strings.ToUpper(t.Value), t.Pos.Line, t.Pos.Column)
		}
	}
}

// syntaxError renders a parser error as ArangoDB does: "syntax error,
// unexpected ... near '...' at position line:column".
func syntaxError(text string, err error) error {
	var pe participle.Error
	if !errors.As(err, &pe) {
		return badQuery(NumQueryParse, "syntax error: %v", err)
	}
	pos := pe.Position()
	near := ""
	if pos.Offset >= 0 && pos.Offset <= len(text) {
		near = text[pos.Offset:]
		if len(near) > 32 {
			near = near[:32]
		}
	}
	msg := grammarNames.ReplaceAllStringFunc(pe.Message(), func(name string) string {
		if w, ok := ruleWords[name[1:]]; ok {
			return w
		}
		return "expression"
	})
	if strings.Contains(msg, `"<EOF>"`) {
		msg = strings.Replace(msg, `unexpected token "<EOF>"`, "unexpected end of query string", 1)
	}
	return badQuery(NumQueryParse, "syntax error, %s near '%s' at position %d:%d", msg, near, pos.Line, pos.Column)
}

// grammarNames are the rule names of grammar.go in participle's messages.
var grammarNames = regexp.MustCompile(`\bG[A-Z][A-Za-z]*\b`)

var ruleWords = map[string]string{
	"Query": "statement", "Stmt": "statement", "Coll": "collection name", "Assign": "variable = expression",
	"SortTerm": "sort expression", "Member": "object member", "Call": "function call", "Into": "INTO",
	"For": "FOR", "Let": "LET", "Sort": "SORT", "Limit": "LIMIT", "Collect": "COLLECT", "Return": "RETURN",
	"Insert": "INSERT", "Update": "UPDATE", "Replace": "REPLACE", "Remove": "REMOVE", "Upsert": "UPSERT",
}

// bind checks the parameters: every one the query uses has a value (1551),
// every value is used (1552), collection parameters name collections
// (1553).
func (q *Query) bind(given map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(q.params))
	for _, name := range q.params {
		v, ok := given[name]
		if !ok {
			return nil, badQuery(NumBindMissing, "no value specified for declared bind parameter '%s'", name)
		}
		n, ok := normalize(v)
		if !ok {
			return nil, badQuery(NumBindType, "bind parameter '%s' has an invalid value or type", name)
		}
		if strings.HasPrefix(name, "@") {
			s, isStr := n.(string)
			if !isStr || collections.ValidateCollectionName(s) != nil {
				return nil, badQuery(NumBindType, "bind parameter '%s' has an invalid value or type: want a collection name", name)
			}
		}
		out[name] = n
	}
	for name := range given {
		if !slices.Contains(q.params, name) {
			return nil, badQuery(NumBindUndeclared, "bind parameter '%s' was not declared in the query", name)
		}
	}
	return out, nil
}

// Rows pulls a query's results. It is not safe for concurrent use; Close
// releases the iterators it holds.
type Rows struct {
	c    *ctx
	it   iter
	ret  *returnStmt
	seen map[string]bool
	done bool
}

// Run binds the parameters and starts the query. A query that writes
// performs its writes as its rows are pulled: the caller reads it to the
// end.
func (q *Query) Run(opts Options) (*Rows, error) {
	if opts.Source == nil {
		return nil, fmt.Errorf("aql: Run without a Source")
	}
	params, err := q.bind(opts.Params)
	if err != nil {
		return nil, err
	}
	if q.writes && opts.Writer == nil {
		return nil, badQuery(NumBadParameter, "this query writes, and writes are not allowed here")
	}
	maxRows := opts.MaxMemoryRows
	if maxRows <= 0 {
		maxRows = DefaultMaxMemoryRows
	}
	c := &ctx{
		q: q, opts: opts, params: params, maxRows: maxRows, fullCount: -1,
		open: map[DocIter]struct{}{}, modified: map[string]bool{},
		rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	// Every collection named in the text must exist (1203).
	for _, name := range q.collections {
		if _, err := opts.Source.Indexes(name); err != nil {
			return nil, err
		}
	}
	for _, name := range q.params {
		if strings.HasPrefix(name, "@") {
			if _, err := opts.Source.Indexes(params[name].(string)); err != nil {
				return nil, err
			}
		}
	}
	it, err := c.openPipeline(q.main, make(row, q.slots))
	if err != nil {
		c.closeAll()
		return nil, err
	}
	r := &Rows{c: c, it: it, ret: q.main.ret}
	if r.ret != nil && r.ret.distinct {
		r.seen = map[string]bool{}
	}
	return r, nil
}

// Next returns the next result as JSON, or false at the end.
func (r *Rows) Next() (out []byte, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.Close()
			out, ok, err = nil, false, errorf(4, 500, "internal error running the query: %v", p)
		}
	}()
	return r.next()
}

func (r *Rows) next() ([]byte, bool, error) {
	for !r.done {
		row, ok, err := r.it.next()
		if err != nil {
			r.Close()
			return nil, false, err
		}
		if !ok {
			r.done = true
			r.Close()
			break
		}
		if r.ret == nil {
			continue
		}
		v, err := r.ret.e.eval(r.c, row)
		if err != nil {
			r.Close()
			return nil, false, err
		}
		var out []byte
		if d, ok := v.(*lazyDoc); ok && r.seen == nil {
			out = append([]byte(nil), d.json()...)
		} else {
			v = plain(v)
			out = appendJSON(nil, v)
		}
		if r.seen != nil {
			k := string(valueKey(nil, v))
			if r.seen[k] {
				continue
			}
			if len(r.seen) >= r.c.maxRows {
				r.Close()
				return nil, false, badQuery(NumResourceLimit, "RETURN DISTINCT of more than %d values", r.c.maxRows)
			}
			r.seen[k] = true
		}
		return out, true, nil
	}
	return nil, false, nil
}

// Close releases the iterators the query holds open.
func (r *Rows) Close() { r.c.closeAll() }

// FullCount is the rows the top-level LIMIT saw, once the rows are read to
// the end with Options.FullCount (-1: the query has no top-level LIMIT).
func (r *Rows) FullCount() int64 { return r.c.fullCount }

// Warnings are the runtime warnings so far.
func (r *Rows) Warnings() []Warning { return slices.Clone(r.c.warnings) }

// Scanned is the documents read from collections so far.
func (r *Rows) Scanned() int { return r.c.scanned }

func (c *ctx) closeAll() {
	for it := range c.open {
		_ = it.Close()
		delete(c.open, it)
	}
}
