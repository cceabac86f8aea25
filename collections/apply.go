package collections

import (
	"fmt"
	"slices"
)

// Apply is the reducer: it applies op to the document in place. It returns
// false and changes nothing when op was applied before (a duplicate). An
// invalid op, or an op for another document, returns an error and changes
// nothing.
//
// Apply needs causal delivery: every op on this document that op's context
// covers has already been applied to it. It never reads a clock: concurrent ops are
// told apart from causally earlier ones by op.Context alone, and HLC only
// breaks ties between concurrent writes.
func (d *Doc) Apply(op *Op) (bool, error) {
	if err := op.Validate(); err != nil {
		return false, err
	}
	if op.Collection != d.collection || op.Key != d.key {
		return false, fmt.Errorf("%w: op for %s applied to %s", ErrWrongDocument, op.ID(), d.ID())
	}
	if d.applied.Covers(op.Dot) {
		return false, nil
	}
	d.apply(op)
	d.applied.raise(op.Dot.Region, op.Dot.Seq)
	d.heads = insertSorted(keepUnobserved(d.heads, op.Context, markerDot), op.Dot, markerDot)
	return true, nil
}

// apply changes the state for a valid, new op. Every op removes the entries
// it observed within its scope and adds its own; entries it did not observe
// (concurrent ones) are never touched.
func (d *Doc) apply(op *Op) {
	ctx := op.Context
	switch op.Kind {
	case KindInsert, KindReplace:
		d.root.removeObserved(ctx)
		d.root.write(op.Dot, op.HLC, slices.Clone(op.Value))
		d.writeExpiry(op)
	case KindDelete:
		d.root.removeObserved(ctx)
		d.expiry = keepUnobserved(d.expiry, ctx, expiryDot)
	case KindSet, KindIncrement:
		parent := d.root.claimPath(op.Path[:len(op.Path)-1], op.Dot, ctx)
		target := parent.child(op.Path[len(op.Path)-1], true)
		if op.Kind == KindSet {
			target.removeObserved(ctx)
			target.write(op.Dot, op.HLC, slices.Clone(op.Value))
		} else {
			delta, _ := parseInteger(op.Value)
			target.incs.add(op.Dot, delta)
		}
		if op.ExpiresAt != 0 {
			d.writeExpiry(op)
		}
	case KindUnset:
		parent := &d.root
		for _, name := range op.Path[:len(op.Path)-1] {
			if parent = parent.child(name, false); parent == nil {
				return
			}
		}
		name := op.Path[len(op.Path)-1]
		if target := parent.child(name, false); target != nil {
			target.removeObserved(ctx)
			parent.dropChildIfEmpty(name)
		}
	}
}

// writeExpiry replaces the expiry writes op observed with its own.
func (d *Doc) writeExpiry(op *Op) {
	d.expiry = keepUnobserved(d.expiry, op.Context, expiryDot)
	d.expiry = insertSorted(d.expiry, expiryEntry{dot: op.Dot, hlc: op.HLC, at: op.ExpiresAt}, expiryDot)
}

// claimPath makes n and the nodes along path objects on behalf of a write
// beneath them: at each, it removes the observed entries (markers, and the
// non-object values the node held) and adds a marker for dot. Siblings are
// not touched. It returns the node at the end of path.
func (n *node) claimPath(path []string, dot Dot, ctx Vector) *node {
	for i := 0; ; i++ {
		n.markers = keepUnobserved(n.markers, ctx, markerDot)
		n.vals = keepUnobserved(n.vals, ctx, leafDot)
		n.incs.keepUnobserved(ctx)
		n.markers = insertSorted(n.markers, dot, markerDot)
		if i == len(path) {
			return n
		}
		n = n.child(path[i], true)
	}
}

// removeObserved removes every entry ctx covers from n and its descendants,
// and the descendants left empty.
func (n *node) removeObserved(ctx Vector) {
	n.markers = keepUnobserved(n.markers, ctx, markerDot)
	n.vals = keepUnobserved(n.vals, ctx, leafDot)
	n.incs.keepUnobserved(ctx)
	if len(n.kids) == 0 {
		return
	}
	kept := n.kids[:0]
	for _, c := range n.kids {
		c.n.removeObserved(ctx)
		if !c.n.empty() {
			kept = append(kept, c)
		}
	}
	clear(n.kids[len(kept):])
	n.kids = kept
}

// write adds the value raw (valid compact JSON, owned by the state) written
// by dot: an object becomes a marker plus its members as children; anything
// else a leaf value.
func (n *node) write(dot Dot, hlc uint64, raw []byte) {
	if kindOfValue(raw) != valueObject {
		n.vals = insertSorted(n.vals, leaf{dot: dot, hlc: hlc, raw: raw}, leafDot)
		return
	}
	n.markers = insertSorted(n.markers, dot, markerDot)
	for _, m := range splitObject(raw) {
		n.child(m.name, true).write(dot, hlc, m.raw)
	}
}

// keepUnobserved filters s in place down to the entries ctx does not cover.
func keepUnobserved[E any](s []E, ctx Vector, dot func(E) Dot) []E {
	kept := s[:0]
	for _, e := range s {
		if !ctx.Covers(dot(e)) {
			kept = append(kept, e)
		}
	}
	clear(s[len(kept):])
	return kept
}
