package wsproto

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSONString appends s as a JSON string literal, escaped as
// encoding/json escapes it (without HTML escaping): invalid UTF-8 becomes
// U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONBase64 appends src in standard base64 as a JSON string, encoded
// straight into b.
func AppendJSONBase64(b, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	b = grow(b, n+2)
	b = append(b, '"')
	b = b[:len(b)+n]
	encodeBase64(b[len(b)-n:], src)
	return append(b, '"')
}

// grow makes room for n more bytes in b.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n+max(len(b), 64))
	copy(nb, b)
	return nb
}

// AppendTime appends Unix milliseconds as FormatTime renders them.
func AppendTime(b []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	milli := int(ms % 1000)
	if milli < 0 {
		milli += 1000
	}
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append2(b, int(month), '-')
	b = append2(b, day, 'T')
	b = append2(b, hour, ':')
	b = append2(b, minute, ':')
	b = append2(b, sec, '.')
	return append(b, byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10), 'Z')
}

// append2 appends a two-digit number and a separator.
func append2(b []byte, v int, sep byte) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10), sep)
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// timeLayout is how pushed messages carry times (FormatTime).
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// parseTimeBytes is ParseTime for bytes, without allocating for the two
// forms frames carry: Unix milliseconds and FormatTime's.
func parseTimeBytes(b []byte) (int64, error) {
	if len(b) == len("2006-01-02T15:04:05.000Z") && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' &&
		b[16] == ':' && b[19] == '.' && b[23] == 'Z' {
		year, ok1 := digits(b[0:4])
		month, ok2 := digits(b[5:7])
		day, ok3 := digits(b[8:10])
		hour, ok4 := digits(b[11:13])
		minute, ok5 := digits(b[14:16])
		sec, ok6 := digits(b[17:19])
		milli, ok7 := digits(b[20:23])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && month >= 1 && month <= 12 && day >= 1 && hour < 24 && minute < 60 && sec < 60 {
			t := time.Date(year, time.Month(month), day, hour, minute, sec, milli*int(time.Millisecond), time.UTC)
			if t.Day() == day { // not normalized into the next month
				return t.UnixMilli(), nil
			}
		}
	}
	if len(b) > 0 && len(b) <= 19 {
		if ms, ok := digits(b); ok {
			return int64(ms), nil
		}
	}
	return ParseTime(string(b))
}

// digits reads a non-negative decimal number of at most 18 digits.
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
