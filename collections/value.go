package collections

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// valueKind classifies a JSON value by what the reducer does with it.
type valueKind uint8

const (
	valueOther  valueKind = iota // string, bool, null, array: a leaf value
	valueNumber                  // a number: a leaf value increments add to
	valueObject                  // an object: decomposed into attributes
)

func kindOfValue(raw []byte) valueKind {
	switch c := raw[0]; {
	case c == '{':
		return valueObject
	case c == '-' || isASCIIDigit(c):
		return valueNumber
	}
	return valueOther
}

// checkValue accepts compact, valid UTF-8 JSON within the size and nesting
// bounds whose objects have no duplicate names, and classifies it.
func checkValue(raw []byte) (valueKind, error) {
	if len(raw) == 0 {
		return 0, errors.New("missing value")
	}
	if len(raw) > maxValueBytes {
		return 0, fmt.Errorf("value of %d bytes exceeds %d", len(raw), maxValueBytes)
	}
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return 0, fmt.Errorf("value %q is not valid UTF-8 JSON", truncate(raw))
	}
	if err := scanValue(raw); err != nil {
		return 0, fmt.Errorf("value %q: %w", truncate(raw), err)
	}
	return kindOfValue(raw), nil
}

// scanValue checks what json.Valid does not: compactness, nesting depth,
// attribute names and duplicate names. raw must be valid JSON.
func scanValue(raw []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		names     map[string]struct{}
	}
	var stack []frame
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
			return errors.New("not compact JSON")
		case '{', '[':
			if len(stack) == maxValueDepth {
				return fmt.Errorf("nested deeper than %d", maxValueDepth)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; stack[top].object {
				stack[top].expectKey = true
			}
		case '"':
			end := stringEnd(raw, i)
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				f := &stack[top]
				f.expectKey = false
				name := unquote(raw[i : end+1])
				if err := validateName(name); err != nil {
					return err
				}
				if f.names == nil {
					f.names = make(map[string]struct{})
				}
				if _, dup := f.names[name]; dup {
					return fmt.Errorf("duplicate attribute %q", name)
				}
				f.names[name] = struct{}{}
			}
			i = end
		}
	}
	return nil
}

// stringEnd returns the index of the quote closing the string opened at i.
func stringEnd(raw []byte, i int) int {
	for j := i + 1; ; j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
}

// unquote decodes a valid JSON string literal.
func unquote(lit []byte) string {
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		panic("collections: unquote of a validated string: " + err.Error())
	}
	return s
}

// member is one name/value pair of a JSON object.
type member struct {
	name string
	raw  []byte
}

// splitObject returns the members of a validated compact JSON object, in
// order. The raw values alias obj.
func splitObject(obj []byte) []member {
	var out []member
	i := 1
	for obj[i] != '}' {
		end := stringEnd(obj, i)
		name := unquote(obj[i : end+1])
		start := end + 2 // skip the colon
		stop := skipValue(obj, start)
		out = append(out, member{name: name, raw: obj[start:stop:stop]})
		i = stop
		if obj[i] == ',' {
			i++
		}
	}
	return out
}

// skipValue returns the index just past the compact JSON value at i.
func skipValue(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		return stringEnd(raw, i) + 1
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch raw[j] {
			case '"':
				j = stringEnd(raw, j)
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' {
		j++
	}
	return j
}

// parseInteger parses a JSON integer literal that fits in an int64.
func parseInteger(raw []byte) (int64, bool) {
	if len(raw) == 0 || len(raw) > 20 {
		return 0, false
	}
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if !isASCIIDigit(c) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// number is a JSON number as the view computes with it.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// parseNumber reads a valid JSON number literal; it fails for one that does
// not fit a finite float64.
func parseNumber(raw []byte) (number, bool) {
	if i, ok := parseInteger(raw); ok {
		return number{isInt: true, i: i}, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return number{}, false
	}
	return number{f: f}, true
}

// plus adds an integer sum of increments, moving to float64 on overflow.
func (n number) plus(sum int64) number {
	if n.isInt {
		r := n.i + sum
		if (r > n.i) == (sum > 0) || sum == 0 {
			return number{isInt: true, i: r}
		}
		return number{f: float64(n.i) + float64(sum)}
	}
	return number{f: n.f + float64(sum)}
}

func (n number) appendJSON(dst []byte) []byte {
	if n.isInt {
		return strconv.AppendInt(dst, n.i, 10)
	}
	f := n.f
	if math.IsInf(f, 1) {
		f = math.MaxFloat64
	} else if math.IsInf(f, -1) {
		f = -math.MaxFloat64
	}
	// Format like encoding/json (and JavaScript): plain notation between
	// 1e-6 and 1e21, exponent notation outside.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Turn e-07 into e-7, as encoding/json does.
		if n := len(dst) - start; n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}
