package collections

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"slices"
	"strings"
)

// Doc is the replicated state of one document: its attribute tree with the
// dots that wrote each part, the document's expiry register and the vector of
// ops applied to it. It holds everything the reducer needs, and its binary
// encoding (AppendBinary) is identical in every replica that applied the same
// ops. A Doc is not safe for concurrent use.
type Doc struct {
	collection string
	key        string
	// applied has, per region, the highest sequence of the ops applied to
	// this document that are not yet causally stable; it detects
	// duplicates (callers ignore the ops stable covers, see Compact).
	applied Vector
	// heads are the dots of the applied ops that no other applied op
	// observed (the latest write, or the concurrent latest writes),
	// sorted. They name the revision: a function of the set of ops applied
	// to the document, unchanged by compaction, and the same in a replica
	// that collected the document's earlier life (Compact returned gone)
	// as in one that kept it, since every later op observed that life.
	heads []Dot
	// expiry holds the concurrent expiry writes (usually one); the winner by
	// (HLC, region, seq) is the document's expiry.
	expiry []expiryEntry
	// root is the document object. The document exists while root has an
	// object marker.
	root node
}

// expiryEntry is one write of the expiry register; at is Unix ms, 0 none.
type expiryEntry struct {
	dot Dot
	hlc uint64
	at  uint64
}

// node is one attribute (or the document root). Each entry is the trace of an
// op that wrote here and has not been removed by an op that observed it.
// Entries are sorted by dot, children by name; a node with no entries and no
// children is removed from its parent.
type node struct {
	// markers are the dots of ops that made this node an object: writes of
	// an object value here, and writes beneath it.
	markers []Dot
	// vals are concurrent writes of a non-object value (conflicting sets).
	vals []leaf
	// incs are increments not yet observed by a set, unset or delete here.
	incs increments
	kids []child
}

type leaf struct {
	dot Dot
	hlc uint64
	raw []byte // compact JSON, never an object
}

type child struct {
	name string
	n    *node
}

// NewDoc returns the state of a document no op has touched yet.
func NewDoc(collection, key string) *Doc {
	return &Doc{collection: collection, key: key}
}

// Collection returns the name of the document's collection.
func (d *Doc) Collection() string { return d.collection }

// Key returns the document's _key.
func (d *Doc) Key() string { return d.key }

// ID returns the document's _id, collection/key.
func (d *Doc) ID() string { return d.collection + "/" + d.key }

// Exists reports whether the document is alive (inserted or written and not
// deleted since). Expiry is not considered: see ExpiresAt.
func (d *Doc) Exists() bool { return len(d.root.markers) > 0 }

// Applied returns the vector of ops applied to the document (a copy).
func (d *Doc) Applied() Vector { return slices.Clone(d.applied) }

// Rev returns the document's revision: a hash of its heads (the ops applied
// to it that no other applied op observed), so it
// changes on every applied op and is the same in every replica that applied
// the same ops.
func (d *Doc) Rev() string {
	h := fnv.New64a()
	var buf [binary.MaxVarintLen64]byte
	for _, e := range d.heads {
		h.Write(binary.AppendUvarint(buf[:0], uint64(len(e.Region))))
		h.Write([]byte(e.Region))
		h.Write(binary.AppendUvarint(buf[:0], e.Seq))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ExpiresAt returns the document's expiry in Unix milliseconds, 0 when it
// has none. Readers compare it with their own clock; the reducer never does.
func (d *Doc) ExpiresAt() uint64 {
	best := -1
	for i := range d.expiry {
		if best < 0 || beats(d.expiry[i].hlc, d.expiry[i].dot, d.expiry[best].hlc, d.expiry[best].dot) {
			best = i
		}
	}
	if best < 0 {
		return 0
	}
	return d.expiry[best].at
}

// beats is the winner order of concurrent writes: higher HLC, then higher
// region, then higher sequence.
func beats(hlcA uint64, a Dot, hlcB uint64, b Dot) bool {
	if hlcA != hlcB {
		return hlcA > hlcB
	}
	if a.Region != b.Region {
		return a.Region > b.Region
	}
	return a.Seq > b.Seq
}

// winner returns the index of the winning leaf value (len(vals) > 0).
func winner(vals []leaf) int {
	best := 0
	for i := 1; i < len(vals); i++ {
		if beats(vals[i].hlc, vals[i].dot, vals[best].hlc, vals[best].dot) {
			best = i
		}
	}
	return best
}

// empty reports a node that holds nothing.
func (n *node) empty() bool {
	return len(n.markers) == 0 && len(n.vals) == 0 && len(n.incs) == 0 && len(n.kids) == 0
}

// findChild returns the index of name in n.kids and whether it is present.
func (n *node) findChild(name string) (int, bool) {
	return slices.BinarySearchFunc(n.kids, name, func(c child, name string) int { return strings.Compare(c.name, name) })
}

// child returns the child called name, creating it when create is set (nil
// when absent otherwise).
func (n *node) child(name string, create bool) *node {
	i, ok := n.findChild(name)
	if ok {
		return n.kids[i].n
	}
	if !create {
		return nil
	}
	c := &node{}
	n.kids = slices.Insert(n.kids, i, child{name: name, n: c})
	return c
}

// dropChildIfEmpty removes the child called name when it holds nothing.
func (n *node) dropChildIfEmpty(name string) {
	if i, ok := n.findChild(name); ok && n.kids[i].n.empty() {
		n.kids = slices.Delete(n.kids, i, i+1)
	}
}

// insertSorted adds x to s keeping it sorted by dot.
func insertSorted[E any](s []E, x E, dot func(E) Dot) []E {
	d := dot(x)
	i := len(s)
	for i > 0 && dot(s[i-1]).Compare(d) > 0 {
		i--
	}
	return slices.Insert(s, i, x)
}

func markerDot(d Dot) Dot         { return d }
func leafDot(l leaf) Dot          { return l.dot }
func expiryDot(e expiryEntry) Dot { return e.dot }

// Clone returns a deep copy of the state.
func (d *Doc) Clone() *Doc {
	c := *d
	c.applied = slices.Clone(d.applied)
	c.heads = slices.Clone(d.heads)
	c.expiry = slices.Clone(d.expiry)
	c.root = *d.root.clone()
	return &c
}

func (n *node) clone() *node {
	c := &node{
		markers: slices.Clone(n.markers),
		vals:    slices.Clone(n.vals),
		incs:    n.incs.clone(),
		kids:    slices.Clone(n.kids),
	}
	for i := range c.kids {
		c.kids[i].n = c.kids[i].n.clone()
	}
	return c
}
