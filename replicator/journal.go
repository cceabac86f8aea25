package replicator

import (
	"encoding/binary"
	"fmt"
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
	r := reader{buf: b}
	if v := r.byte(); r.err == nil && v != metaVersion {
		return Meta{}, fmt.Errorf("replicator: decode meta: version %d: %w", v, ErrVersion)
	}
	flags := r.byte()
	var m Meta
	m.Keyframe = flags&1 != 0
	m.HLC.WallNanos = r.varint()
	logical := r.uvarint()
	n := r.uvarint()
	if r.err != nil {
		return Meta{}, fmt.Errorf("replicator: decode meta: %w", r.err)
	}
	if flags&^1 != 0 || logical > uint64(^uint32(0)) || n > MaxRegions || n*3 > uint64(r.remaining()) {
		return Meta{}, fmt.Errorf("replicator: decode meta: flags %#x, logical %d, %d deps: %w", flags, logical, n, ErrCorrupt)
	}
	m.HLC.Logical = uint32(logical)
	if n > 0 {
		m.Deps = make([]Entry, 0, n)
	}
	for range n {
		e := Entry{Region: r.name(), Seq: r.uvarint()}
		if r.err != nil {
			return Meta{}, fmt.Errorf("replicator: decode meta: %w", r.err)
		}
		m.Deps = append(m.Deps, e)
	}
	if r.remaining() != 0 {
		return Meta{}, fmt.Errorf("replicator: decode meta: %d trailing bytes: %w", r.remaining(), ErrCorrupt)
	}
	return m, nil
}

// JournalEntry is one op as a journal stores it.
type JournalEntry struct {
	Seq  uint64
	Meta []byte
	Body []byte
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

// BuildBatches turns a SendRange into wire batches from self, reading the
// journal from the keyframe at or before s.From to rebuild the first op's
// full dependency vector. Batches are cut so their estimated encoding stays
// within maxBatchBytes (an op larger than that travels alone).
func BuildBatches(j JournalReader, self string, s SendRange, maxBatchBytes int) ([]Batch, error) {
	if s.From == 0 || s.To < s.From || s.To-s.From >= MaxBatchOps {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: %w", s.Origin, s.From, s.To, ErrInvalidBatch)
	}
	kf := KeyframeAtOrBefore(s.From)
	entries, err := j.ReadJournal(s.Origin, kf, s.To)
	if err != nil {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: %w", s.Origin, s.From, s.To, err)
	}
	if uint64(len(entries)) != s.To-kf+1 {
		return nil, fmt.Errorf("replicator: build batch %s %d..%d: journal returned %d entries from %d: %w",
			s.Origin, s.From, s.To, len(entries), kf, ErrCorrupt)
	}
	running := make(Vector)
	var out []Batch
	cur := Batch{From: self, To: s.Peer, Origin: s.Origin}
	size := batchOverheadBytes
	for i, je := range entries {
		if je.Seq != kf+uint64(i) {
			return nil, fmt.Errorf("replicator: build batch %s: entry %d has seq %d, want %d: %w",
				s.Origin, i, je.Seq, kf+uint64(i), ErrCorrupt)
		}
		m, err := DecodeMeta(je.Meta)
		if err != nil {
			return nil, fmt.Errorf("replicator: build batch %s:%d: %w", s.Origin, je.Seq, err)
		}
		if i == 0 && !m.Keyframe {
			return nil, fmt.Errorf("replicator: build batch %s:%d: expected a keyframe: %w", s.Origin, je.Seq, ErrCorrupt)
		}
		var grown []Entry
		for _, d := range m.Deps {
			if d.Seq > running[d.Region] {
				running[d.Region] = d.Seq
				grown = append(grown, d)
			}
		}
		if je.Seq < s.From {
			continue
		}
		opSize := opOverheadBytes + len(je.Body) + depEstimateBytes*len(grown)
		if len(cur.Ops) > 0 && size+opSize > maxBatchBytes {
			out = append(out, cur)
			cur = Batch{From: self, To: s.Peer, Origin: s.Origin}
			size = batchOverheadBytes
		}
		deps := grown
		if len(cur.Ops) == 0 {
			deps = running.Entries()
			opSize += depEstimateBytes * (len(deps) - len(grown))
		}
		cur.Ops = append(cur.Ops, Op{Seq: je.Seq, HLC: m.HLC, Deps: deps, Body: je.Body})
		size += opSize
	}
	return append(out, cur), nil
}
