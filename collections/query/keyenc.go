package query

import (
	"encoding/binary"
	"math"
)

// Tags of the index key encoding, in the order of compareTotal's classes.
const (
	tagNull   byte = 0x01
	tagFalse  byte = 0x02
	tagTrue   byte = 0x03
	tagNumber byte = 0x04
	tagString byte = 0x05
	tagArray  byte = 0x06
	tagObject byte = 0x07
)

// AppendKey appends the index encoding of v to dst. Byte order of encodings
// is the query order of scalars: null < false < true < numbers (by float64
// value) < strings (by bytes). Arrays and objects encode their canonical
// JSON after their tag (equal values, equal bytes; their order is not the
// query order, and the planner never uses ranges over them). Every encoding
// is self-delimiting, so a document key can follow it.
func AppendKey(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, tagNull)
	case bool:
		if x {
			return append(dst, tagTrue)
		}
		return append(dst, tagFalse)
	case string:
		return appendEscaped(append(dst, tagString), x)
	case []any:
		return appendEscaped(append(dst, tagArray), string(appendJSON(nil, canonical(x))))
	case map[string]any:
		return appendEscaped(append(dst, tagObject), string(appendJSON(nil, canonical(x))))
	}
	if f, ok := toFloat(v); ok {
		return appendFloatKey(append(dst, tagNumber), f)
	}
	return append(dst, tagNull)
}

// appendFloatKey appends 8 bytes whose byte order is the numeric order.
func appendFloatKey(dst []byte, f float64) []byte {
	if f == 0 {
		f = 0 // -0 and +0 are equal
	}
	bits := math.Float64bits(f)
	if bits&(1<<63) != 0 {
		bits = ^bits
	} else {
		bits |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, bits)
}

// appendEscaped appends s with 0x00 escaped as 0x00 0xFF and terminated by
// 0x00 0x01, which keeps byte order and makes the encoding self-delimiting.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
			continue
		}
		dst = append(dst, s[i])
	}
	return append(dst, 0, 1)
}

// canonical rewrites numbers as float64 so that equal values encode alike.
func canonical(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	}
	if f, ok := toFloat(v); ok {
		return f
	}
	return v
}

// PrefixEnd returns the smallest key greater than every key that starts
// with prefix (nil when there is none: prefix is all 0xFF).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
