package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// kind is the type of a value.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kStr
	kRaw // a JSON object or array, kept as its JSON text in s
)

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kBool:
		return "boolean"
	case kNum:
		return "number"
	case kStr:
		return "string"
	}
	return "object or array"
}

// value is one SQL value. Numbers are float64, as in JSON; times are Unix
// milliseconds.
type value struct {
	K kind
	N float64
	S string // kStr text, kRaw JSON text
	B bool
}

var null = value{}

// num makes a number; NaN and infinities are NULL (JSON has neither).
func num(f float64) value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return null
	}
	return value{K: kNum, N: f}
}
func str(s string) value     { return value{K: kStr, S: s} }
func boolean(b bool) value   { return value{K: kBool, B: b} }
func (v value) isNull() bool { return v.K == kNull }

// fromJSON converts a fastjson value (nil: missing) to a value.
func fromJSON(j *fastjson.Value) value {
	if j == nil {
		return null
	}
	switch j.Type() {
	case fastjson.TypeNumber:
		f, _ := j.Float64()
		return num(f)
	case fastjson.TypeString:
		b, _ := j.StringBytes()
		return str(string(b))
	case fastjson.TypeTrue:
		return boolean(true)
	case fastjson.TypeFalse:
		return boolean(false)
	case fastjson.TypeObject, fastjson.TypeArray:
		return value{K: kRaw, S: string(j.MarshalTo(nil))}
	}
	return null
}

// appendJSON appends the value as JSON.
func (v value) appendJSON(b []byte) []byte {
	switch v.K {
	case kBool:
		return strconv.AppendBool(b, v.B)
	case kNum:
		return appendNum(b, v.N)
	case kStr:
		return appendQuoted(b, v.S)
	case kRaw:
		return append(b, v.S...)
	}
	return append(b, "null"...)
}

func appendNum(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string (invalid UTF-8 becomes U+FFFD).
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// text is the value as a string for string functions and keys.
func (v value) text() string {
	switch v.K {
	case kStr, kRaw:
		return v.S
	case kNum:
		return string(appendNum(nil, v.N))
	case kBool:
		return strconv.FormatBool(v.B)
	}
	return ""
}

// truth is the value as a condition: NULL and false are false.
func (v value) truth() (bool, error) {
	switch v.K {
	case kNull:
		return false, nil
	case kBool:
		return v.B, nil
	case kNum:
		return v.N != 0, nil
	}
	return false, fmt.Errorf("%w: a %s is not a condition", ErrType, v.K)
}

// compare orders two non-null values of the same kind (numbers, strings,
// booleans); other pairs are a type error.
func compare(a, b value) (int, error) {
	if a.K != b.K {
		return 0, fmt.Errorf("%w: cannot compare a %s with a %s", ErrType, a.K, b.K)
	}
	switch a.K {
	case kNum:
		switch {
		case a.N < b.N:
			return -1, nil
		case a.N > b.N:
			return 1, nil
		}
		return 0, nil
	case kStr, kRaw:
		return strings.Compare(a.S, b.S), nil
	case kBool:
		switch {
		case a.B == b.B:
			return 0, nil
		case !a.B:
			return -1, nil
		}
		return 1, nil
	}
	return 0, nil
}

// number wants a number (or NULL, reported by ok=false).
func (v value) number(what string) (f float64, ok bool, err error) {
	switch v.K {
	case kNull:
		return 0, false, nil
	case kNum:
		return v.N, true, nil
	}
	return 0, false, fmt.Errorf("%w: %s wants a number, got a %s", ErrType, what, v.K)
}
