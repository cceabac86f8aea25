package aql

import (
	"encoding/json"
	"strings"

	"github.com/causeway/causeway/collections/query"
)

// modifyStmt is INSERT, UPDATE, REPLACE, REMOVE or UPSERT.
type modifyStmt struct {
	kind     WriteKind // WriteInsert..WriteRemove; upsert: see upsert
	upsert   bool
	doc      expr // INSERT doc, UPDATE/REPLACE key-or-doc, REMOVE key
	with     expr // UPDATE/REPLACE ... WITH patch (nil: doc is both)
	search   expr // UPSERT search
	insert   expr // UPSERT ... INSERT doc
	coll     collRef
	opts     expr
	oldSlot  int
	newSlot  int
	position string
}

// writeOptions are a modification's OPTIONS.
type writeOptions struct {
	ignoreErrors, keepNull, mergeObjects, ignoreRevs bool
	overwrite                                        Overwrite
}

func (c *compiler) modifyStmt(g *gStmt, s *scope, depth int) (stmt, error) {
	st := &modifyStmt{}
	var err error
	var coll *gColl
	var opts *gExpr
	niExpr := func(e *gExprNI) (expr, error) { return c.exprNI(e, s, depth) }
	switch {
	case g.Insert != nil:
		st.kind, coll, opts = WriteInsert, g.Insert.Coll, g.Insert.Opts
		st.doc, err = niExpr(g.Insert.Doc)
	case g.Update != nil, g.Replace != nil:
		var d, w *gExprNI
		if g.Update != nil {
			st.kind, d, w, coll, opts = WriteUpdate, g.Update.Doc, g.Update.With, g.Update.Coll, g.Update.Opts
		} else {
			st.kind, d, w, coll, opts = WriteReplace, g.Replace.Doc, g.Replace.With, g.Replace.Coll, g.Replace.Opts
		}
		if st.doc, err = niExpr(d); err == nil && w != nil {
			st.with, err = niExpr(w)
		}
	case g.Remove != nil:
		st.kind, coll, opts = WriteRemove, g.Remove.Coll, g.Remove.Opts
		st.doc, err = niExpr(g.Remove.Key)
	case g.Upsert != nil:
		u := g.Upsert
		st.upsert, coll, opts = true, u.Coll, u.Opts
		st.kind = WriteUpdate
		if strings.EqualFold(u.Kind, "REPLACE") {
			st.kind = WriteReplace
		}
		if st.search, err = c.expr(u.Search, s, depth); err != nil {
			return nil, err
		}
		if st.insert, err = c.expr(u.Insert, s, depth); err != nil {
			return nil, err
		}
		// The UPDATE/REPLACE expression sees OLD, the document found.
		inner := &scope{vars: map[string]int{}, parent: s}
		oldSlot, err := c.declare(inner, "OLD")
		if err != nil {
			return nil, err
		}
		st.oldSlot = oldSlot
		if st.doc, err = c.exprNI(u.Update, inner, depth); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if st.coll, err = c.collection(unquoteIdent(coll.Name)); err != nil {
		return nil, err
	}
	if opts != nil {
		if st.opts, err = c.expr(opts, s, depth); err != nil {
			return nil, err
		}
	}
	if st.coll.param == "" {
		if c.modified == nil {
			c.modified = map[string]bool{}
		}
		c.modified[st.coll.name] = true
	}
	c.q.writes = true
	if !st.upsert {
		if st.oldSlot, err = c.declare(s, "OLD"); err != nil {
			return nil, err
		}
	} else {
		s.vars["OLD"] = st.oldSlot
		s.order = append(s.order, "OLD")
	}
	if st.newSlot, err = c.declare(s, "NEW"); err != nil {
		return nil, err
	}
	return st, nil
}

// exprNI compiles an expression of a modification statement (no top-level
// IN or ternary).
func (c *compiler) exprNI(g *gExprNI, s *scope, depth int) (expr, error) {
	conv := func(e *gEqNI) (expr, error) {
		l, err := c.rel(e.Left, s, depth)
		if err != nil {
			return nil, err
		}
		for _, r := range e.Right {
			re, err := c.rel(r.Right, s, depth)
			if err != nil {
				return nil, err
			}
			if l, err = eqOp(r.Not, r.Op, l, re); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
	andOf := func(a *gAndNI) (expr, error) {
		l, err := conv(a.Left)
		if err != nil {
			return nil, err
		}
		for _, r := range a.Right {
			re, err := conv(r)
			if err != nil {
				return nil, err
			}
			l = &logicExpr{and: true, l: l, r: re}
		}
		return l, nil
	}
	l, err := andOf(g.Left)
	if err != nil {
		return nil, err
	}
	for _, r := range g.Right {
		re, err := andOf(r)
		if err != nil {
			return nil, err
		}
		l = &logicExpr{l: l, r: re}
	}
	return l, nil
}

func (st *modifyStmt) options(c *ctx, base row) (writeOptions, error) {
	o := writeOptions{keepNull: true, mergeObjects: true, ignoreRevs: true}
	if st.opts == nil {
		return o, nil
	}
	v, err := st.opts.eval(c, base)
	if err != nil {
		return o, err
	}
	m, ok := plain(v).(map[string]any)
	if !ok {
		return o, badQuery(NumBadParameter, "OPTIONS must be an object, got %s", typeName(v))
	}
	for name, val := range m {
		b, isBool := val.(bool)
		switch name {
		case "ignoreErrors", "keepNull", "mergeObjects", "ignoreRevs", "overwrite", "waitForSync", "exclusive", "refillIndexCaches":
			if !isBool {
				return o, badQuery(NumBadParameter, "OPTIONS %s must be a boolean", name)
			}
		}
		switch name {
		case "ignoreErrors":
			o.ignoreErrors = b
		case "keepNull":
			o.keepNull = b
		case "mergeObjects":
			o.mergeObjects = b
		case "ignoreRevs":
			o.ignoreRevs = b
		case "overwrite":
			if st.kind != WriteInsert || st.upsert {
				return o, badQuery(NumBadParameter, "OPTIONS overwrite is only for INSERT")
			}
			if b && o.overwrite == OverwriteConflict {
				o.overwrite = OverwriteReplace
			}
		case "overwriteMode":
			if st.kind != WriteInsert || st.upsert {
				return o, badQuery(NumBadParameter, "OPTIONS overwriteMode is only for INSERT")
			}
			switch val {
			case "conflict":
				o.overwrite = OverwriteConflict
			case "replace":
				o.overwrite = OverwriteReplace
			case "update":
				o.overwrite = OverwriteUpdate
			case "ignore":
				o.overwrite = OverwriteIgnore
			default:
				return o, badQuery(NumBadParameter, "OPTIONS overwriteMode must be conflict, replace, update or ignore")
			}
		case "waitForSync", "exclusive", "refillIndexCaches":
			// Accepted and moot: the node's fsync policy decides, there are
			// no locks or index caches.
		default:
			return o, badQuery(NumBadParameter, "unknown OPTIONS attribute %q (this statement takes ignoreErrors, keepNull, mergeObjects, ignoreRevs, overwrite, overwriteMode, waitForSync, exclusive, refillIndexCaches)", name)
		}
	}
	return o, nil
}

type modifyIter struct {
	st    *modifyStmt
	c     *ctx
	in    iter
	base  row
	name  string
	opts  writeOptions
	ready []row
	done  bool
}

func (st *modifyStmt) open(c *ctx, in iter, base row) (iter, error) {
	if c.opts.Writer == nil {
		return nil, badQuery(NumBadParameter, "this query cannot write (data-modification statements are not allowed here)")
	}
	name, err := st.coll.resolve(c)
	if err != nil {
		return nil, err
	}
	if _, err := c.opts.Source.Indexes(name); err != nil {
		return nil, err
	}
	o, err := st.options(c, base)
	if err != nil {
		return nil, err
	}
	c.modified[name] = true
	return &modifyIter{st: st, c: c, in: in, base: base, name: name, opts: o}, nil
}

func (m *modifyIter) next() (row, bool, error) {
	for len(m.ready) == 0 {
		if m.done {
			return nil, false, nil
		}
		if err := m.fill(); err != nil {
			return nil, false, err
		}
	}
	r := m.ready[0]
	m.ready = m.ready[1:]
	return r, true, nil
}

// fill writes the next chunk of input rows.
func (m *modifyIter) fill() error {
	var rows []row
	var intents []Intent
	limit := writeChunk
	if m.st.upsert {
		limit = 1 // each UPSERT looks up what the one before wrote
	}
	for len(rows) < limit {
		r, ok, err := m.in.next()
		if err != nil {
			return err
		}
		if !ok {
			m.done = true
			break
		}
		in, err := m.intent(r)
		if err != nil {
			if m.opts.ignoreErrors && isDocError(err) {
				continue
			}
			return err
		}
		pinRow(r)
		rows = append(rows, r)
		intents = append(intents, in)
	}
	if len(intents) == 0 {
		return nil
	}
	outs, err := m.c.opts.Writer.Write(m.name, intents, m.opts.ignoreErrors)
	if err != nil {
		return err
	}
	if len(outs) != len(intents) {
		return errorf(4, 500, "writer answered %d outcomes for %d writes", len(outs), len(intents))
	}
	for i, o := range outs {
		if o.Err != nil {
			if m.opts.ignoreErrors {
				continue
			}
			return o.Err
		}
		r := rows[i]
		var err error
		if r[m.st.oldSlot], err = m.rawValue(o.Old); err != nil {
			return err
		}
		if r[m.st.newSlot], err = m.rawValue(o.New); err != nil {
			return err
		}
		m.ready = append(m.ready, r)
	}
	return nil
}

func (m *modifyIter) rawValue(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	return m.c.decode(b)
}

// isDocError reports an error about one document (ignoreErrors skips it).
func isDocError(err error) bool {
	var e *Error
	if !asError(err, &e) {
		return false
	}
	switch e.Num {
	case NumDocumentTypeBad, NumKeyBad, NumDocumentHandleBad:
		return true
	}
	return false
}

// intent builds one row's write.
func (m *modifyIter) intent(r row) (Intent, error) {
	st, c := m.st, m.c
	in := Intent{Kind: st.kind, KeepNull: m.opts.keepNull, MergeObjects: m.opts.mergeObjects, Overwrite: m.opts.overwrite}
	if st.upsert {
		return m.upsertIntent(r, in)
	}
	v, err := st.doc.eval(c, r)
	if err != nil {
		return in, err
	}
	v = plain(v)
	switch st.kind {
	case WriteInsert:
		doc, ok := v.(map[string]any)
		if !ok {
			return in, badQuery(NumDocumentTypeBad, "invalid document type: INSERT takes an object, got %s", typeName(v))
		}
		if k, ok := doc["_key"]; ok {
			ks, isStr := k.(string)
			if !isStr {
				return in, badQuery(NumKeyBad, "illegal document key: _key must be a string")
			}
			in.Key = ks
		}
		in.Doc = userAttributes(doc)
		return in, nil
	case WriteRemove:
		key, rev, err := m.keyOf(v)
		if err != nil {
			return in, err
		}
		in.Key = key
		if !m.opts.ignoreRevs {
			in.IfRev = rev
		}
		return in, nil
	}
	key, rev, err := m.keyOf(v)
	if err != nil {
		return in, err
	}
	in.Key = key
	patch := v
	if st.with != nil {
		if patch, err = st.with.eval(c, r); err != nil {
			return in, err
		}
		patch = plain(patch)
	}
	doc, ok := patch.(map[string]any)
	if !ok {
		return in, badQuery(NumDocumentTypeBad, "invalid document type: %s takes an object, got %s", strings.ToUpper(st.kind.String()), typeName(patch))
	}
	if !m.opts.ignoreRevs {
		if r, ok := doc["_rev"].(string); ok && st.with != nil {
			rev = r
		}
		in.IfRev = rev
	}
	in.Doc = userAttributes(doc)
	return in, nil
}

// keyOf reads a document key: a string key or "collection/key", or an
// object's _key (and _rev).
func (m *modifyIter) keyOf(v any) (key, rev string, err error) {
	switch x := v.(type) {
	case string:
		key = x
		if i := strings.IndexByte(x, '/'); i >= 0 {
			if x[:i] != m.name {
				return "", "", badQuery(NumDocumentHandleBad, "illegal document identifier %q: not of collection %s", x, m.name)
			}
			key = x[i+1:]
		}
		return key, "", nil
	case map[string]any:
		k, ok := x["_key"].(string)
		if !ok {
			if id, isID := x["_id"].(string); isID {
				key, _, err := m.keyOf(id)
				rev, _ := x["_rev"].(string)
				return key, rev, err
			}
			return "", "", badQuery(NumDocumentHandleBad, "illegal document identifier: the object has no _key")
		}
		rev, _ := x["_rev"].(string)
		return k, rev, nil
	}
	return "", "", badQuery(NumDocumentHandleBad, "illegal document identifier: want a key or an object with _key, got %s", typeName(v))
}

// userAttributes drops the system attributes and converts numbers for the
// write path.
func userAttributes(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		switch k {
		case "_key", "_id", "_rev":
			continue
		}
		out[k] = toJSONValue(v)
	}
	return out
}

// upsertIntent looks the search example up and builds the update (or
// replace) of the first match, or the insert.
func (m *modifyIter) upsertIntent(r row, in Intent) (Intent, error) {
	st, c := m.st, m.c
	sv, err := st.search.eval(c, r)
	if err != nil {
		return in, err
	}
	sv = plain(sv)
	search, ok := sv.(map[string]any)
	if !ok {
		return in, badQuery(NumDocumentTypeBad, "invalid document type: UPSERT searches with an object, got %s", typeName(sv))
	}
	found, err := m.lookup(search)
	if err != nil {
		return in, err
	}
	r[st.oldSlot] = found
	if found == nil {
		v, err := st.insert.eval(c, r)
		if err != nil {
			return in, err
		}
		v = plain(v)
		doc, ok := v.(map[string]any)
		if !ok {
			return in, badQuery(NumDocumentTypeBad, "invalid document type: UPSERT ... INSERT takes an object, got %s", typeName(v))
		}
		in.Kind = WriteInsert
		in.Overwrite = OverwriteConflict
		if k, ok := doc["_key"].(string); ok {
			in.Key = k
		}
		in.Doc = userAttributes(doc)
		return in, nil
	}
	v, err := st.doc.eval(c, r)
	if err != nil {
		return in, err
	}
	v = plain(v)
	doc, ok := v.(map[string]any)
	if !ok {
		return in, badQuery(NumDocumentTypeBad, "invalid document type: UPSERT ... %s takes an object, got %s", strings.ToUpper(st.kind.String()), typeName(v))
	}
	in.Key, _ = found.(map[string]any)["_key"].(string)
	in.Doc = userAttributes(doc)
	return in, nil
}

// lookup finds the first document (in key order of its access path)
// whose attributes equal the example's.
func (m *modifyIter) lookup(example map[string]any) (any, error) {
	var terms []query.Term
	for k, v := range example {
		switch v.(type) {
		case bool, string, float64, json.Number:
			terms = append(terms, query.Term{Path: []string{k}, Op: query.TermEQ, Value: v})
		}
	}
	indexes, err := m.c.opts.Source.Indexes(m.name)
	if err != nil {
		return nil, err
	}
	it, err := m.c.scan(m.name, query.ChooseAccess(terms, indexes), true)
	if err != nil {
		return nil, err
	}
	defer m.c.closeIter(it)
	for {
		doc, ok, err := it.Next()
		if err != nil || !ok {
			return nil, err
		}
		m.c.scanned++
		if err := m.c.step(); err != nil {
			return nil, err
		}
		v, err := m.c.decode(doc)
		if err != nil {
			return nil, err
		}
		d := v.(map[string]any)
		match := true
		for k, want := range example {
			if !equal(d[k], want) {
				match = false
				break
			}
		}
		if match {
			return d, nil
		}
	}
}
