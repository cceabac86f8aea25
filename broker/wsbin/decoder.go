package wsbin

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// decoder reads a frame front to back. The first failure sticks: later
// reads return zero values, and err says what and where.
type decoder struct {
	b   []byte
	pos int
	err error
}

func newDecoder(frame []byte, want Type) *decoder {
	d := &decoder{b: frame}
	t, err := TypeOf(frame)
	switch {
	case err != nil:
		d.err = err
	case t != want:
		d.err = fmt.Errorf("%w: a %s frame where a %s frame was expected", ErrMalformed, t, want)
	default:
		d.pos = 1
	}
	return d
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, d.pos, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.pos }

func (d *decoder) byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.pos >= len(d.b) {
		d.fail("truncated before %s", what)
		return 0
	}
	c := d.b[d.pos]
	d.pos++
	return c
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.fail("bad or truncated varint (%s)", what)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.pos:])
	if n <= 0 {
		d.fail("bad or truncated varint (%s)", what)
		return 0
	}
	d.pos += n
	return v
}

// count reads a uvarint count in 1..max whose elements need at least
// minBytes each of what remains.
func (d *decoder) count(what string, max, minBytes int) int {
	v := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if v == 0 || v > uint64(max) {
		d.fail("%s %d: want 1..%d", what, v, max)
		return 0
	}
	if v > uint64(d.remaining()/minBytes) {
		d.fail("%s %d: the frame holds at most %d", what, v, d.remaining()/minBytes)
		return 0
	}
	return int(v)
}

// bytes returns a length-prefixed field as a sub-slice of the frame (no
// copy).
func (d *decoder) bytes(what string) []byte {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(d.remaining()) {
		d.fail("%s of %d bytes, %d left", what, n, d.remaining())
		return nil
	}
	b := d.b[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	return b
}

func (d *decoder) string(what string) string { return string(d.bytes(what)) }

// end fails unless the whole frame was read.
func (d *decoder) end() error {
	if d.err == nil && d.pos != len(d.b) {
		d.fail("%d trailing bytes", len(d.b)-d.pos)
	}
	return d.err
}

// properties reads a property map. budget is how many more properties the
// frame may hold (it is reduced by the count); a map of more than maxN
// entries is skipped, not built, and reported with tooMany. metaBytes is
// the sum of the names' and values' lengths. No entries read as nil.
func (d *decoder) properties(budget *int, maxN int) (props map[string]string, metaBytes int, tooMany bool) {
	n := d.uvarint("property count")
	if d.err != nil {
		return nil, 0, false
	}
	if n > uint64(d.remaining()/2) {
		d.fail("%d properties, the frame holds at most %d", n, d.remaining()/2)
		return nil, 0, false
	}
	if n > uint64(*budget) {
		d.err = fmt.Errorf("%w: more than %d properties in one frame", ErrTooLarge, MaxPropertiesPerFrame)
		return nil, 0, false
	}
	*budget -= int(n)
	if n == 0 {
		return nil, 0, false
	}
	tooMany = n > uint64(maxN)
	if !tooMany {
		props = make(map[string]string, n)
	}
	for range n {
		k := d.bytes("property name")
		v := d.bytes("property value")
		if d.err != nil {
			return nil, 0, false
		}
		if props != nil {
			props[string(k)] = string(v)
		}
		metaBytes += len(k) + len(v)
	}
	return props, metaBytes, tooMany
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendProperties writes a property map in sorted name order, so equal
// maps encode to equal bytes.
func appendProperties(dst []byte, props map[string]string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(props)))
	if len(props) == 1 {
		for k, v := range props {
			return appendString(appendString(dst, k), v)
		}
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst = appendString(appendString(dst, k), props[k])
	}
	return dst
}

// cutError bounds an error text to MaxErrorBytes.
func cutError(s string) string {
	if len(s) > MaxErrorBytes {
		return s[:MaxErrorBytes]
	}
	return s
}
