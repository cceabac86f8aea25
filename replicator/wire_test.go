package replicator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func testCodec(t testing.TB) *Codec {
	t.Helper()
	c, err := NewCodec(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleBatch() Batch {
	return Batch{From: "eu", To: "us", Origin: "ap", Ops: []Op{
		{Seq: 7, HLC: Timestamp{1000, 2}, Deps: []Entry{{"eu", 3}, {"us", 9}}, Body: []byte("one")},
		{Seq: 8, HLC: Timestamp{1000, 3}, Body: []byte{}},
		{Seq: 9, HLC: Timestamp{900, 0}, Deps: []Entry{{"us", 12}, {"sa", 1}}, Body: []byte("three")},
	}}
}

func TestBatchRoundTrip(t *testing.T) {
	c := testCodec(t)
	tests := []struct {
		name string
		in   Batch
		want Batch // after decode (unchanged entries dropped, deps by table order)
	}{
		{"sample", sampleBatch(), Batch{From: "eu", To: "us", Origin: "ap", Ops: []Op{
			{Seq: 7, HLC: Timestamp{1000, 2}, Deps: []Entry{{"eu", 3}, {"us", 9}}, Body: []byte("one")},
			{Seq: 8, HLC: Timestamp{1000, 3}, Body: []byte{}},
			{Seq: 9, HLC: Timestamp{900, 0}, Deps: []Entry{{"us", 12}, {"sa", 1}}, Body: []byte("three")},
		}}},
		{"unchanged entries dropped", Batch{From: "a", To: "b", Origin: "a", Ops: []Op{
			{Seq: 1, Deps: []Entry{{"b", 4}}, Body: []byte("x")},
			{Seq: 2, Deps: []Entry{{"b", 4}}, Body: []byte("y")},
		}}, Batch{From: "a", To: "b", Origin: "a", Ops: []Op{
			{Seq: 1, Deps: []Entry{{"b", 4}}, Body: []byte("x")},
			{Seq: 2, Body: []byte("y")},
		}}},
		{"no deps, negative wall", Batch{From: "a", To: "b", Origin: "c", Ops: []Op{
			{Seq: 1 << 40, HLC: Timestamp{-5, 0}, Body: []byte("x")},
		}}, Batch{From: "a", To: "b", Origin: "c", Ops: []Op{
			{Seq: 1 << 40, HLC: Timestamp{-5, 0}, Body: []byte("x")},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := c.AppendBatch([]byte("prefix"), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(w, []byte("prefix")) {
				t.Fatal("prefix lost")
			}
			got, err := c.DecodeBatch(w[len("prefix"):])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestBatchEncodeErrors(t *testing.T) {
	c := testCodec(t)
	long := strings.Repeat("x", MaxRegionNameBytes+1)
	tests := []struct {
		name string
		mod  func(*Batch)
		want error
	}{
		{"no ops", func(b *Batch) { b.Ops = nil }, ErrTooLarge},
		{"too many ops", func(b *Batch) { b.Ops = make([]Op, MaxBatchOps+1) }, ErrTooLarge},
		{"empty from", func(b *Batch) { b.From = "" }, ErrInvalidBatch},
		{"long origin", func(b *Batch) { b.Origin = long }, ErrInvalidBatch},
		{"long dep region", func(b *Batch) { b.Ops[0].Deps = []Entry{{long, 1}} }, ErrInvalidBatch},
		{"dep on origin", func(b *Batch) { b.Ops[1].Deps = []Entry{{"ap", 1}} }, ErrInvalidBatch},
		{"seq gap", func(b *Batch) { b.Ops[2].Seq = 11 }, ErrInvalidBatch},
		{"seq zero", func(b *Batch) { b.Ops = b.Ops[:1]; b.Ops[0].Seq = 0 }, ErrInvalidBatch},
		{"deps go back", func(b *Batch) { b.Ops[1].Deps = []Entry{{"us", 2}} }, ErrInvalidBatch},
		{"region twice in op", func(b *Batch) { b.Ops[1].Deps = []Entry{{"us", 10}, {"us", 11}} }, ErrInvalidBatch},
		{"too big", func(b *Batch) { b.Ops[0].Body = make([]byte, MaxBatchBytes) }, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := sampleBatch()
			tc.mod(&b)
			if _, err := c.AppendBatch(nil, b); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBatchDecodeRejects(t *testing.T) {
	c := testCodec(t)
	good, err := c.AppendBatch(nil, sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation fails.
	for n := range len(good) {
		if _, err := c.DecodeBatch(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes decoded", n)
		}
	}
	// Every single-byte flip fails (CRC or HMAC or version).
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x41
		if _, err := c.DecodeBatch(bad); err == nil {
			t.Fatalf("flip at %d decoded", i)
		}
	}
	other, err := NewCodec([]byte("another-fabric-secret-xxxxxxxx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.DecodeBatch(good); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong secret: %v", err)
	}
	ack, err := c.AppendAck(nil, Ack{From: "a", To: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecodeBatch(ack); !errors.Is(err, ErrVersion) {
		t.Fatalf("ack as batch: %v", err)
	}
	if _, err := c.DecodeBatch(make([]byte, MaxBatchBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	// A well-authenticated body that lies about its counts is refused.
	lies := []struct {
		name string
		body []byte
	}{
		{"huge op count", body(func(d []byte) []byte { return appendUvarints(d, 1, 1<<40, 0) })},
		{"zero ops", body(func(d []byte) []byte { return appendUvarints(d, 1, 0, 0) })},
		{"seq zero", body(func(d []byte) []byte { return appendUvarints(d, 0, 1, 0) })},
		{"huge region table", body(func(d []byte) []byte { return appendUvarints(d, 1, 1, MaxRegions+1) })},
		{"table longer than input", body(func(d []byte) []byte { return appendUvarints(d, 1, 1, 500) })},
		{"dep index out of table", body(func(d []byte) []byte {
			d = appendUvarints(d, 1, 1, 1)
			d = appendString(d, "x")
			return appendUvarints(d, 0, 0, 1, 5, 1, 0)
		})},
		{"zero increment", body(func(d []byte) []byte {
			d = appendUvarints(d, 1, 1, 1)
			d = appendString(d, "x")
			return appendUvarints(d, 0, 0, 1, 0, 0, 0)
		})},
		{"body longer than input", body(func(d []byte) []byte { return appendUvarints(d, 1, 1, 0, 0, 0, 0, 99) })},
		{"trailing bytes", body(func(d []byte) []byte { return appendUvarints(d, 1, 1, 0, 0, 0, 0, 0, 7) })},
		{"unknown flags", append(appendString(appendString(appendString(nil, "f"), "t"), "o"), 0x80, 1, 1, 0, 0, 0, 0, 0)},
		{"compact without membership", append(appendString(appendString(appendString(nil, "f"), "t"), "o"), batchCompact, 1, 1)},
		{"origin in table", body(func(d []byte) []byte {
			d = appendUvarints(d, 1, 1, 1)
			d = appendString(d, "o")
			return appendUvarints(d, 0, 0, 0, 0)
		})},
	}
	for _, l := range lies {
		msg := seal(t, c, KindBatch, l.body)
		if _, err := c.DecodeBatch(msg); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", l.name, err)
		}
	}
}

// body starts a batch body from f to o and lets f append the rest.
func body(f func([]byte) []byte) []byte {
	var d []byte
	d = appendString(d, "f")
	d = appendString(d, "t")
	d = appendString(d, "o")
	d = append(d, 0) // flags
	return f(d)
}

func appendUvarints(d []byte, vs ...uint64) []byte {
	for _, v := range vs {
		d = appendUvarint(d, v)
	}
	return d
}

// seal wraps a hand-made body in a valid header and trailer.
func seal(t testing.TB, c *Codec, k Kind, body []byte) []byte {
	t.Helper()
	msg := append([]byte{WireVersion, byte(k)}, body...)
	out, err := c.seal(msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAckRoundTripAndRejects(t *testing.T) {
	c := testCodec(t)
	for _, a := range []Ack{
		{From: "a", To: "b"},
		{From: "a", To: "b", Full: true, Membership: 77, Delivered: []Entry{{"a", 5}, {"c", 1 << 50}}},
		{From: "a", To: "b", Joining: true, Delivered: []Entry{{"a", 5}}},
		{From: "a", To: "b", Full: true, SeenJoining: true},
		{From: "a", To: "b", Stamp: Timestamp{WallNanos: -5, Logical: 7}, Delivered: []Entry{{"b", 1}}},
		{From: "a", To: "b", Full: true, SeenJoining: true, Stamp: Timestamp{WallNanos: 9}, Answers: Timestamp{WallNanos: 8, Logical: 3}},
		{From: "a", To: "b", Joining: true, Asking: true, Stamp: Timestamp{WallNanos: 9}},
	} {
		w, err := c.AppendAck(nil, a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecodeAck(w)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("got %+v want %+v", got, a)
		}
		for n := range len(w) {
			if _, err := c.DecodeAck(w[:n]); err == nil {
				t.Fatalf("truncated ack decoded")
			}
		}
	}
	encodeErrs := []Ack{
		{From: "", To: "b"},
		{From: "a", To: "b", Delivered: []Entry{{"", 1}}},
		{From: "a", To: "b", Delivered: make([]Entry, MaxRegions+1)},
	}
	for _, a := range encodeErrs {
		if _, err := c.AppendAck(nil, a); err == nil {
			t.Errorf("encoded invalid ack %+v", a)
		}
	}
	dupEntry := appendString(appendString(nil, "a"), "b")
	dupEntry = append(dupEntry, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	dupEntry = appendUvarints(dupEntry, 2)
	dupEntry = appendUvarints(appendString(dupEntry, "x"), 1)
	dupEntry = appendUvarints(appendString(dupEntry, "x"), 2)
	badFlags := appendUvarints(append(appendString(appendString(nil, "a"), "b"), 32, 0, 0, 0, 0, 0, 0, 0, 0), 0)
	for name, b := range map[string][]byte{"duplicate entry": dupEntry, "unknown flags": badFlags} {
		if _, err := c.DecodeAck(seal(t, c, KindAck, b)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCompactBatches(t *testing.T) {
	members := []string{"us", "eu", "ap", "sa"}
	c := testCodec(t)
	if err := c.SetMembership(members); err != nil {
		t.Fatal(err)
	}
	digest := MembershipDigest(members)
	if digest != MembershipDigest([]string{"sa", "ap", "eu", "us"}) || digest == MembershipDigest(members[:3]) {
		t.Fatal("digest depends on order or ignores a member")
	}
	b := sampleBatch()
	b.Membership = digest
	compact, err := c.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	b.Membership = 0
	named, err := c.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(compact) >= len(named) {
		t.Fatalf("compact %d bytes, named %d", len(compact), len(named))
	}
	got, err := c.DecodeBatch(compact)
	if err != nil {
		t.Fatal(err)
	}
	if got.Membership != digest {
		t.Fatalf("membership %#x", got.Membership)
	}
	got.Membership = 0
	want, err := c.DecodeBatch(named)
	if err != nil {
		t.Fatal(err)
	}
	// Compact deps come in membership order; compare as vectors.
	for i := range got.Ops {
		if !Apply(nil, got.Ops[i].Deps).Equal(Apply(nil, want.Ops[i].Deps)) {
			t.Fatalf("op %d deps %v vs %v", i, got.Ops[i].Deps, want.Ops[i].Deps)
		}
		got.Ops[i].Deps, want.Ops[i].Deps = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("compact %+v\nnamed %+v", got, want)
	}
	// A receiver with another membership refuses a compact batch clearly.
	other := testCodec(t)
	if err := other.SetMembership(append(members, "af")); err != nil {
		t.Fatal(err)
	}
	if _, err := other.DecodeBatch(compact); !errors.Is(err, ErrMembershipMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := other.DecodeBatch(named); err != nil {
		t.Fatalf("named batch with other membership: %v", err)
	}
	// A sender whose digest differs falls back to names.
	b.Membership = 12345
	if w, err := c.AppendBatch(nil, b); err != nil || len(w) != len(named) {
		t.Fatalf("fallback: %d bytes, %v", len(w), err)
	}
	// A dependency outside the membership cannot be compact.
	b.Membership = digest
	b.Ops[0].Deps = append(b.Ops[0].Deps, Entry{"xx", 1})
	if _, err := c.AppendBatch(nil, b); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("non-member dep: %v", err)
	}
	if err := c.SetMembership([]string{"a", "a"}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("duplicate member: %v", err)
	}
}

func TestCompactAcks(t *testing.T) {
	members := []string{"a", "b", "c"}
	c := testCodec(t)
	if err := c.SetMembership(members); err != nil {
		t.Fatal(err)
	}
	a := Ack{From: "a", To: "b", Full: true, Membership: MembershipDigest(members), Compact: true,
		Delivered: []Entry{{"c", 9}, {"a", 3}}}
	w, err := c.AppendAck(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeAck(w)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("got %+v, %v", got, err)
	}
	other := testCodec(t)
	if _, err := other.DecodeAck(w); !errors.Is(err, ErrMembershipMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	// Without a shared digest the codec names regions.
	named, err := other.AppendAck(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.DecodeAck(named); err != nil || got.Compact || len(named) <= len(w) {
		t.Fatalf("fallback: %+v %v", got, err)
	}
	a.Delivered = append(a.Delivered, Entry{"zz", 1})
	if _, err := c.AppendAck(nil, a); !errors.Is(err, ErrInvalidAck) {
		t.Fatalf("non-member entry: %v", err)
	}
}

func TestNewCodecShortSecret(t *testing.T) {
	if _, err := NewCodec([]byte("short")); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("err %v", err)
	}
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// asVersion1 re-seals a version 2 message as a version 1 message (the
// same bytes, HMAC-SHA256 with secret instead of keyed BLAKE3), as a
// region before version 2 writes it.
func asVersion1(t *testing.T, msg, secret []byte) []byte {
	t.Helper()
	v1 := slices.Clone(msg[:len(msg)-trailerBytes])
	v1[0] = wireVersionHMAC
	v1 = binary.LittleEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	m := hmac.New(sha256.New, secret)
	m.Write(v1)
	return m.Sum(v1)
}

func TestWireVersions(t *testing.T) {
	secret := []byte("test-fabric-secret-0123456789")
	c, err := NewCodec(secret)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.AppendBatch(nil, sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	ack, err := c.AppendAck(nil, Ack{From: "a", To: "b", Delivered: []Entry{{"a", 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if batch[0] != WireVersion || ack[0] != WireVersion || WireVersion != 2 {
		t.Fatalf("written versions %d, %d; want %d", batch[0], ack[0], WireVersion)
	}
	want, err := c.DecodeBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	// A region not yet upgraded writes version 1: still accepted.
	got, err := c.DecodeBatch(asVersion1(t, batch, secret))
	if err != nil {
		t.Fatalf("version 1 batch: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("version 1 batch decoded as %+v, want %+v", got, want)
	}
	if _, err := c.DecodeAck(asVersion1(t, ack, secret)); err != nil {
		t.Fatalf("version 1 ack: %v", err)
	}
	if k, err := PeekKind(asVersion1(t, ack, secret)); err != nil || k != KindAck {
		t.Fatalf("PeekKind(version 1 ack) = %d, %v", k, err)
	}
	// Each version's MAC is its own: a version 1 message signed with
	// another secret, or a version 2 MAC under a version 1 byte, fails.
	if _, err := c.DecodeBatch(asVersion1(t, batch, []byte("another-fabric-secret-xxxxxxxx"))); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("version 1 batch with another secret: %v", err)
	}
	relabelled := slices.Clone(batch)
	relabelled[0] = wireVersionHMAC
	crcAt := len(relabelled) - trailerBytes
	binary.LittleEndian.PutUint32(relabelled[crcAt:], crc32.Checksum(relabelled[:crcAt], castagnoli))
	if _, err := c.DecodeBatch(relabelled); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("version 2 MAC under version 1: %v", err)
	}
	for _, v := range []byte{0, 3, 0xFD} {
		bad := slices.Clone(batch)
		bad[0] = v
		if _, err := c.DecodeBatch(bad); !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: %v, want ErrVersion", v, err)
		}
		if _, err := PeekKind(bad); !errors.Is(err, ErrVersion) {
			t.Errorf("PeekKind version %d: %v, want ErrVersion", v, err)
		}
	}
}
