package aql

import (
	"math/rand/v2"

	"github.com/causeway/causeway/collections/query"
)

// ExplainNode is one step of a query plan, in ArangoDB's node names:
// EnumerateCollectionNode (full scan), IndexNode (primary key or index
// range), EnumerateListNode, FilterNode, CalculationNode (LET),
// SortNode, LimitNode, CollectNode, SubqueryNode, ReturnNode and the
// modification nodes.
type ExplainNode struct {
	Type       string `json:"type"`
	Collection string `json:"collection,omitempty"`
	Variable   string `json:"outVariable,omitempty"`
	// Access is the access path of a FOR over a collection, as the SQL
	// planner explains it (the index it reads).
	Access *query.Explanation `json:"access,omitempty"`
	// PerOuterRow says the range depends on an outer loop's row (a join):
	// it is chosen again for each, with the access shown.
	PerOuterRow bool `json:"perOuterRow,omitempty"`
	// Depth is the subquery nesting.
	Depth int `json:"depth,omitempty"`
}

// Explanation is a query's plan.
type Explanation struct {
	Nodes       []ExplainNode `json:"nodes"`
	Collections []string      `json:"collections"`
	Writes      bool          `json:"writes"`
}

// Explain describes how the query would run with these parameters.
func (q *Query) Explain(params map[string]any, src Source) (Explanation, error) {
	bound, err := q.bind(params)
	if err != nil {
		return Explanation{}, err
	}
	c := &ctx{q: q, params: bound, opts: Options{Source: src}, maxRows: DefaultMaxMemoryRows, open: map[DocIter]struct{}{}, modified: map[string]bool{}, rnd: rand.New(rand.NewPCG(1, 2))}
	e := Explanation{Collections: q.Collections(), Writes: q.writes}
	if e.Collections == nil {
		e.Collections = []string{}
	}
	for _, name := range q.collections {
		if _, err := src.Indexes(name); err != nil {
			return Explanation{}, err
		}
	}
	if err := c.explainPipeline(q.main, &e, 0, make(row, q.slots)); err != nil {
		return Explanation{}, err
	}
	return e, nil
}

func (c *ctx) explainPipeline(p *pipeline, e *Explanation, depth int, base row) error {
	e.Nodes = append(e.Nodes, ExplainNode{Type: "SingletonNode", Depth: depth})
	for _, st := range p.stmts {
		n := ExplainNode{Depth: depth}
		switch s := st.(type) {
		case *forStmt:
			n.Variable = s.name
			if s.coll == nil {
				n.Type = "EnumerateListNode"
				break
			}
			name, err := s.coll.resolve(c)
			if err != nil {
				return err
			}
			n.Collection = name
			var terms []accessTerm
			for _, t := range s.terms {
				if !independent(t.value, 0) {
					// Depends on an outer loop: shown with a placeholder
					// of the value's likely class (a string, as keys are).
					n.PerOuterRow = true
					terms = append(terms, accessTerm{path: t.path, op: t.op, value: &litExpr{v: ""}})
					continue
				}
				terms = append(terms, t)
			}
			a, err := c.access(name, terms, base)
			if err != nil {
				return err
			}
			x := query.ExplainAccess(name, a)
			n.Access = &x
			n.Type = "EnumerateCollectionNode"
			if a.Kind != query.FullScan {
				n.Type = "IndexNode"
			}
		case *letStmt:
			n.Type = "CalculationNode"
		case *filterStmt:
			n.Type = "FilterNode"
		case *sortStmt:
			n.Type = "SortNode"
		case *limitStmt:
			n.Type = "LimitNode"
		case *collectStmt:
			n.Type = "CollectNode"
		case *modifyStmt:
			name, err := s.coll.resolve(c)
			if err != nil {
				return err
			}
			n.Collection = name
			n.Type = map[WriteKind]string{WriteInsert: "InsertNode", WriteUpdate: "UpdateNode", WriteReplace: "ReplaceNode", WriteRemove: "RemoveNode"}[s.kind]
			if s.upsert {
				n.Type = "UpsertNode"
			}
		}
		e.Nodes = append(e.Nodes, n)
		for _, sub := range subqueries(st) {
			e.Nodes = append(e.Nodes, ExplainNode{Type: "SubqueryNode", Depth: depth})
			if err := c.explainPipeline(sub, e, depth+1, base); err != nil {
				return err
			}
		}
	}
	if p.ret != nil {
		e.Nodes = append(e.Nodes, ExplainNode{Type: "ReturnNode", Depth: depth})
		for _, sub := range subqueriesOf(p.ret.e, nil) {
			e.Nodes = append(e.Nodes, ExplainNode{Type: "SubqueryNode", Depth: depth})
			if err := c.explainPipeline(sub, e, depth+1, base); err != nil {
				return err
			}
		}
	}
	return nil
}

// subqueries lists the subqueries a statement's expressions hold.
func subqueries(st stmt) []*pipeline {
	var out []*pipeline
	switch s := st.(type) {
	case *forStmt:
		if s.src != nil {
			out = subqueriesOf(s.src, out)
		}
	case *letStmt:
		out = subqueriesOf(s.e, out)
	case *filterStmt:
		out = subqueriesOf(s.e, out)
	}
	return out
}

func subqueriesOf(e expr, out []*pipeline) []*pipeline {
	switch x := e.(type) {
	case *subqueryExpr:
		return append(out, x.p)
	case *callExpr:
		for _, a := range x.args {
			out = subqueriesOf(a, out)
		}
	case *binExpr:
		return subqueriesOf(x.r, subqueriesOf(x.l, out))
	case *logicExpr:
		return subqueriesOf(x.r, subqueriesOf(x.l, out))
	case *arrayExpr:
		for _, it := range x.items {
			out = subqueriesOf(it, out)
		}
	case *objectExpr:
		for _, m := range x.members {
			out = subqueriesOf(m.value, out)
		}
	case *attrExpr:
		return subqueriesOf(x.base, out)
	case *indexExpr:
		return subqueriesOf(x.base, out)
	}
	return out
}
