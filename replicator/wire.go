package replicator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
	"math"
	"slices"

	"github.com/zeebo/blake3"
)

// Wire bounds. Every decoded message is checked against them before any
// allocation proportional to its claims.
const (
	// MaxRegions bounds the membership and any region table on the wire.
	MaxRegions = 1024
	// MaxRegionNameBytes bounds a region name.
	MaxRegionNameBytes = 64
	// MaxBatchOps bounds the operations of one batch.
	MaxBatchOps = 4096
	// MaxBatchBytes bounds one encoded message (batch or ack), trailer
	// included.
	MaxBatchBytes = 16 << 20
	// MinSecretBytes is the shortest accepted fabric secret.
	MinSecretBytes = 16
)

// Kind is the type of a wire message.
type Kind byte

// Message kinds.
const (
	KindBatch Kind = 1
	KindAck   Kind = 2
)

// Ack flag bits: full, and compact (regions named by their position in the
// sorted membership).
const (
	ackFull    = 1
	ackCompact = 2
	// ackJoining and ackSeenJoining carry Ack.Joining and Ack.SeenJoining.
	ackJoining     = 4
	ackSeenJoining = 8
	// ackStamped says Ack.Stamp follows the membership digest.
	ackStamped = 16
	// ackAnswers says Ack.Answers follows Ack.Stamp.
	ackAnswers = 32
	// ackAsking carries Ack.Asking.
	ackAsking = 64
)

// Batch flag bits: Based, and compact (regions named by their position in
// the sorted membership, identified by its digest, instead of a table).
const (
	batchBased   = 1
	batchCompact = 2
)

// WireVersion is the version byte of every message this package writes.
// Version 2 authenticates with keyed BLAKE3; version 1 (HMAC-SHA256, the
// same layout otherwise) is still accepted from regions not yet upgraded,
// and never written. BLAKE3 runs at about twice HMAC-SHA256's speed on
// batches of 16 KiB and more (README "Geo replication, the MAC").
const (
	WireVersion       = 2
	wireVersionHMAC   = 1
	wireMACKeyContext = "causeway replication wire v2 mac"
)

// knownVersion reports whether a message's version byte is one open reads.
func knownVersion(v byte) bool { return v == WireVersion || v == wireVersionHMAC }

// Message layout: version(1) kind(1) body crc32c(4, little endian, over
// version..body) mac(32, over version..crc): keyed BLAKE3-256 with a key
// derived from the fabric secret (version 2), HMAC-SHA256 with the secret
// (version 1).
const (
	headerBytes  = 2
	crcBytes     = 4
	macBytes     = 32
	trailerBytes = crcBytes + macBytes
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Codec encodes and decodes authenticated wire messages with one fabric
// secret. It keeps reusable MAC states, so it is not safe for concurrent
// use: use one Codec per goroutine (they are cheap).
type Codec struct {
	mac     *blake3.Hasher // version 2, keyed
	macHMAC hash.Hash      // version 1
	sum     []byte
	// members is the sorted membership for compact batches, index its
	// positions, digest its MembershipDigest (0: none set).
	members []string
	index   map[string]int
	digest  uint64
}

// SetMembership sets the membership (every region known to the engine,
// evicted ones included: Engine.Regions) used to encode and decode compact
// batches, which name regions by their position in the sorted membership
// instead of carrying a table of names. Keep it in step with the engine
// (after AddRegion).
func (c *Codec) SetMembership(regions []string) error {
	if len(regions) > MaxRegions {
		return fmt.Errorf("replicator: codec membership of %d regions: %w", len(regions), ErrTooLarge)
	}
	members := slices.Clone(regions)
	slices.Sort(members)
	index := make(map[string]int, len(members))
	for i, r := range members {
		if err := validRegionName(r); err != nil {
			return fmt.Errorf("replicator: codec membership: %v: %w", err, ErrInvalidConfig)
		}
		if _, dup := index[r]; dup {
			return fmt.Errorf("replicator: codec membership: %q twice: %w", r, ErrInvalidConfig)
		}
		index[r] = i
	}
	c.members, c.index, c.digest = members, index, MembershipDigest(regions)
	return nil
}

// MembershipDigest is a 64-bit digest of a set of region names (order does
// not matter; never 0). Regions advertise it in acks; a sender encodes
// compact batches for a peer whose digest equals its own.
func MembershipDigest(regions []string) uint64 {
	sorted := slices.Clone(regions)
	slices.Sort(sorted)
	h := fnv.New64a()
	for _, r := range sorted {
		h.Write([]byte(r))
		h.Write([]byte{0})
	}
	if d := h.Sum64(); d != 0 {
		return d
	}
	return 1
}

// NewCodec returns a codec for the fabric secret (at least MinSecretBytes).
func NewCodec(secret []byte) (*Codec, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("replicator: codec: secret of %d bytes, want >= %d: %w",
			len(secret), MinSecretBytes, ErrInvalidConfig)
	}
	key := make([]byte, 32)
	blake3.DeriveKey(wireMACKeyContext, secret, key)
	mac, err := blake3.NewKeyed(key)
	if err != nil {
		return nil, fmt.Errorf("replicator: codec: %w", err)
	}
	return &Codec{mac: mac, macHMAC: hmac.New(sha256.New, slices.Clone(secret))}, nil
}

// seal appends the CRC and the MAC to msg (which starts at start in dst and
// whose version byte is WireVersion).
func (c *Codec) seal(dst []byte, start int) ([]byte, error) {
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	c.mac.Reset()
	c.mac.Write(dst[start:])
	dst = c.mac.Sum(dst)
	if len(dst)-start > MaxBatchBytes {
		return nil, fmt.Errorf("replicator: encode: %d bytes, max %d: %w", len(dst)-start, MaxBatchBytes, ErrTooLarge)
	}
	return dst, nil
}

// open checks a message's bounds, version, kind, CRC and MAC, and returns
// its body.
func (c *Codec) open(msg []byte, want Kind) ([]byte, error) {
	if len(msg) > MaxBatchBytes {
		return nil, fmt.Errorf("%d bytes, max %d: %w", len(msg), MaxBatchBytes, ErrTooLarge)
	}
	if len(msg) < headerBytes+trailerBytes {
		return nil, fmt.Errorf("%d bytes, truncated: %w", len(msg), ErrCorrupt)
	}
	if !knownVersion(msg[0]) {
		return nil, fmt.Errorf("version %d: %w", msg[0], ErrVersion)
	}
	if Kind(msg[1]) != want {
		return nil, fmt.Errorf("kind %d, want %d: %w", msg[1], want, ErrVersion)
	}
	crcAt := len(msg) - trailerBytes
	if got := binary.LittleEndian.Uint32(msg[crcAt:]); got != crc32.Checksum(msg[:crcAt], castagnoli) {
		return nil, fmt.Errorf("crc mismatch: %w", ErrCorrupt)
	}
	var mac hash.Hash = c.mac
	if msg[0] == wireVersionHMAC {
		mac = c.macHMAC
	}
	mac.Reset()
	mac.Write(msg[:crcAt+crcBytes])
	c.sum = mac.Sum(c.sum[:0])
	if !hmac.Equal(c.sum, msg[crcAt+crcBytes:]) {
		return nil, fmt.Errorf("mac mismatch: %w", ErrUnauthenticated)
	}
	return msg[headerBytes:crcAt], nil
}

// PeekKind returns the kind of a message without verifying it.
func PeekKind(msg []byte) (Kind, error) {
	if len(msg) < headerBytes {
		return 0, fmt.Errorf("replicator: peek: %d bytes: %w", len(msg), ErrCorrupt)
	}
	if !knownVersion(msg[0]) {
		return 0, fmt.Errorf("replicator: peek: version %d: %w", msg[0], ErrVersion)
	}
	return Kind(msg[1]), nil
}

// AppendBatch appends the encoding of b to dst. The first op's Deps must be
// its full dependency vector; later ops' Deps are encoded as increments over
// the running vector (entries equal to it are dropped, lower ones are an
// error).
func (c *Codec) AppendBatch(dst []byte, b Batch) ([]byte, error) {
	fail := func(format string, a ...any) ([]byte, error) {
		return nil, fmt.Errorf("replicator: encode batch: "+format, a...)
	}
	if len(b.Ops) == 0 || len(b.Ops) > MaxBatchOps {
		return fail("%d ops, want 1..%d: %w", len(b.Ops), MaxBatchOps, ErrTooLarge)
	}
	for _, n := range []string{b.From, b.To, b.Origin} {
		if err := validRegionName(n); err != nil {
			return fail("%v: %w", err, ErrInvalidBatch)
		}
	}
	// Region table: every region named by a dependency, by first
	// appearance; or, for a compact batch, the codec's sorted membership.
	compact := b.Membership != 0 && b.Membership == c.digest
	var table map[string]int
	var names []string
	if compact {
		table, names = c.index, c.members
	} else {
		table = make(map[string]int)
	}
	for _, op := range b.Ops {
		for _, d := range op.Deps {
			if d.Region == b.Origin {
				return fail("op %d depends on its origin: %w", op.Seq, ErrInvalidBatch)
			}
			if _, ok := table[d.Region]; !ok {
				if compact {
					return fail("op %d depends on %q, not a member: %w", op.Seq, d.Region, ErrInvalidBatch)
				}
				if err := validRegionName(d.Region); err != nil {
					return fail("%v: %w", err, ErrInvalidBatch)
				}
				table[d.Region] = len(names)
				names = append(names, d.Region)
			}
		}
	}
	if len(names) > MaxRegions {
		return fail("%d regions, max %d: %w", len(names), MaxRegions, ErrTooLarge)
	}
	need := batchOverheadBytes
	for _, n := range names {
		if !compact {
			need += 1 + len(n)
		}
	}
	for _, op := range b.Ops {
		need += opOverheadBytes + len(op.Body) + 4*len(op.Deps)
	}
	dst = slices.Grow(dst, min(need, MaxBatchBytes))
	start := len(dst)
	dst = append(dst, WireVersion, byte(KindBatch))
	dst = appendString(dst, b.From)
	dst = appendString(dst, b.To)
	dst = appendString(dst, b.Origin)
	var flags byte
	if b.Based {
		flags |= batchBased
	}
	if compact {
		flags |= batchCompact
	}
	dst = append(dst, flags)
	first := b.Ops[0].Seq
	if first == 0 || first >= maxSeq-uint64(len(b.Ops)) {
		return fail("first seq %d: %w", first, ErrInvalidBatch)
	}
	dst = binary.AppendUvarint(dst, first)
	dst = binary.AppendUvarint(dst, uint64(len(b.Ops)))
	if compact {
		dst = binary.LittleEndian.AppendUint64(dst, c.digest)
	} else {
		dst = binary.AppendUvarint(dst, uint64(len(names)))
		for _, n := range names {
			dst = appendString(dst, n)
		}
	}
	running := make([]uint64, len(names))
	type inc struct {
		idx int
		by  uint64
	}
	var incs []inc
	var prevWall int64
	for i, op := range b.Ops {
		if op.Seq != first+uint64(i) {
			return fail("op %d has seq %d, want %d: %w", i, op.Seq, first+uint64(i), ErrInvalidBatch)
		}
		dst = binary.AppendVarint(dst, op.HLC.WallNanos-prevWall)
		prevWall = op.HLC.WallNanos
		dst = binary.AppendUvarint(dst, uint64(op.HLC.Logical))
		incs = incs[:0]
		for _, d := range op.Deps {
			k := table[d.Region]
			switch {
			case d.Seq < running[k]:
				return fail("op %d dependency on %s goes back from %d to %d: %w",
					op.Seq, d.Region, running[k], d.Seq, ErrInvalidBatch)
			case d.Seq >= maxSeq:
				return fail("op %d dependency %s=%d: %w", op.Seq, d.Region, d.Seq, ErrInvalidBatch)
			case d.Seq > running[k]:
				incs = append(incs, inc{idx: k, by: d.Seq - running[k]})
				running[k] = d.Seq
			}
		}
		slices.SortFunc(incs, func(a, b inc) int { return a.idx - b.idx })
		dst = binary.AppendUvarint(dst, uint64(len(incs)))
		prev := -1
		for _, x := range incs {
			if x.idx == prev {
				return fail("op %d lists %s twice: %w", op.Seq, names[x.idx], ErrInvalidBatch)
			}
			prev = x.idx
			dst = binary.AppendUvarint(dst, uint64(x.idx))
			dst = binary.AppendUvarint(dst, x.by)
		}
		dst = binary.AppendUvarint(dst, uint64(len(op.Body)))
		dst = append(dst, op.Body...)
		if len(dst)-start > MaxBatchBytes {
			return fail("more than %d bytes: %w", MaxBatchBytes, ErrTooLarge)
		}
	}
	out, err := c.seal(dst, start)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeBatch verifies and decodes a batch. Bodies alias msg. The first
// op's Deps is its full dependency vector; later ops' Deps are the entries
// that grew (absolute values), as in Batch.
func (c *Codec) DecodeBatch(msg []byte) (Batch, error) {
	body, err := c.open(msg, KindBatch)
	if err != nil {
		return Batch{}, fmt.Errorf("replicator: decode batch: %w", err)
	}
	b, err := c.decodeBatchBody(body)
	if err != nil {
		return Batch{}, fmt.Errorf("replicator: decode batch: %w", err)
	}
	return b, nil
}

func (c *Codec) decodeBatchBody(body []byte) (Batch, error) {
	r := reader{buf: body}
	var b Batch
	b.From = r.name()
	b.To = r.name()
	b.Origin = r.name()
	flags := r.byte()
	first := r.uvarint()
	nOps := r.uvarint()
	var nNames uint64
	compact := flags&batchCompact != 0
	if compact {
		b.Membership = r.fixed64()
		if r.err == nil && b.Membership != c.digest {
			return Batch{}, fmt.Errorf("membership digest %#x, ours %#x: %w", b.Membership, c.digest, ErrMembershipMismatch)
		}
		nNames = uint64(len(c.members))
	} else {
		nNames = r.uvarint()
	}
	if r.err != nil {
		return Batch{}, r.err
	}
	b.Based = flags&batchBased != 0
	switch {
	case flags&^(batchBased|batchCompact) != 0:
		return Batch{}, fmt.Errorf("flags %#x: %w", flags, ErrCorrupt)
	case nOps == 0 || nOps > MaxBatchOps:
		return Batch{}, fmt.Errorf("%d ops, want 1..%d: %w", nOps, MaxBatchOps, ErrCorrupt)
	case first == 0 || first >= maxSeq-nOps:
		return Batch{}, fmt.Errorf("first seq %d: %w", first, ErrCorrupt)
	case nNames > MaxRegions:
		return Batch{}, fmt.Errorf("%d regions, max %d: %w", nNames, MaxRegions, ErrCorrupt)
	case nNames > uint64(r.remaining()):
		return Batch{}, fmt.Errorf("%d regions in %d bytes: %w", nNames, r.remaining(), ErrCorrupt)
	}
	var names []string
	if compact {
		names = c.members
	} else {
		names = make([]string, nNames)
		seen := make(map[string]bool, nNames)
		for i := range names {
			names[i] = r.name()
			if r.err != nil {
				return Batch{}, r.err
			}
			if seen[names[i]] || names[i] == b.Origin {
				return Batch{}, fmt.Errorf("region table entry %q repeated or origin: %w", names[i], ErrCorrupt)
			}
			seen[names[i]] = true
		}
	}
	// Each op takes at least 4 bytes (wall, logical, deps count, body len).
	if nOps*4 > uint64(r.remaining()) {
		return Batch{}, fmt.Errorf("%d ops in %d bytes: %w", nOps, r.remaining(), ErrCorrupt)
	}
	running := make([]uint64, nNames)
	b.Ops = make([]Op, nOps)
	var wall int64
	for i := range b.Ops {
		op := &b.Ops[i]
		op.Seq = first + uint64(i)
		wall += r.varint()
		op.HLC.WallNanos = wall
		logical := r.uvarint()
		if logical > uint64(^uint32(0)) {
			return Batch{}, fmt.Errorf("op %d logical clock %d: %w", op.Seq, logical, ErrCorrupt)
		}
		op.HLC.Logical = uint32(logical)
		nDeps := r.uvarint()
		if r.err != nil {
			return Batch{}, r.err
		}
		if nDeps > nNames {
			return Batch{}, fmt.Errorf("op %d has %d deps, table %d: %w", op.Seq, nDeps, nNames, ErrCorrupt)
		}
		if nDeps > 0 {
			op.Deps = make([]Entry, 0, nDeps)
		}
		prev := -1
		for range nDeps {
			k, by := r.uvarint(), r.uvarint()
			if r.err != nil {
				return Batch{}, r.err
			}
			if k >= nNames || int(k) <= prev || by == 0 || by >= maxSeq-running[k] || names[k] == b.Origin {
				return Batch{}, fmt.Errorf("op %d dependency (%d, +%d) invalid: %w", op.Seq, k, by, ErrCorrupt)
			}
			prev = int(k)
			running[k] += by
			op.Deps = append(op.Deps, Entry{Region: names[k], Seq: running[k]})
		}
		op.Body = r.bytes()
		if r.err != nil {
			return Batch{}, r.err
		}
	}
	if r.remaining() != 0 {
		return Batch{}, fmt.Errorf("%d trailing bytes: %w", r.remaining(), ErrCorrupt)
	}
	return b, nil
}

// AppendAck appends the encoding of a to dst.
func (c *Codec) AppendAck(dst []byte, a Ack) ([]byte, error) {
	if len(a.Delivered) > MaxRegions {
		return nil, fmt.Errorf("replicator: encode ack: %d entries: %w", len(a.Delivered), ErrTooLarge)
	}
	for _, n := range []string{a.From, a.To} {
		if err := validRegionName(n); err != nil {
			return nil, fmt.Errorf("replicator: encode ack: %v: %w", err, ErrInvalidAck)
		}
	}
	start := len(dst)
	dst = append(dst, WireVersion, byte(KindAck))
	dst = appendString(dst, a.From)
	dst = appendString(dst, a.To)
	compact := a.Compact && a.Membership != 0 && a.Membership == c.digest
	var flags byte
	if a.Full {
		flags |= ackFull
	}
	if compact {
		flags |= ackCompact
	}
	if a.Joining {
		flags |= ackJoining
	}
	if a.SeenJoining {
		flags |= ackSeenJoining
	}
	if !a.Stamp.IsZero() {
		flags |= ackStamped
	}
	if !a.Answers.IsZero() {
		flags |= ackAnswers
	}
	if a.Asking {
		flags |= ackAsking
	}
	dst = append(dst, flags)
	dst = binary.LittleEndian.AppendUint64(dst, a.Membership)
	for _, t := range []Timestamp{a.Stamp, a.Answers} {
		if !t.IsZero() {
			dst = binary.AppendVarint(dst, t.WallNanos)
			dst = binary.AppendUvarint(dst, uint64(t.Logical))
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Delivered)))
	for _, e := range a.Delivered {
		k, member := c.index[e.Region]
		if err := validRegionName(e.Region); err != nil || e.Seq >= maxSeq || (compact && !member) {
			return nil, fmt.Errorf("replicator: encode ack: entry %q=%d: %w", e.Region, e.Seq, ErrInvalidAck)
		}
		if compact {
			dst = binary.AppendUvarint(dst, uint64(k))
		} else {
			dst = appendString(dst, e.Region)
		}
		dst = binary.AppendUvarint(dst, e.Seq)
	}
	return c.seal(dst, start)
}

// DecodeAck verifies and decodes an ack.
func (c *Codec) DecodeAck(msg []byte) (Ack, error) {
	body, err := c.open(msg, KindAck)
	if err != nil {
		return Ack{}, fmt.Errorf("replicator: decode ack: %w", err)
	}
	a, err := c.decodeAckBody(body)
	if err != nil {
		return Ack{}, fmt.Errorf("replicator: decode ack: %w", err)
	}
	return a, nil
}

func (c *Codec) decodeAckBody(body []byte) (Ack, error) {
	r := reader{buf: body}
	var a Ack
	a.From = r.name()
	a.To = r.name()
	flags := r.byte()
	a.Membership = r.fixed64()
	for _, f := range []struct {
		bit byte
		t   *Timestamp
	}{{ackStamped, &a.Stamp}, {ackAnswers, &a.Answers}} {
		if flags&f.bit == 0 {
			continue
		}
		f.t.WallNanos = r.varint()
		logical := r.uvarint()
		if r.err == nil && (logical > math.MaxUint32 || (f.t.WallNanos == 0 && logical == 0)) {
			return Ack{}, fmt.Errorf("stamp %d.%d: %w", f.t.WallNanos, logical, ErrCorrupt)
		}
		f.t.Logical = uint32(logical)
	}
	n := r.uvarint()
	if r.err != nil {
		return Ack{}, r.err
	}
	if flags&^(ackFull|ackCompact|ackJoining|ackSeenJoining|ackStamped|ackAnswers|ackAsking) != 0 {
		return Ack{}, fmt.Errorf("flags %#x: %w", flags, ErrCorrupt)
	}
	a.Full = flags&ackFull != 0
	a.Compact = flags&ackCompact != 0
	a.Joining = flags&ackJoining != 0
	a.SeenJoining = flags&ackSeenJoining != 0
	a.Asking = flags&ackAsking != 0
	if a.Compact && a.Membership != c.digest {
		return Ack{}, fmt.Errorf("membership digest %#x, ours %#x: %w", a.Membership, c.digest, ErrMembershipMismatch)
	}
	if n > MaxRegions || n*2 > uint64(r.remaining()) {
		return Ack{}, fmt.Errorf("%d entries in %d bytes: %w", n, r.remaining(), ErrCorrupt)
	}
	seen := make(map[string]bool, n)
	for range n {
		var e Entry
		if a.Compact {
			k := r.uvarint()
			if r.err == nil && k >= uint64(len(c.members)) {
				return Ack{}, fmt.Errorf("member index %d of %d: %w", k, len(c.members), ErrCorrupt)
			}
			if r.err == nil {
				e.Region = c.members[k]
			}
		} else {
			e.Region = r.name()
		}
		e.Seq = r.uvarint()
		if r.err != nil {
			return Ack{}, r.err
		}
		if seen[e.Region] || e.Seq >= maxSeq {
			return Ack{}, fmt.Errorf("entry %q=%d repeated or too large: %w", e.Region, e.Seq, ErrCorrupt)
		}
		seen[e.Region] = true
		a.Delivered = append(a.Delivered, e)
	}
	if r.remaining() != 0 {
		return Ack{}, fmt.Errorf("%d trailing bytes: %w", r.remaining(), ErrCorrupt)
	}
	return a, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// reader decodes varints and strings from a buffer, remembering the first
// error (later reads return zero values).
type reader struct {
	buf []byte
	pos int
	err error
}

var errTruncated = fmt.Errorf("truncated: %w", ErrCorrupt)

func (r *reader) remaining() int { return len(r.buf) - r.pos }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf[r.pos:])
	if n <= 0 {
		r.err = fmt.Errorf("bad uvarint at %d: %w", r.pos, errTruncated)
		return 0
	}
	r.pos += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.buf[r.pos:])
	if n <= 0 {
		r.err = fmt.Errorf("bad varint at %d: %w", r.pos, errTruncated)
		return 0
	}
	r.pos += n
	return v
}

func (r *reader) fixed64() uint64 {
	if r.err != nil {
		return 0
	}
	if r.remaining() < 8 {
		r.err = errTruncated
		return 0
	}
	r.pos += 8
	return binary.LittleEndian.Uint64(r.buf[r.pos-8:])
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.buf) {
		r.err = errTruncated
		return 0
	}
	r.pos++
	return r.buf[r.pos-1]
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(r.remaining()) {
		r.err = fmt.Errorf("%d bytes claimed, %d left: %w", n, r.remaining(), ErrCorrupt)
		return nil
	}
	b := r.buf[r.pos : r.pos+int(n) : r.pos+int(n)]
	r.pos += int(n)
	return b
}

func (r *reader) name() string {
	b := r.bytes()
	if r.err != nil {
		return ""
	}
	if len(b) == 0 || len(b) > MaxRegionNameBytes {
		r.err = fmt.Errorf("region name of %d bytes: %w", len(b), ErrCorrupt)
		return ""
	}
	return string(b)
}
