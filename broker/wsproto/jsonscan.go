package wsproto

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads the JSON of one frame in place, without reflection or
// intermediate maps: the frame decoders walk an object's members and read
// each value as the field they expect, skipping (but validating) the
// others. It accepts exactly RFC 8259 JSON and decodes it as encoding/json
// would into the frame structs: keys match field names case-insensitively,
// null leaves a field unset, invalid UTF-8 in strings becomes U+FFFD, a
// value of the wrong type is an error.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

// maxJSONDepth bounds the nesting of values a frame may hold.
const maxJSONDepth = 10000

// syntaxError reports malformed JSON at the scanner's position.
func (s *scanner) syntaxError(what string) error {
	if s.pos >= len(s.data) {
		return fmt.Errorf("unexpected end of JSON input (%s)", what)
	}
	return fmt.Errorf("invalid character %s at offset %d (%s)", quoteChar(s.data[s.pos]), s.pos, what)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	return strconv.QuoteRune(rune(c))
}

// ws skips white space.
func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// end checks that nothing but white space follows the top-level value.
func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.syntaxError("after top-level value")
	}
	return nil
}

// beginObject consumes '{'. null is reported as ok=false with no error.
func (s *scanner) beginObject(field string) (ok bool, err error) {
	switch s.peek() {
	case '{':
		s.pos++
		return true, nil
	case 'n':
		return false, s.literal("null")
	}
	return false, s.typeError("object", field)
}

// nextKey reads the next member's key of an object opened by beginObject
// (i is the number of members read so far) and the colon after it;
// more=false at the closing brace. A key with escapes is unescaped.
func (s *scanner) nextKey(i int) (key []byte, more bool, err error) {
	c := s.peek()
	if c == '}' {
		s.pos++
		return nil, false, nil
	}
	if i > 0 {
		if c != ',' {
			return nil, false, s.syntaxError("after object member")
		}
		s.pos++
		c = s.peek()
	}
	if c != '"' {
		return nil, false, s.syntaxError("looking for beginning of object key")
	}
	raw, esc, err := s.rawString()
	if err != nil {
		return nil, false, err
	}
	if esc {
		raw = unescape(raw)
	}
	if s.peek() != ':' {
		return nil, false, s.syntaxError("after object key")
	}
	s.pos++
	return raw, true, nil
}

// beginArray consumes '['. null is reported as ok=false with no error.
func (s *scanner) beginArray(field string) (ok bool, err error) {
	switch s.peek() {
	case '[':
		s.pos++
		return true, nil
	case 'n':
		return false, s.literal("null")
	}
	return false, s.typeError("array", field)
}

// nextElement prepares the next element of an array opened by beginArray
// (i elements read so far); more=false at the closing bracket.
func (s *scanner) nextElement(i int) (more bool, err error) {
	c := s.peek()
	if c == ']' {
		s.pos++
		return false, nil
	}
	if i > 0 {
		if c != ',' {
			return false, s.syntaxError("after array element")
		}
		s.pos++
		if s.peek() == ']' {
			return false, s.syntaxError("looking for beginning of value")
		}
	}
	return true, nil
}

// typeError reports a value of the wrong type for field.
func (s *scanner) typeError(want, field string) error {
	kind := "value"
	switch c := s.peek(); {
	case c == '"':
		kind = "string"
	case c == '{':
		kind = "object"
	case c == '[':
		kind = "array"
	case c == 't' || c == 'f':
		kind = "bool"
	case c == '-' || (c >= '0' && c <= '9'):
		kind = "number"
	}
	return fmt.Errorf("cannot unmarshal %s at offset %d into field %s of type %s", kind, s.pos, field, want)
}

// literal consumes the keyword lit (true, false, null).
func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		for i := 0; i < len(lit) && s.pos < len(s.data) && s.data[s.pos] == lit[i]; i++ {
			s.pos++
		}
		return s.syntaxError("in literal " + lit)
	}
	s.pos += len(lit)
	return nil
}

// rawString reads a string at the current position (the opening quote)
// and returns its bytes between the quotes as they are in the frame, and
// whether they hold escapes or bytes that are not ASCII (then str or
// unescape must be used to get the value).
func (s *scanner) rawString() (raw []byte, special bool, err error) {
	s.pos++ // the opening quote
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			return raw, special, nil
		case c == '\\':
			special = true
			if err := s.escape(); err != nil {
				return nil, false, err
			}
			continue
		case c < 0x20:
			return nil, false, s.syntaxError("in string literal")
		case c >= utf8.RuneSelf:
			special = true
		}
		s.pos++
	}
	return nil, false, s.syntaxError("in string literal")
}

// escape validates the escape sequence at the current position (the
// backslash) and moves past it.
func (s *scanner) escape() error {
	s.pos++
	if s.pos >= len(s.data) {
		return s.syntaxError("in string escape code")
	}
	switch s.data[s.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		return nil
	case 'u':
		s.pos++
		for range 4 {
			if s.pos >= len(s.data) || unhex(s.data[s.pos]) < 0 {
				return s.syntaxError("in \\u hexadecimal character escape")
			}
			s.pos++
		}
		return nil
	}
	return s.syntaxError("in string escape code")
}

// plainString reads a string the fast way for long ASCII values such as a
// base64 payload: it finds the closing quote with bytes.IndexByte and, if
// no backslash precedes it, returns the bytes between the quotes without
// checking them one by one; the caller must reject control characters
// (a base64 decoder does). Otherwise it falls back to rawString.
func (s *scanner) plainString() (raw []byte, special bool, err error) {
	rest := s.data[s.pos+1:]
	if q := bytes.IndexByte(rest, '"'); q >= 0 && bytes.IndexByte(rest[:q], '\\') < 0 {
		s.pos += q + 2
		return rest[:q], false, nil
	}
	return s.rawString()
}

// strInto reads a string value into *dst; null leaves *dst as it is (as
// encoding/json does).
func (s *scanner) strInto(field string, dst *string) error {
	v, ok, err := s.str(field)
	if ok {
		*dst = v
	}
	return err
}

// str reads a string value; null is "" with ok=false.
func (s *scanner) str(field string) (v string, ok bool, err error) {
	switch s.peek() {
	case '"':
		raw, special, err := s.rawString()
		if err != nil {
			return "", false, err
		}
		if special {
			return string(unescape(raw)), true, nil
		}
		return string(raw), true, nil
	case 'n':
		return "", false, s.literal("null")
	}
	return "", false, s.typeError("string", field)
}

// payloadString reads a long ASCII string value such as a base64
// payload; null is nil. The result aliases the frame and is unchecked
// (checked=false: plainString's fast path) or was unescaped and checked
// for control characters by rawString (checked=true).
func (s *scanner) payloadString(field string) (v []byte, checked bool, err error) {
	switch s.peek() {
	case '"':
		raw, special, err := s.plainString()
		if err != nil {
			return nil, false, err
		}
		if special {
			raw = unescape(raw)
		}
		return raw, special, nil
	case 'n':
		return nil, false, s.literal("null")
	}
	return nil, false, s.typeError("string", field)
}

// integer reads a JSON number that must be an integer in [min, max]; null
// is ok=false.
func (s *scanner) integer(field string, minV, maxV int64) (v int64, ok bool, err error) {
	c := s.peek()
	if c == 'n' {
		return 0, false, s.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, s.typeError("integer", field)
	}
	start := s.pos
	isInt, err := s.number()
	if err != nil {
		return 0, false, err
	}
	lit := s.data[start:s.pos]
	if !isInt {
		return 0, false, fmt.Errorf("cannot unmarshal number %s into field %s of type integer", lit, field)
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil || n < minV || n > maxV {
		return 0, false, fmt.Errorf("cannot unmarshal number %s into field %s: out of range", lit, field)
	}
	return n, true, nil
}

// intInto reads an integer into *dst; null leaves it as it is.
func (s *scanner) intInto(field string, dst *int) error {
	v, ok, err := s.integer(field, math.MinInt, math.MaxInt)
	if ok {
		*dst = int(v)
	}
	return err
}

// number consumes a JSON number and reports whether it has neither a
// fraction nor an exponent.
func (s *scanner) number() (isInt bool, err error) {
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	default:
		return false, s.syntaxError("in numeric literal")
	}
	isInt = true
	if s.pos < len(d) && d[s.pos] == '.' {
		isInt = false
		s.pos++
		if s.pos >= len(d) || d[s.pos] < '0' || d[s.pos] > '9' {
			return false, s.syntaxError("after decimal point in numeric literal")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		isInt = false
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) || d[s.pos] < '0' || d[s.pos] > '9' {
			return false, s.syntaxError("in exponent of numeric literal")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	return isInt, nil
}

// skip consumes one value of any type, checking that it is well-formed.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == '{':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		for i := 0; ; i++ {
			_, more, err := s.nextKey(i)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
		s.depth--
		return nil
	case c == '[':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		for i := 0; ; i++ {
			more, err := s.nextElement(i)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
		s.depth--
		return nil
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	}
	return s.syntaxError("looking for beginning of value")
}

func (s *scanner) enter() error {
	if s.depth++; s.depth > maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	return nil
}

// stringMap reads an object of string values (properties) into m, which
// it allocates if nil (at the first member); null is nil.
func (s *scanner) stringMap(field string, m map[string]string) (map[string]string, error) {
	ok, err := s.beginObject(field)
	if err != nil || !ok {
		return nil, err
	}
	for i := 0; ; i++ {
		k, more, err := s.nextKey(i)
		if err != nil {
			return m, err
		}
		if !more {
			return m, nil
		}
		v, _, err := s.str(field) // null is ""
		if err != nil {
			return m, err
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[string(k)] = v
	}
}

// stringList reads an array of strings; null is nil.
func (s *scanner) stringList(field string) ([]string, error) {
	ok, err := s.beginArray(field)
	if err != nil || !ok {
		return nil, err
	}
	out := []string{}
	for i := 0; ; i++ {
		more, err := s.nextElement(i)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		v, _, err := s.str(field)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// fieldIndex matches a member key to one of names as encoding/json
// matches keys to struct fields: exactly, or else without regard to case;
// -1 for none.
func fieldIndex(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for i, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// unescape decodes the escapes of a string rawString accepted and replaces
// invalid UTF-8 and lone surrogates with U+FFFD, as encoding/json does.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			i++
			switch raw[i] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+1:])
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
						r2 = hex4(raw[i+3:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, raw[i])
			}
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	return out
}

// hex4 reads the 4 hex digits of a \u escape rawString validated.
func hex4(b []byte) rune {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}
