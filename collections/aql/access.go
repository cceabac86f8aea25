package aql

import (
	"github.com/causeway/causeway/collections/query"
)

// accessTerm is a FILTER term "v.path op value" a FOR over a collection may
// read through the primary key or an index: value depends only on
// variables declared before the FOR, so it is known when the loop starts
// (for a join, once per outer row).
type accessTerm struct {
	path  []string
	op    query.TermOp
	value expr
}

// pushDownFilters gives each FOR over a collection the top-level AND terms
// of the FILTERs that follow it, up to the next FOR, COLLECT, LIMIT or
// data modification. The FILTERs stay: an access path only narrows.
func (c *compiler) pushDownFilters(p *pipeline) {
	for i, st := range p.stmts {
		f, ok := st.(*forStmt)
		if !ok || f.coll == nil {
			continue
		}
	scan:
		for _, next := range p.stmts[i+1:] {
			switch n := next.(type) {
			case *filterStmt:
				for _, t := range andTerms(n.e, nil) {
					if at, ok := termOf(t, f.slot); ok {
						f.terms = append(f.terms, at)
					}
				}
			case *letStmt, *sortStmt:
			default:
				break scan
			}
		}
	}
}

// keySort links a SORT on the _key of the pipeline's first FOR (over a
// collection, with only FILTERs and LETs between) to that loop: the loop
// reads in key order when its access path allows, and the SORT then lets
// the rows through (keySortIter).
func keySort(p *pipeline) {
	for i, st := range p.stmts {
		switch s := st.(type) {
		case *forStmt:
			if s.coll == nil {
				return
			}
			for _, next := range p.stmts[i+1:] {
				switch n := next.(type) {
				case *filterStmt, *letStmt:
					continue
				case *sortStmt:
					if len(n.terms) != 1 {
						return
					}
					if path, ok := pathOn(n.terms[0].e, s.slot); ok && len(path) == 1 && path[0] == "_key" {
						s.keyOrder = 1
						if n.terms[0].desc {
							s.keyOrder = 2
						}
						n.byKey = s
					}
				}
				return
			}
			return
		case *letStmt, *filterStmt:
		default:
			return
		}
	}
}

func andTerms(e expr, out []expr) []expr {
	if l, ok := e.(*logicExpr); ok && l.and {
		return andTerms(l.r, andTerms(l.l, out))
	}
	return append(out, e)
}

var termOps = map[binOp]query.TermOp{opEQ: query.TermEQ, opLT: query.TermLT, opLE: query.TermLE, opGT: query.TermGT, opGE: query.TermGE}

var flipped = map[query.TermOp]query.TermOp{query.TermEQ: query.TermEQ, query.TermLT: query.TermGT, query.TermLE: query.TermGE, query.TermGT: query.TermLT, query.TermGE: query.TermLE}

func termOf(e expr, slot int) (accessTerm, bool) {
	b, ok := e.(*binExpr)
	if !ok {
		return accessTerm{}, false
	}
	op, ok := termOps[b.op]
	if !ok {
		return accessTerm{}, false
	}
	if path, ok := pathOn(b.l, slot); ok && independent(b.r, slot) {
		return accessTerm{path: path, op: op, value: b.r}, true
	}
	if path, ok := pathOn(b.r, slot); ok && independent(b.l, slot) {
		return accessTerm{path: path, op: flipped[op], value: b.l}, true
	}
	return accessTerm{}, false
}

// pathOn reads v.a.b (or v["a"]) on the variable in slot.
func pathOn(e expr, slot int) ([]string, bool) {
	var rev []string
	for {
		switch x := e.(type) {
		case *attrExpr:
			rev = append(rev, x.name)
			e = x.base
		case *indexExpr:
			lit, ok := x.index.(*litExpr)
			if !ok {
				return nil, false
			}
			s, ok := lit.v.(string)
			if !ok {
				return nil, false
			}
			rev = append(rev, s)
			e = x.base
		case *varExpr:
			if x.slot != slot || len(rev) == 0 {
				return nil, false
			}
			path := make([]string, len(rev))
			for i := range rev {
				path[i] = rev[len(rev)-1-i]
			}
			return path, true
		default:
			return nil, false
		}
	}
}

// independent reports an expression that reads only variables declared
// before slot, and no collection, subquery or random number.
func independent(e expr, slot int) bool {
	switch x := e.(type) {
	case *litExpr, *paramExpr:
		return true
	case *varExpr:
		return x.slot < slot
	case *attrExpr:
		return independent(x.base, slot)
	case *indexExpr:
		return independent(x.base, slot) && independent(x.index, slot)
	case *arrayExpr:
		for _, it := range x.items {
			if !independent(it, slot) {
				return false
			}
		}
		return true
	case *binExpr:
		return independent(x.l, slot) && independent(x.r, slot)
	case *logicExpr:
		return independent(x.l, slot) && independent(x.r, slot)
	case *negExpr:
		return independent(x.x, slot)
	case *notExpr:
		return independent(x.x, slot)
	case *callExpr:
		if x.name == "RAND" {
			return false
		}
		for _, a := range x.args {
			if !independent(a, slot) {
				return false
			}
		}
		return true
	}
	return false
}

// access evaluates a FOR's terms for one outer row and picks its path.
func (c *ctx) access(name string, terms []accessTerm, r row) (query.Access, error) {
	if len(terms) == 0 {
		return query.Access{Kind: query.FullScan}, nil
	}
	indexes, err := c.opts.Source.Indexes(name)
	if err != nil {
		return query.Access{}, err
	}
	qt := make([]query.Term, 0, len(terms))
	for _, t := range terms {
		v, err := t.value.eval(c, r)
		if err != nil {
			return query.Access{}, err
		}
		qt = append(qt, query.Term{Path: t.path, Op: t.op, Value: plain(v)})
	}
	return query.ChooseAccess(qt, indexes), nil
}
