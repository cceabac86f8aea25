package query

import (
	"bytes"
	"slices"
)

// TermOp is the comparison of a Term.
type TermOp uint8

const (
	TermEQ TermOp = iota
	TermLT
	TermLE
	TermGT
	TermGE
)

// Term is one top-level AND term "path op value" of a condition written in
// another language (AQL's FILTER), whose value is known before the scan.
type Term struct {
	Path  []string
	Op    TermOp
	Value any
}

// ChooseAccess picks the access path for terms under AQL's comparison
// semantics, where every pair of values is ordered (null < booleans <
// numbers < strings < arrays < objects) and a missing attribute reads as
// null. Ranges therefore span classes: "> 5" also holds every string, and
// a range with no lower bound also holds null and missing attributes,
// which an index does not list, so only ranges with a lower bound (or _key
// ranges: every document has a _key) use an index. Null, array and object
// values are left to the filter. The result only ever narrows: the caller
// still evaluates the whole condition on every document.
func ChooseAccess(terms []Term, indexes []Index) Access {
	type rng struct {
		path   []string
		lo, hi bound
	}
	var ranges []*rng
	for _, t := range terms {
		switch classOf(t.Value) {
		case classBool, classNumber, classString:
		default:
			continue
		}
		i := slices.IndexFunc(ranges, func(r *rng) bool { return slices.Equal(r.path, t.Path) })
		if i < 0 {
			ranges = append(ranges, &rng{path: t.Path})
			i = len(ranges) - 1
		}
		r := ranges[i]
		b := bound{set: true, v: t.Value, inclusive: t.Op == TermEQ || t.Op == TermLE || t.Op == TermGE}
		switch t.Op {
		case TermEQ:
			r.lo, r.hi = tighterLo(r.lo, b), tighterHi(r.hi, b)
		case TermGT, TermGE:
			r.lo = tighterLo(r.lo, b)
		case TermLT, TermLE:
			r.hi = tighterHi(r.hi, b)
		}
	}
	var best *rng
	var bestIx *Index
	bestScore := 0
	for _, r := range ranges {
		isKey := len(r.path) == 1 && r.path[0] == "_key"
		score := 1
		switch {
		case r.lo.set && r.hi.set && r.lo.inclusive && r.hi.inclusive && compareTotal(r.lo.v, r.hi.v) == 0:
			score = 3
		case r.lo.set && r.hi.set:
			score = 2
		}
		score *= 2
		var ix *Index
		if isKey {
			// Keys are strings: a bound of another class says all or none.
			if (r.lo.set && classOf(r.lo.v) != classString) || (r.hi.set && classOf(r.hi.v) != classString) {
				continue
			}
			score++
		} else {
			if !r.lo.set {
				continue
			}
			i := slices.IndexFunc(indexes, func(x Index) bool { return slices.Equal(x.Path, r.path) })
			if i < 0 {
				continue
			}
			ix = &indexes[i]
		}
		if score > bestScore {
			best, bestIx, bestScore = r, ix, score
		}
	}
	if best == nil {
		return Access{Kind: FullScan}
	}
	if bestIx == nil {
		return keyAccess(&valueRange{lo: best.lo, hi: best.hi})
	}
	a := Access{Kind: IndexRange, Index: *bestIx}
	a.Lo = AppendKey(nil, best.lo.v)
	if !best.lo.inclusive {
		a.Lo = PrefixEnd(a.Lo)
	}
	if best.hi.set {
		enc := AppendKey(nil, best.hi.v)
		if best.hi.inclusive {
			enc = PrefixEnd(enc)
		}
		a.Hi = enc
	}
	if a.Hi != nil && bytes.Compare(a.Lo, a.Hi) > 0 {
		a.Hi = a.Lo // empty
	}
	return a
}

// ExplainAccess describes an access path of a collection the way Explain
// does for SQL.
func ExplainAccess(collection string, a Access) Explanation {
	e := Explanation{Collection: collection, Access: a.Kind.String(), Reverse: a.Reverse}
	switch a.Kind {
	case IndexRange:
		e.Index = a.Index.Name
		e.Path = joinPath(a.Index.Path)
	case KeyRange:
		e.Path = "_key"
	}
	return e
}

func joinPath(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
