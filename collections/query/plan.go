package query

import (
	"bytes"
	"slices"
	"strings"
)

// AccessKind is how a plan reads the collection.
type AccessKind uint8

const (
	// FullScan reads every document in key order.
	FullScan AccessKind = iota
	// KeyRange reads the documents whose keys are in [Lo, Hi) in key order.
	KeyRange
	// IndexRange reads the entries of Index whose value encodings
	// (AppendKey) are in [Lo, Hi), in index order (value, then key).
	IndexRange
)

var accessNames = [...]string{FullScan: "full-scan", KeyRange: "primary-key-range", IndexRange: "index-range"}

func (k AccessKind) String() string { return accessNames[k] }

// Index is a secondary index the planner may use: one attribute path.
type Index struct {
	ID   uint32
	Name string
	Path []string
}

// Access is what the plan reads. Lo is inclusive, Hi exclusive; nil means
// unbounded. Reverse reads from Hi down to Lo.
type Access struct {
	Kind    AccessKind
	Index   Index
	Lo, Hi  []byte
	Reverse bool
}

// Plan is a bound query with its access path.
type Plan struct {
	b      *Bound
	access Access
	// sorted says the access path yields rows in ORDER BY order.
	sorted bool
}

// Access returns what the plan reads.
func (p *Plan) Access() Access { return p.access }

// Collection returns the collection the plan reads.
func (p *Plan) Collection() string { return p.b.q.Collection }

// streaming reports a plan that emits rows as it reads them (no in-memory
// sort or aggregation).
func (p *Plan) streaming() bool {
	return !p.b.q.aggregate && (len(p.b.q.orderBy) == 0 || p.sorted)
}

// Explanation describes a plan for users (the explain endpoint).
type Explanation struct {
	Collection   string `json:"collection"`
	Access       string `json:"access"`
	Index        string `json:"index,omitempty"`
	Path         string `json:"path,omitempty"`
	Reverse      bool   `json:"reverse,omitempty"`
	SortInMemory bool   `json:"sortInMemory"`
	Aggregate    bool   `json:"aggregate"`
}

// Explain describes the plan.
func (p *Plan) Explain() Explanation {
	e := Explanation{
		Collection:   p.b.q.Collection,
		Access:       p.access.Kind.String(),
		Reverse:      p.access.Reverse,
		SortInMemory: len(p.b.q.orderBy) > 0 && !p.sorted,
		Aggregate:    p.b.q.aggregate,
	}
	if p.access.Kind == IndexRange {
		e.Index = p.access.Index.Name
		e.Path = strings.Join(p.access.Index.Path, ".")
	}
	if p.access.Kind == KeyRange {
		e.Path = "_key"
	}
	return e
}

// bound is one end of a range over values of one class.
type bound struct {
	set       bool
	v         any
	inclusive bool
}

// valueRange is what the AND terms on one path allow.
type valueRange struct {
	path   []string
	class  class
	lo, hi bound
	eq     bool
}

// score ranks ranges: a point beats a two-sided range beats a one-sided one.
func (r *valueRange) score() int {
	switch {
	case r.eq:
		return 3
	case r.lo.set && r.hi.set:
		return 2
	}
	return 1
}

// Plan chooses the access path among the primary key and indexes.
func (b *Bound) Plan(indexes []Index) *Plan {
	p := &Plan{b: b}
	ranges := b.ranges()
	var best *valueRange
	bestScore := 0
	for _, r := range ranges {
		s := r.score() * 2
		isKey := len(r.path) == 1 && r.path[0] == "_key"
		if isKey {
			if r.class != classString {
				continue
			}
			s++ // no index entry to follow
		} else if !slices.ContainsFunc(indexes, func(ix Index) bool { return slices.Equal(ix.Path, r.path) }) {
			continue
		}
		if s > bestScore {
			best, bestScore = r, s
		}
	}
	if best != nil {
		if len(best.path) == 1 && best.path[0] == "_key" {
			p.access = keyAccess(best)
		} else {
			i := slices.IndexFunc(indexes, func(ix Index) bool { return slices.Equal(ix.Path, best.path) })
			p.access = indexAccess(indexes[i], best)
		}
	}
	p.orderFromAccess()
	return p
}

// orderFromAccess marks the plan sorted when the access path already yields
// the ORDER BY order (one term on _key, or on the path of the index read).
func (p *Plan) orderFromAccess() {
	q := p.b.q
	if q.aggregate || len(q.orderBy) != 1 {
		return
	}
	t := q.orderBy[0]
	isKey := len(t.path) == 1 && t.path[0] == "_key"
	switch {
	case isKey && (p.access.Kind == FullScan || p.access.Kind == KeyRange):
	case p.access.Kind == IndexRange && slices.Equal(t.path, p.access.Index.Path):
	default:
		return
	}
	p.sorted = true
	p.access.Reverse = t.desc
}

// ranges collects, per path, the range the top-level AND terms allow. Terms
// of another class than the first on a path are left to the filter.
func (b *Bound) ranges() []*valueRange {
	var terms []cond
	switch w := b.q.where.(type) {
	case nil:
		return nil
	case *andCond:
		terms = w.terms
	default:
		terms = []cond{w}
	}
	var out []*valueRange
	for _, t := range terms {
		c, ok := t.(*cmpCond)
		if !ok || c.op == opNE {
			continue
		}
		path, val, op, ok := b.pathAndValue(c)
		if !ok {
			continue
		}
		cl := classOf(val)
		if cl != classBool && cl != classNumber && cl != classString {
			continue
		}
		i := slices.IndexFunc(out, func(r *valueRange) bool { return slices.Equal(r.path, path) })
		if i < 0 {
			out = append(out, &valueRange{path: path, class: cl})
			i = len(out) - 1
		}
		r := out[i]
		if r.class != cl {
			continue
		}
		switch op {
		case opEQ:
			r.lo = tighterLo(r.lo, bound{set: true, v: val, inclusive: true})
			r.hi = tighterHi(r.hi, bound{set: true, v: val, inclusive: true})
		case opGT, opGE:
			r.lo = tighterLo(r.lo, bound{set: true, v: val, inclusive: op == opGE})
		case opLT, opLE:
			r.hi = tighterHi(r.hi, bound{set: true, v: val, inclusive: op == opLE})
		}
		r.eq = r.lo.set && r.hi.set && r.lo.inclusive && r.hi.inclusive && compareTotal(r.lo.v, r.hi.v) == 0
	}
	return out
}

// pathAndValue reads "path op value" or "value op path" (flipped).
func (b *Bound) pathAndValue(c *cmpCond) ([]string, any, cmpOp, bool) {
	if c.l.kind == operandPath {
		if v, ok := b.resolved(&c.r); ok {
			return c.l.path, v, c.op, true
		}
	}
	if c.r.kind == operandPath {
		if v, ok := b.resolved(&c.l); ok {
			return c.r.path, v, c.op.flip(), true
		}
	}
	return nil, nil, 0, false
}

func tighterLo(cur, n bound) bound {
	if !cur.set {
		return n
	}
	switch c := compareTotal(n.v, cur.v); {
	case c > 0:
		return n
	case c == 0 && !n.inclusive:
		return n
	}
	return cur
}

func tighterHi(cur, n bound) bound {
	if !cur.set {
		return n
	}
	switch c := compareTotal(n.v, cur.v); {
	case c < 0:
		return n
	case c == 0 && !n.inclusive:
		return n
	}
	return cur
}

// classSpan is the [lo, hi) range of encodings of a class.
func classSpan(c class) (lo, hi []byte) {
	switch c {
	case classBool:
		return []byte{tagFalse}, []byte{tagTrue + 1}
	case classNumber:
		return []byte{tagNumber}, []byte{tagNumber + 1}
	}
	return []byte{tagString}, []byte{tagString + 1}
}

func indexAccess(ix Index, r *valueRange) Access {
	a := Access{Kind: IndexRange, Index: ix}
	a.Lo, a.Hi = classSpan(r.class)
	if r.lo.set {
		a.Lo = AppendKey(nil, r.lo.v)
		if !r.lo.inclusive {
			a.Lo = PrefixEnd(a.Lo)
		}
	}
	if r.hi.set {
		enc := AppendKey(nil, r.hi.v)
		if r.hi.inclusive {
			if end := PrefixEnd(enc); end != nil {
				a.Hi = end
			}
		} else {
			a.Hi = enc
		}
	}
	if bytes.Compare(a.Lo, a.Hi) > 0 {
		a.Hi = a.Lo // empty
	}
	return a
}

func keyAccess(r *valueRange) Access {
	a := Access{Kind: KeyRange}
	if r.lo.set {
		a.Lo = []byte(r.lo.v.(string))
		if !r.lo.inclusive {
			a.Lo = append(a.Lo, 0)
		}
	}
	if r.hi.set {
		a.Hi = []byte(r.hi.v.(string))
		if r.hi.inclusive {
			a.Hi = append(a.Hi, 0)
		}
	}
	if a.Lo != nil && a.Hi != nil && bytes.Compare(a.Lo, a.Hi) > 0 {
		a.Hi = a.Lo // empty
	}
	return a
}
