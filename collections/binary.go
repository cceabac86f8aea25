package collections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// encodingVersion is the first byte of every encoded op and state.
const encodingVersion = 1

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// reader decodes the binary forms. The first error sticks: later reads
// return zero values, and err says what went wrong where.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.remaining() < 1 {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uvarint reads a minimally encoded unsigned varint.
func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	switch {
	case n == 0:
		r.fail("truncated varint")
		return 0
	case n < 0:
		r.fail("varint overflows 64 bits")
		return 0
	case n != uvarintLen(v):
		r.fail("varint not minimally encoded")
		return 0
	}
	r.off += n
	return v
}

// varint reads a minimally encoded zigzag signed varint.
func (r *reader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a number of items, each at least minItemBytes long, bounded
// by limit and by the bytes left.
func (r *reader) count(limit, minItemBytes int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(limit) || n > uint64(r.remaining()/minItemBytes) {
		r.fail("count %d exceeds the limit or the input", n)
		return 0
	}
	return int(n)
}

// bytes reads a length-prefixed byte string of at most limit bytes; the
// result aliases the input.
func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(r.remaining()) {
		r.fail("length %d exceeds the limit or the input", n)
		return nil
	}
	b := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *reader) string(limit int) string { return string(r.bytes(limit)) }

// done fails unless the whole input was read.
func (r *reader) done() {
	if r.err == nil && r.remaining() != 0 {
		r.fail("%d trailing bytes", r.remaining())
	}
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

var errEmptyInput = errors.New("empty input")
