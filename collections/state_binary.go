package collections

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Binary form of a document state, version 1 (see op_binary.go for uvarint
// and string). Region names are written once in a table; a dot is the table
// index plus one (0 for the stable dot of compacted entries) and, unless
// stable, its sequence.
//
//	version byte (2) | collection string | key string
//	regions: count, then names in ascending order (each used below)
//	applied: count, then (region index uvarint, seq uvarint) by region
//	heads: count, then dots, sorted (version 1 had none: its heads are
//	       its applied entries)
//	expiry: count, then (dot, hlc uvarint, at uvarint) by dot
//	root node
//	node: markers (count, dots) | values (count, then dot, hlc uvarint, JSON
//	      bytes) | increments (count, then dot, delta zigzag varint) |
//	      children (count, then name string and node, by name)
//
// Every list is sorted, so the encoding is a function of the state alone.

// maxNodeDepth bounds the nesting of nodes in a decoded state: a path plus
// the nesting of the value written at its end.
const maxNodeDepth = maxPathDepth + maxValueDepth + 1

// AppendBinary appends the binary form of the state to dst.
func (d *Doc) AppendBinary(dst []byte) []byte {
	e := stateEncoder{regions: d.regions()}
	dst = append(dst, stateVersion)
	dst = appendString(dst, d.collection)
	dst = appendString(dst, d.key)
	dst = binary.AppendUvarint(dst, uint64(len(e.regions)))
	for _, r := range e.regions {
		dst = appendString(dst, r)
	}
	dst = binary.AppendUvarint(dst, uint64(len(d.applied)))
	for _, a := range d.applied {
		dst = binary.AppendUvarint(dst, uint64(e.index(a.Region)))
		dst = binary.AppendUvarint(dst, a.Seq)
	}
	dst = binary.AppendUvarint(dst, uint64(len(d.heads)))
	for _, h := range d.heads {
		dst = e.appendDot(dst, h)
	}
	dst = binary.AppendUvarint(dst, uint64(len(d.expiry)))
	for _, x := range d.expiry {
		dst = e.appendDot(dst, x.dot)
		dst = binary.AppendUvarint(dst, x.hlc)
		dst = binary.AppendUvarint(dst, x.at)
	}
	return e.appendNode(dst, &d.root)
}

// MarshalBinary returns the binary form of the state.
func (d *Doc) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil), nil }

// regions returns the sorted set of regions the state mentions.
func (d *Doc) regions() []string {
	var rs []string
	add := func(dot Dot) {
		if dot != stableDot && !slices.Contains(rs, dot.Region) {
			rs = append(rs, dot.Region)
		}
	}
	for _, a := range d.applied {
		add(Dot{Region: a.Region, Seq: a.Seq})
	}
	for _, h := range d.heads {
		add(h)
	}
	for _, x := range d.expiry {
		add(x.dot)
	}
	d.root.walkDots(add)
	slices.Sort(rs)
	return rs
}

func (n *node) walkDots(f func(Dot)) {
	for _, m := range n.markers {
		f(m)
	}
	for _, v := range n.vals {
		f(v.dot)
	}
	for _, r := range n.incs {
		if r.region != "" {
			f(Dot{Region: r.region, Seq: r.ents[0].seq})
		}
	}
	for _, c := range n.kids {
		c.n.walkDots(f)
	}
}

type stateEncoder struct{ regions []string }

func (e *stateEncoder) index(region string) int {
	i, _ := slices.BinarySearch(e.regions, region)
	return i
}

func (e *stateEncoder) appendDot(dst []byte, d Dot) []byte {
	if d == stableDot {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(e.index(d.Region)+1))
	return binary.AppendUvarint(dst, d.Seq)
}

func (e *stateEncoder) appendNode(dst []byte, n *node) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(n.markers)))
	for _, m := range n.markers {
		dst = e.appendDot(dst, m)
	}
	dst = binary.AppendUvarint(dst, uint64(len(n.vals)))
	for _, v := range n.vals {
		dst = e.appendDot(dst, v.dot)
		dst = binary.AppendUvarint(dst, v.hlc)
		dst = appendBytes(dst, v.raw)
	}
	dst = binary.AppendUvarint(dst, uint64(n.incs.len()))
	for _, x := range n.incs.flat() {
		dst = e.appendDot(dst, x.dot)
		dst = binary.AppendVarint(dst, x.delta)
	}
	dst = binary.AppendUvarint(dst, uint64(len(n.kids)))
	for _, c := range n.kids {
		dst = appendString(dst, c.name)
		dst = e.appendNode(dst, c.n)
	}
	return dst
}

// DecodeDoc decodes the binary form of a document state. It rejects anything
// that is not exactly the encoding of a state the reducer can reach the shape
// of: bad names, unsorted or duplicate entries, values that are not compact
// JSON, empty nodes, children under a node that is not an object, unused
// regions, trailing bytes. The result shares no memory with b.
func DecodeDoc(b []byte) (*Doc, error) {
	d, err := decodeDoc(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptState, err)
	}
	return d, nil
}

func decodeDoc(b []byte) (*Doc, error) {
	if len(b) == 0 {
		return nil, errEmptyInput
	}
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("%d bytes exceed %d", len(b), maxStateBytes)
	}
	if b[0] != stateVersion && b[0] != stateVersionNoHeads {
		return nil, fmt.Errorf("%w %d", ErrUnsupportedVersion, b[0])
	}
	sd := &stateDecoder{reader: reader{b: slices.Clone(b), off: 1}}
	d := &Doc{collection: sd.string(maxCollectionBytes), key: sd.string(maxKeyBytes)}
	if sd.err == nil {
		if err := validateCollection(d.collection); err != nil {
			return nil, err
		}
		if err := validateKey(d.key); err != nil {
			return nil, err
		}
	}
	sd.readRegions()
	if n := sd.count(maxVectorRegions, 2); n > 0 {
		d.applied = make(Vector, n)
		for i := range d.applied {
			region := sd.region()
			seq := sd.uvarint()
			if seq == 0 || (i > 0 && region <= d.applied[i-1].Region) {
				sd.fail("applied vector not sorted or zero")
			}
			d.applied[i] = VectorEntry{Region: region, Seq: seq}
		}
	}
	if b[0] == stateVersionNoHeads {
		for _, a := range d.applied {
			d.heads = append(d.heads, Dot{Region: a.Region, Seq: a.Seq})
		}
	} else if n := sd.count(maxStateBytes, 2); n > 0 {
		d.heads = make([]Dot, n)
		for i := range d.heads {
			h := sd.dot(false)
			if i > 0 && d.heads[i-1].Compare(h) >= 0 {
				sd.fail("heads not sorted")
			}
			d.heads[i] = h
		}
	}
	if n := sd.count(maxStateBytes, 3); n > 0 {
		d.expiry = make([]expiryEntry, n)
		for i := range d.expiry {
			x := expiryEntry{dot: sd.dot(false), hlc: sd.uvarint(), at: sd.uvarint()}
			if i > 0 && d.expiry[i-1].dot.Compare(x.dot) >= 0 {
				sd.fail("expiry entries not sorted")
			}
			d.expiry[i] = x
		}
	}
	sd.node(&d.root, 0)
	sd.done()
	if sd.err == nil && slices.Contains(sd.used, false) {
		sd.fail("region table lists an unused region")
	}
	if sd.err != nil {
		return nil, sd.err
	}
	return d, nil
}

type stateDecoder struct {
	reader
	regions []string
	used    []bool
}

func (sd *stateDecoder) readRegions() {
	n := sd.count(maxVectorRegions, 2)
	sd.regions = make([]string, n)
	sd.used = make([]bool, n)
	for i := range sd.regions {
		r := sd.string(maxRegionBytes)
		if sd.err != nil {
			return
		}
		if err := validateRegion(r); err != nil || (i > 0 && r <= sd.regions[i-1]) {
			sd.fail("region table not sorted or invalid at %q", r)
			return
		}
		sd.regions[i] = r
	}
}

func (sd *stateDecoder) region() string {
	i := sd.uvarint()
	if sd.err != nil {
		return ""
	}
	if i >= uint64(len(sd.regions)) {
		sd.fail("region index %d out of range", i)
		return ""
	}
	sd.used[i] = true
	return sd.regions[i]
}

// dot reads a dot; the stable dot is accepted only where compaction puts it.
func (sd *stateDecoder) dot(stableOK bool) Dot {
	ref := sd.uvarint()
	if sd.err != nil {
		return Dot{}
	}
	if ref == 0 {
		if !stableOK {
			sd.fail("stable dot not allowed here")
		}
		return stableDot
	}
	if ref > uint64(len(sd.regions)) {
		sd.fail("region index %d out of range", ref-1)
		return Dot{}
	}
	sd.used[ref-1] = true
	d := Dot{Region: sd.regions[ref-1], Seq: sd.uvarint()}
	if sd.err == nil && d.Seq == 0 {
		sd.fail("dot sequence 0")
	}
	return d
}

func (sd *stateDecoder) node(n *node, depth int) {
	if depth > maxNodeDepth {
		sd.fail("nodes nested deeper than %d", maxNodeDepth)
		return
	}
	if c := sd.count(maxStateBytes, 1); c > 0 {
		n.markers = make([]Dot, c)
		for i := range n.markers {
			n.markers[i] = sd.dot(c == 1)
			if i > 0 && n.markers[i-1].Compare(n.markers[i]) >= 0 {
				sd.fail("markers not sorted")
			}
		}
	}
	if c := sd.count(maxStateBytes, 3); c > 0 {
		n.vals = make([]leaf, c)
		for i := range n.vals {
			v := leaf{dot: sd.dot(false), hlc: sd.uvarint(), raw: sd.bytes(maxValueBytes)}
			if sd.err != nil {
				return
			}
			if kind, err := checkValue(v.raw); err != nil || kind == valueObject {
				sd.fail("bad value %q", truncate(v.raw))
			}
			if i > 0 && n.vals[i-1].dot.Compare(v.dot) >= 0 {
				sd.fail("values not sorted")
			}
			n.vals[i] = v
		}
	}
	if c := sd.count(maxStateBytes, 2); c > 0 {
		var prev Dot
		for i := range c {
			dot, delta := sd.dot(i == 0), sd.varint()
			if i > 0 && prev.Compare(dot) >= 0 {
				sd.fail("increments not sorted")
			}
			if sd.err != nil {
				return
			}
			n.incs.add(dot, delta)
			prev = dot
		}
	}
	if depth == 0 && (len(n.vals) > 0 || len(n.incs) > 0) {
		sd.fail("document root holds a value")
		return
	}
	if c := sd.count(maxStateBytes, 2); c > 0 {
		if len(n.markers) == 0 {
			sd.fail("children under a node that is not an object")
			return
		}
		n.kids = make([]child, c)
		for i := range n.kids {
			name := sd.string(maxNameBytes)
			if sd.err != nil {
				return
			}
			if err := validateName(name); err != nil || (i > 0 && strings.Compare(n.kids[i-1].name, name) >= 0) {
				sd.fail("child names not sorted or invalid at %q", truncate([]byte(name)))
				return
			}
			if depth == 0 && isSystemName(name) {
				sd.fail("reserved attribute %q", name)
				return
			}
			kid := &node{}
			sd.node(kid, depth+1)
			if sd.err != nil {
				return
			}
			if kid.empty() {
				sd.fail("empty node %q", truncate([]byte(name)))
				return
			}
			n.kids[i] = child{name: name, n: kid}
		}
	}
}

// State encoding versions: 2 names the heads; 1 (before them) is still
// read.
const (
	stateVersion        = 2
	stateVersionNoHeads = 1
)
