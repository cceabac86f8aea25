package replicator

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// KeyframeEveryOps is the distance between scheduled keyframes in an
// origin's log: the op with seq s is a keyframe when (s-1) is a multiple of
// it. A keyframe's journal metadata holds the full dependency vector, every
// other op only the components that grew, so a reader can rebuild any op's
// dependencies by reading from the keyframe at or before it (at most
// KeyframeEveryOps-1 extra records). The schedule is a function of the seq,
// so every region's journal of an origin has keyframes at the same places.
const KeyframeEveryOps = 64

// IsKeyframe reports whether seq is a scheduled keyframe.
func IsKeyframe(seq uint64) bool { return seq > 0 && (seq-1)%KeyframeEveryOps == 0 }

// KeyframeAtOrBefore returns the scheduled keyframe at or before seq (>= 1).
func KeyframeAtOrBefore(seq uint64) uint64 {
	if seq == 0 {
		return 1
	}
	return seq - (seq-1)%KeyframeEveryOps
}

// Meta is the causal metadata of one journaled op, stored beside its body
// (in segment.Record.Meta; the dot is in Record.Origin and OriginSeq).
type Meta struct {
	HLC      Timestamp
	Keyframe bool
	// Deps: the full dependency vector when Keyframe, else the components
	// that grew since the previous op of the same origin.
	Deps []Entry
}

const metaVersion = 1

// AppendMeta appends the journal metadata of a delivery to dst.
func AppendMeta(dst []byte, d Delivery) []byte {
	var flags byte
	if d.Keyframe {
		flags |= 1
	}
	dst = append(dst, metaVersion, flags)
	dst = binary.AppendVarint(dst, d.HLC.WallNanos)
	dst = binary.AppendUvarint(dst, uint64(d.HLC.Logical))
	dst = binary.AppendUvarint(dst, uint64(len(d.Deps)))
	for _, e := range d.Deps {
		dst = appendString(dst, e.Region)
		dst = binary.AppendUvarint(dst, e.Seq)
	}
	return dst
}

// DecodeMeta decodes journal metadata written by AppendMeta.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	hlc, keyframe, err := walkMeta(b, func(name []byte, seq uint64) {
		m.Deps = append(m.Deps, Entry{Region: string(name), Seq: seq})
	})
	if err != nil {
		return Meta{}, err
	}
	m.HLC, m.Keyframe = hlc, keyframe
	return m, nil
}

// walkMeta parses journal metadata, calling fn for each dependency entry
// (name aliases b), without allocating.
func walkMeta(b []byte, fn func(name []byte, seq uint64)) (Timestamp, bool, error) {
	r := reader{buf: b}
	if v := r.byte(); r.err == nil && v != metaVersion {
		return Timestamp{}, false, fmt.Errorf("replicator: decode meta: version %d: %w", v, ErrVersion)
	}
	flags := r.byte()
	wall := r.varint()
	logical := r.uvarint()
	n := r.uvarint()
	if r.err != nil {
		return Timestamp{}, false, fmt.Errorf("replicator: decode meta: %w", r.err)
	}
	if flags&^1 != 0 || logical > uint64(^uint32(0)) || n > MaxRegions || n*3 > uint64(r.remaining()) {
		return Timestamp{}, false, fmt.Errorf("replicator: decode meta: flags %#x, logical %d, %d deps: %w", flags, logical, n, ErrCorrupt)
	}
	for range n {
		name := r.bytes()
		seq := r.uvarint()
		if r.err == nil && (len(name) == 0 || len(name) > MaxRegionNameBytes) {
			r.err = fmt.Errorf("region name of %d bytes: %w", len(name), ErrCorrupt)
		}
		if r.err != nil {
			return Timestamp{}, false, fmt.Errorf("replicator: decode meta: %w", r.err)
		}
		fn(name, seq)
	}
	if r.remaining() != 0 {
		return Timestamp{}, false, fmt.Errorf("replicator: decode meta: %d trailing bytes: %w", r.remaining(), ErrCorrupt)
	}
	return Timestamp{WallNanos: wall, Logical: uint32(logical)}, flags&1 != 0, nil
}

// JournalEntry is one op as a journal stores it.
type JournalEntry struct {
	Seq  uint64
	Meta []byte
	Body []byte
	// Order is where the journaling region applied the op among all its
	// ops (1, 2, ... across origins; 0 when not recorded): a region's
	// streams re-derived from its journals after a crash keep the order,
	// hence the offsets, they had. Local to the region, never sent.
	Order uint64
}

// JournalReader reads a region's journal of one origin.
type JournalReader interface {
	// ReadJournal returns the entries of origin with seq in from..to, in
	// order and dense.
	ReadJournal(origin string, from, to uint64) ([]JournalEntry, error)
}

// batchOverheadBytes estimates the wire cost of a batch besides its ops and
// of an op besides its body and dependencies (for splitting by bytes).
const (
	batchOverheadBytes = 64 + trailerBytes
	opOverheadBytes    = 24
	depEstimateBytes   = 12
)

// BuildBatches turns a SendRange into wire batches from self (see
// BatchBuilder.Build); it keeps no cache between calls.
func BuildBatches(j JournalReader, self string, s SendRange, maxBatchBytes int) ([]Batch, error) {
	return NewBatchBuilder(self, maxBatchBytes).Build(j, s)
}

// builderCacheSlots is how many dependency vectors a BatchBuilder keeps per
// origin.
const builderCacheSlots = 4

// BatchBuilder turns SendRanges into wire batches from one region's
// journals. It remembers, per origin, the full dependency vectors of the
// last few range boundaries it computed, so that the same range shipped to
// every peer, and the next range after it, do not re-read the journal back
// to a keyframe. Journals are append-only and an op's dependencies never
// change, so the cache never goes stale. Not safe for concurrent use.
type BatchBuilder struct {
	self          string
	maxBatchBytes int
	cache         map[string]*depsCache
}

type depsCache struct {
	seqs [builderCacheSlots]uint64
	deps [builderCacheSlots]Vector
	next int
}

func (c *depsCache) get(seq uint64) Vector {
	for i, s := range c.seqs {
		if s == seq && c.deps[i] != nil {
			return c.deps[i]
		}
	}
	return nil
}

func (c *depsCache) put(seq uint64, v Vector) {
	if c.get(seq) != nil {
		return
	}
	c.seqs[c.next], c.deps[c.next] = seq, v
	c.next = (c.next + 1) % builderCacheSlots
}

// NewBatchBuilder returns a builder for region self cutting batches at
// maxBatchBytes (estimated).
func NewBatchBuilder(self string, maxBatchBytes int) *BatchBuilder {
	return &BatchBuilder{self: self, maxBatchBytes: maxBatchBytes, cache: make(map[string]*depsCache)}
}

// Build turns a SendRange into wire batches, reading the journal from the
// op before s.From when its dependencies are cached, else from the keyframe
// at or before s.From, to rebuild the first op's full dependency vector.
// Batches are cut so their estimated encoding stays within the builder's
// maxBatchBytes (an op larger than that travels alone).
func (bb *BatchBuilder) Build(j JournalReader, s SendRange) ([]Batch, error) {
	if s.From == 0 || s.To < s.From || s.To-s.From >= MaxBatchOps {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: %w", s.Origin, s.From, s.To, ErrInvalidBatch)
	}
	c := bb.cache[s.Origin]
	if c == nil {
		c = &depsCache{}
		bb.cache[s.Origin] = c
	}
	kf := KeyframeAtOrBefore(s.From)
	running := make(Vector)
	fromCache := false
	if base := c.get(s.From - 1); base != nil && s.From > 1 {
		kf, fromCache = s.From, true
		for r, v := range base {
			running[r] = v
		}
	}
	entries, err := j.ReadJournal(s.Origin, kf, s.To)
	if err != nil {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: %w", s.Origin, s.From, s.To, err)
	}
	if uint64(len(entries)) != s.To-kf+1 {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: journal returned %d entries from %d: %w",
			s.Origin, s.From, s.To, len(entries), kf, ErrCorrupt)
	}
	self, maxBatchBytes := bb.self, bb.maxBatchBytes
	var out []Batch
	cur := Batch{From: self, To: s.Peer, Origin: s.Origin, Membership: s.Membership}
	size := batchOverheadBytes
	var grown []Entry
	for i, je := range entries {
		if je.Seq != kf+uint64(i) {
			return nil, fmt.Errorf("replicator: build batch %s: entry %d has seq %d, want %d: %w",
				s.Origin, i, je.Seq, kf+uint64(i), ErrCorrupt)
		}
		inRange := je.Seq >= s.From
		grown = grown[:0]
		hlc, keyframe, err := walkMeta(je.Meta, func(name []byte, seq uint64) {
			if seq <= running[string(name)] {
				return
			}
			region := string(name)
			running[region] = seq
			if inRange {
				grown = append(grown, Entry{Region: region, Seq: seq})
			}
		})
		if err != nil {
			return nil, fmt.Errorf("replicator: build batch %s:%d: %w", s.Origin, je.Seq, err)
		}
		if i == 0 && !keyframe && !fromCache {
			return nil, fmt.Errorf("replicator: build batch %s:%d: expected a keyframe: %w", s.Origin, je.Seq, ErrCorrupt)
		}
		if je.Seq == s.From-1 {
			c.put(je.Seq, running.Clone())
		}
		if !inRange {
			continue
		}
		opSize := opOverheadBytes + len(je.Body) + depEstimateBytes*len(grown)
		if len(cur.Ops) > 0 && size+opSize > maxBatchBytes {
			out = append(out, cur)
			cur = Batch{From: self, To: s.Peer, Origin: s.Origin, Membership: s.Membership}
			size = batchOverheadBytes
		}
		var deps []Entry
		if len(cur.Ops) == 0 && !(s.Based && len(out) == 0) {
			deps = running.Entries()
			opSize += depEstimateBytes * (len(deps) - len(grown))
		} else if len(grown) > 0 {
			deps = slices.Clone(grown)
		}
		if len(cur.Ops) == 0 {
			cur.Based = s.Based && len(out) == 0
		}
		cur.Ops = append(cur.Ops, Op{Seq: je.Seq, HLC: hlc, Deps: deps, Body: je.Body})
		size += opSize
	}
	c.put(s.To, running.Clone())
	return append(out, cur), nil
}

// RestoreFromJournals reads what an engine restarts from: for each origin
// with ends[origin] ops journaled, the HLC and the full dependency vector
// of its last op (reading back to the keyframe before it).
func RestoreFromJournals(j JournalReader, ends Vector) (Restore, error) {
	st := Restore{Delivered: ends.Clone(), LastDeps: make(map[string]Vector, len(ends))}
	for origin, end := range ends {
		if end == 0 {
			continue
		}
		entries, err := j.ReadJournal(origin, KeyframeAtOrBefore(end), end)
		if err != nil {
			return Restore{}, fmt.Errorf("replicator: restore %s: %w", origin, err)
		}
		deps := make(Vector)
		for i, je := range entries {
			hlc, keyframe, err := walkMeta(je.Meta, func(name []byte, seq uint64) {
				if seq > deps[string(name)] {
					deps[string(name)] = seq
				}
			})
			if err != nil {
				return Restore{}, fmt.Errorf("replicator: restore %s:%d: %w", origin, je.Seq, err)
			}
			if i == 0 && !keyframe {
				return Restore{}, fmt.Errorf("replicator: restore %s:%d: expected a keyframe: %w", origin, je.Seq, ErrCorrupt)
			}
			if hlc.Compare(st.LastHLC) > 0 {
				st.LastHLC = hlc
			}
		}
		st.LastDeps[origin] = deps
	}
	return st, nil
}
