package collections

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/causeway/causeway/internal/jsonstr"
)

// AppendJSON appends the user-visible document to dst: _key, _id and _rev
// first, then the attributes with names in byte order. It returns dst
// unchanged and false when the document does not exist.
//
// An attribute shows, by what its node holds: an object when any write made
// it one (objects win over concurrent non-object values); else the winning
// value, plus the increments it did not observe when it is a number; else
// the sum of its increments.
func (d *Doc) AppendJSON(dst []byte) ([]byte, bool) {
	if !d.Exists() {
		return dst, false
	}
	dst = append(dst, `{"_key":`...)
	dst = jsonstr.Append(dst, d.key)
	dst = append(dst, `,"_id":`...)
	dst = jsonstr.Append(dst, d.ID())
	dst = append(dst, `,"_rev":`...)
	dst = jsonstr.Append(dst, d.Rev())
	dst = d.root.appendMembers(dst, true)
	return append(dst, '}'), true
}

// JSON returns the user-visible document, or false when it does not exist.
func (d *Doc) JSON() ([]byte, bool) {
	return d.AppendJSON(nil)
}

func (n *node) visible() bool {
	return len(n.markers) > 0 || len(n.vals) > 0 || len(n.incs) > 0
}

func (n *node) appendValue(dst []byte) []byte {
	if len(n.markers) > 0 {
		dst = append(dst, '{')
		dst = n.appendMembers(dst, false)
		return append(dst, '}')
	}
	if len(n.vals) > 0 {
		w := n.vals[winner(n.vals)]
		if len(n.incs) > 0 && kindOfValue(w.raw) == valueNumber {
			if num, ok := parseNumber(w.raw); ok {
				return num.plus(n.incSum()).appendJSON(dst)
			}
		}
		return append(dst, w.raw...)
	}
	return strconv.AppendInt(dst, n.incSum(), 10)
}

// appendMembers appends the visible children as object members; comma says
// whether the first one needs a leading comma.
func (n *node) appendMembers(dst []byte, comma bool) []byte {
	for _, c := range n.kids {
		if !c.n.visible() {
			continue
		}
		if comma {
			dst = append(dst, ',')
		}
		comma = true
		dst = jsonstr.Append(dst, c.name)
		dst = append(dst, ':')
		dst = c.n.appendValue(dst)
	}
	return dst
}

// incSum adds the increments; 64-bit two's complement, so the sum does not
// depend on the order.
func (n *node) incSum() int64 {
	return n.incs.sum()
}

// Conflict is a value that lost to a concurrent write of the same attribute
// (or to a concurrent write that made the attribute an object). It stays
// until a write that observed it replaces or removes the attribute.
type Conflict struct {
	Path  []string
	Dot   Dot
	HLC   uint64
	Value json.RawMessage
}

// Conflicts lists the losing values of the document, by path then dot. It is
// empty for a document that does not exist.
func (d *Doc) Conflicts() []Conflict {
	if !d.Exists() {
		return nil
	}
	var out []Conflict
	d.root.appendConflicts(&out, nil)
	return out
}

func (n *node) appendConflicts(out *[]Conflict, path []string) {
	if len(n.vals) > 0 && (len(n.markers) > 0 || len(n.vals) > 1) {
		win := -1
		if len(n.markers) == 0 {
			win = winner(n.vals)
		}
		for i, v := range n.vals {
			if i != win {
				*out = append(*out, Conflict{Path: slices.Clone(path), Dot: v.dot, HLC: v.hlc, Value: slices.Clone(v.raw)})
			}
		}
	}
	for _, c := range n.kids {
		c.n.appendConflicts(out, append(path, c.name))
	}
}
