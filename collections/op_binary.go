package collections

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Binary form of an op, version 1 (uvarint: unsigned LEB128, minimal;
// string: uvarint length then bytes):
//
//	version byte (1) | kind byte
//	collection string | key string
//	dot region string | dot seq uvarint | hlc uvarint | expiresAt uvarint
//	context: count uvarint, then (region string, seq uvarint) sorted by region
//	path: count uvarint, then names as strings
//	value: uvarint length then compact JSON (length 0: none)

// AppendBinary appends the binary form of op to dst. It fails, appending
// nothing, for an op that does not validate.
func (op *Op) AppendBinary(dst []byte) ([]byte, error) {
	if err := op.Validate(); err != nil {
		return dst, err
	}
	dst = append(dst, encodingVersion, byte(op.Kind))
	dst = appendString(dst, op.Collection)
	dst = appendString(dst, op.Key)
	dst = appendString(dst, op.Dot.Region)
	dst = binary.AppendUvarint(dst, op.Dot.Seq)
	dst = binary.AppendUvarint(dst, op.HLC)
	dst = binary.AppendUvarint(dst, op.ExpiresAt)
	dst = binary.AppendUvarint(dst, uint64(len(op.Context)))
	for _, e := range op.Context {
		dst = appendString(dst, e.Region)
		dst = binary.AppendUvarint(dst, e.Seq)
	}
	dst = binary.AppendUvarint(dst, uint64(len(op.Path)))
	for _, name := range op.Path {
		dst = appendString(dst, name)
	}
	return appendBytes(dst, op.Value), nil
}

// MarshalBinary returns the binary form of op.
func (op *Op) MarshalBinary() ([]byte, error) { return op.AppendBinary(nil) }

// UnmarshalBinary decodes b into op (see DecodeOp).
func (op *Op) UnmarshalBinary(b []byte) error {
	decoded, err := DecodeOp(b)
	if err != nil {
		return err
	}
	*op = decoded
	return nil
}

// DecodeOp decodes the binary form of an op. It rejects anything that is not
// exactly the encoding of a valid op: unknown version or kind, truncation,
// trailing bytes, non-minimal varints, out-of-bound sizes, and every rule of
// Validate. The result shares no memory with b.
func DecodeOp(b []byte) (Op, error) {
	op, err := decodeOp(b)
	if err != nil {
		return Op{}, fmt.Errorf("%w: %w", ErrCorruptOp, err)
	}
	return op, nil
}

func decodeOp(b []byte) (Op, error) {
	if len(b) == 0 {
		return Op{}, errEmptyInput
	}
	if len(b) > maxOpBytes {
		return Op{}, fmt.Errorf("%d bytes exceed %d", len(b), maxOpBytes)
	}
	if b[0] != encodingVersion {
		return Op{}, fmt.Errorf("%w %d", ErrUnsupportedVersion, b[0])
	}
	r := &reader{b: b, off: 1}
	var op Op
	op.Kind = Kind(r.byte())
	op.Collection = r.string(maxCollectionBytes)
	op.Key = r.string(maxKeyBytes)
	op.Dot.Region = r.string(maxRegionBytes)
	op.Dot.Seq = r.uvarint()
	op.HLC = r.uvarint()
	op.ExpiresAt = r.uvarint()
	if n := r.count(maxVectorRegions, 2); n > 0 {
		op.Context = make(Vector, n)
		for i := range op.Context {
			op.Context[i] = VectorEntry{Region: r.string(maxRegionBytes), Seq: r.uvarint()}
		}
	}
	if n := r.count(maxPathDepth, 1); n > 0 {
		op.Path = make([]string, n)
		for i := range op.Path {
			op.Path[i] = r.string(maxNameBytes)
		}
	}
	if v := r.bytes(maxValueBytes); len(v) > 0 {
		op.Value = slices.Clone(v)
	}
	r.done()
	if r.err != nil {
		return Op{}, r.err
	}
	if err := op.Validate(); err != nil {
		return Op{}, err
	}
	return op, nil
}
