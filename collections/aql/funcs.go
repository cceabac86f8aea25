package aql

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/causeway/causeway/collections/query"
)

// function is an AQL function: its arity (max -1: any) and implementation
// (nil: known but refused, with why).
type function struct {
	min, max int
	impl     func(c *ctx, args []any) (any, error)
	why      string
}

func (f *function) arity() string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d", f.min)
	case f.min == f.max:
		return fmt.Sprint(f.min)
	}
	return fmt.Sprintf("%d to %d", f.min, f.max)
}

// functions is filled by the funcs_*.go files' init-free tables below.
var functions = map[string]*function{}

func register(table map[string]*function) {
	for name, f := range table {
		functions[name] = f
	}
}

func init() {
	register(stringFuncs)
	register(numberFuncs)
	register(arrayFuncs)
	register(objectFuncs)
	register(typeFuncs)
	register(dateFuncs)
}

// argTypeWarning is ArangoDB's answer to an argument of the wrong type: a
// warning and null.
func argTypeWarning(c *ctx, name string) (any, error) {
	c.warn(NumFunctionArgType, fmt.Sprintf("invalid argument type in call to function '%s()'", name))
	return nil, nil
}

func fn(min, max int, impl func(c *ctx, args []any) (any, error)) *function {
	return &function{min: min, max: max, impl: impl}
}

// maxStringBytes bounds strings functions build.
const maxStringBytes = 16 << 20

var stringFuncs = map[string]*function{
	"CONCAT": fn(1, -1, func(c *ctx, args []any) (any, error) {
		var b strings.Builder
		for _, a := range flattenOne(args) {
			if a != nil {
				b.WriteString(toString(a))
			}
			if b.Len() > maxStringBytes {
				return nil, badQuery(NumResourceLimit, "CONCAT result exceeds %d bytes", maxStringBytes)
			}
		}
		return b.String(), nil
	}),
	"CONCAT_SEPARATOR": fn(2, -1, func(c *ctx, args []any) (any, error) {
		sep := toString(args[0])
		var parts []string
		n := 0
		for _, a := range flattenOne(args[1:]) {
			if a != nil {
				s := toString(a)
				n += len(s) + len(sep)
				if n > maxStringBytes {
					return nil, badQuery(NumResourceLimit, "CONCAT_SEPARATOR result exceeds %d bytes", maxStringBytes)
				}
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, sep), nil
	}),
	"LOWER": fn(1, 1, func(c *ctx, a []any) (any, error) { return strings.ToLower(toString(a[0])), nil }),
	"UPPER": fn(1, 1, func(c *ctx, a []any) (any, error) { return strings.ToUpper(toString(a[0])), nil }),
	"SUBSTRING": fn(2, 3, func(c *ctx, a []any) (any, error) {
		r := []rune(toString(a[0]))
		off := int(toNumber(a[1]))
		if off < 0 {
			off = max(len(r)+off, 0)
		}
		if off > len(r) {
			return "", nil
		}
		end := len(r)
		if len(a) > 2 && a[2] != nil {
			end = min(off+max(int(toNumber(a[2])), 0), len(r))
		}
		return string(r[off:end]), nil
	}),
	"CONTAINS": fn(2, 3, func(c *ctx, a []any) (any, error) {
		s, sub := toString(a[0]), toString(a[1])
		if len(a) > 2 && truthy(a[2]) {
			return float64(runeIndex(s, sub)), nil
		}
		return strings.Contains(s, sub), nil
	}),
	"LIKE": fn(2, 3, func(c *ctx, a []any) (any, error) {
		s, p := toString(a[0]), toString(a[1])
		if len(a) > 2 && truthy(a[2]) {
			s, p = strings.ToLower(s), strings.ToLower(p)
		}
		return likeMatch(s, p), nil
	}),
	"REGEX_TEST": fn(2, 3, func(c *ctx, a []any) (any, error) {
		re, err := compileRegex(toString(a[1]), len(a) > 2 && truthy(a[2]))
		if err != nil {
			return nil, err
		}
		return re.MatchString(toString(a[0])), nil
	}),
	"SPLIT": fn(1, 3, func(c *ctx, a []any) (any, error) {
		s := toString(a[0])
		limit := -1
		if len(a) > 2 && a[2] != nil {
			limit = int(toNumber(a[2]))
		}
		var parts []string
		switch {
		case len(a) < 2 || a[1] == nil:
			parts = []string{s}
		default:
			parts = strings.Split(s, toString(a[1]))
		}
		if limit >= 0 && limit < len(parts) {
			parts = parts[:limit]
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}),
	"TRIM":      fn(1, 2, trimFunc(strings.Trim)),
	"LTRIM":     fn(1, 2, trimFunc(strings.TrimLeft)),
	"RTRIM":     fn(1, 2, trimFunc(strings.TrimRight)),
	"TO_STRING": fn(1, 1, func(c *ctx, a []any) (any, error) { return toString(a[0]), nil }),
	"LEFT": fn(2, 2, func(c *ctx, a []any) (any, error) {
		r := []rune(toString(a[0]))
		return string(r[:min(max(int(toNumber(a[1])), 0), len(r))]), nil
	}),
	"RIGHT": fn(2, 2, func(c *ctx, a []any) (any, error) {
		r := []rune(toString(a[0]))
		n := min(max(int(toNumber(a[1])), 0), len(r))
		return string(r[len(r)-n:]), nil
	}),
	"REVERSE": fn(1, 1, func(c *ctx, a []any) (any, error) {
		if arr, ok := a[0].([]any); ok {
			out := slices.Clone(arr)
			slices.Reverse(out)
			return out, nil
		}
		r := []rune(toString(a[0]))
		slices.Reverse(r)
		return string(r), nil
	}),
	"SUBSTITUTE": fn(2, 4, func(c *ctx, a []any) (any, error) {
		s := toString(a[0])
		if m, ok := a[1].(map[string]any); ok {
			for k, v := range m {
				s = strings.ReplaceAll(s, k, toString(v))
			}
			return s, nil
		}
		if len(a) < 3 {
			return strings.ReplaceAll(s, toString(a[1]), ""), nil
		}
		return strings.ReplaceAll(s, toString(a[1]), toString(a[2])), nil
	}),
	"FIND_FIRST": fn(2, 4, func(c *ctx, a []any) (any, error) {
		return float64(runeIndex(toString(a[0]), toString(a[1]))), nil
	}),
	"STARTS_WITH": fn(2, 2, func(c *ctx, a []any) (any, error) {
		return strings.HasPrefix(toString(a[0]), toString(a[1])), nil
	}),
	"JSON_STRINGIFY": fn(1, 1, func(c *ctx, a []any) (any, error) { return string(appendJSON(nil, a[0])), nil }),
}

func runeIndex(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return utf8.RuneCountInString(s[:i])
}

func likeMatch(s, p string) bool { return query.Like(s, p) }

func trimFunc(trim func(string, string) string) func(c *ctx, a []any) (any, error) {
	return func(c *ctx, a []any) (any, error) {
		s := toString(a[0])
		chars := " \t\r\n"
		if len(a) > 1 && a[1] != nil {
			if isNumber(a[1]) {
				switch int(toNumber(a[1])) {
				case 1:
					return strings.TrimLeft(s, chars), nil
				case 2:
					return strings.TrimRight(s, chars), nil
				}
				return strings.Trim(s, chars), nil
			}
			chars = toString(a[1])
		}
		return trim(s, chars), nil
	}
}

// flattenOne spreads array arguments one level (CONCAT([a, b]) is a b).
func flattenOne(args []any) []any {
	var out []any
	for _, a := range args {
		if arr, ok := a.([]any); ok {
			out = append(out, arr...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

var numberFuncs = map[string]*function{
	"ABS":   fn(1, 1, mathFunc(math.Abs)),
	"FLOOR": fn(1, 1, mathFunc(math.Floor)),
	"CEIL":  fn(1, 1, mathFunc(math.Ceil)),
	"ROUND": fn(1, 1, mathFunc(func(x float64) float64 { return math.Floor(x + 0.5) })),
	"SQRT":  fn(1, 1, mathFunc(math.Sqrt)),
	"EXP":   fn(1, 1, mathFunc(math.Exp)),
	"LOG":   fn(1, 1, mathFunc(math.Log)),
	"LOG10": fn(1, 1, mathFunc(math.Log10)),
	"POW": fn(2, 2, func(c *ctx, a []any) (any, error) {
		return numberValue(math.Pow(toNumber(a[0]), toNumber(a[1]))), nil
	}),
	"TO_NUMBER": fn(1, 1, func(c *ctx, a []any) (any, error) { return toNumber(a[0]), nil }),
	"RAND":      fn(0, 0, func(c *ctx, a []any) (any, error) { return c.rnd.Float64(), nil }),
	"RANGE": fn(2, 3, func(c *ctx, a []any) (any, error) {
		from, to, step := toNumber(a[0]), toNumber(a[1]), 1.0
		if len(a) > 2 && a[2] != nil {
			step = toNumber(a[2])
		} else if to < from {
			step = -1
		}
		if step == 0 || (to-from)/step < 0 {
			return []any{}, nil
		}
		if n := (to - from) / step; math.IsNaN(n) || n >= float64(c.maxRows) {
			return nil, badQuery(NumResourceLimit, "RANGE of more than %d values", c.maxRows)
		}
		out := []any{}
		for x := from; (step > 0 && x <= to) || (step < 0 && x >= to); x += step {
			out = append(out, x)
		}
		return out, nil
	}),
	"SUM":            fn(1, 1, arrayAgg(aggSum)),
	"AVG":            fn(1, 1, arrayAgg(aggAvg)),
	"AVERAGE":        fn(1, 1, arrayAgg(aggAvg)),
	"MIN":            fn(1, 1, arrayAgg(aggMin)),
	"MAX":            fn(1, 1, arrayAgg(aggMax)),
	"COUNT_DISTINCT": fn(1, 1, arrayAgg(aggCountDistinct)),
	"COUNT_UNIQUE":   fn(1, 1, arrayAgg(aggCountDistinct)),
}

func mathFunc(f func(float64) float64) func(c *ctx, a []any) (any, error) {
	return func(c *ctx, a []any) (any, error) { return numberValue(f(toNumber(a[0]))), nil }
}

// arrayAgg applies an aggregate to an array argument (null for others).
func arrayAgg(k aggKind) func(c *ctx, a []any) (any, error) {
	return func(c *ctx, a []any) (any, error) {
		arr, ok := a[0].([]any)
		if !ok {
			return argTypeWarning(c, "aggregate")
		}
		var st aggState
		for _, v := range arr {
			if err := st.add(c, k, v); err != nil {
				return nil, err
			}
		}
		if k == aggSum && st.n == 0 {
			return 0.0, nil
		}
		return st.result(k), nil
	}
}

var typeFuncs = map[string]*function{
	"TO_BOOL": fn(1, 1, func(c *ctx, a []any) (any, error) { return truthy(a[0]), nil }),
	"TO_ARRAY": fn(1, 1, func(c *ctx, a []any) (any, error) {
		switch x := a[0].(type) {
		case nil:
			return []any{}, nil
		case []any:
			return x, nil
		case map[string]any:
			return valuesOf(x), nil
		}
		return []any{a[0]}, nil
	}),
	"IS_NULL":   fn(1, 1, func(c *ctx, a []any) (any, error) { return a[0] == nil, nil }),
	"IS_BOOL":   fn(1, 1, func(c *ctx, a []any) (any, error) { _, ok := a[0].(bool); return ok, nil }),
	"IS_NUMBER": fn(1, 1, func(c *ctx, a []any) (any, error) { return isNumber(a[0]), nil }),
	"IS_STRING": fn(1, 1, func(c *ctx, a []any) (any, error) { _, ok := a[0].(string); return ok, nil }),
	"IS_ARRAY":  fn(1, 1, func(c *ctx, a []any) (any, error) { _, ok := a[0].([]any); return ok, nil }),
	"IS_LIST":   fn(1, 1, func(c *ctx, a []any) (any, error) { _, ok := a[0].([]any); return ok, nil }),
	"IS_OBJECT": fn(1, 1, func(c *ctx, a []any) (any, error) { _, ok := a[0].(map[string]any); return ok, nil }),
	"IS_DOCUMENT": fn(1, 1, func(c *ctx, a []any) (any, error) {
		_, ok := a[0].(map[string]any)
		return ok, nil
	}),
	"TYPENAME": fn(1, 1, func(c *ctx, a []any) (any, error) { return typeName(a[0]), nil }),
	"NOT_NULL": fn(1, -1, func(c *ctx, a []any) (any, error) {
		for _, v := range a {
			if v != nil {
				return v, nil
			}
		}
		return nil, nil
	}),
	"FIRST_DOCUMENT": fn(1, -1, func(c *ctx, a []any) (any, error) {
		for _, v := range a {
			if m, ok := v.(map[string]any); ok {
				return m, nil
			}
		}
		return nil, nil
	}),
	"FIRST_LIST": fn(1, -1, func(c *ctx, a []any) (any, error) {
		for _, v := range a {
			if arr, ok := v.([]any); ok {
				return arr, nil
			}
		}
		return nil, nil
	}),
	"DOCUMENT": fn(1, 2, documentFunc),
	"FAIL": fn(0, 1, func(c *ctx, a []any) (any, error) {
		msg := ""
		if len(a) > 0 {
			msg = toString(a[0])
		}
		return nil, badQuery(1569, "FAIL(%s) called", msg)
	}),
	"NOOPT":       fn(1, 1, func(c *ctx, a []any) (any, error) { return a[0], nil }),
	"PASSTHRU":    fn(1, 1, func(c *ctx, a []any) (any, error) { return a[0], nil }),
	"V8":          fn(1, 1, func(c *ctx, a []any) (any, error) { return a[0], nil }),
	"SLEEP":       {min: 1, max: 1, why: "a query does not sleep on this node"},
	"CALL":        {min: 1, max: -1, why: "dynamic calls are not supported"},
	"APPLY":       {min: 1, max: 2, why: "dynamic calls are not supported"},
	"COLLECTIONS": {min: 0, max: 0, why: "list collections with GET /_api/collection"},
}

var dateFuncs = map[string]*function{
	"DATE_NOW": fn(0, 0, func(c *ctx, a []any) (any, error) { return float64(c.opts.Now.UnixMilli()), nil }),
	"DATE_ISO8601": fn(1, 7, func(c *ctx, a []any) (any, error) {
		t, ok := dateArg(a)
		if !ok {
			c.warn(1580, "invalid date value")
			return nil, nil
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}),
	"DATE_TIMESTAMP": fn(1, 7, func(c *ctx, a []any) (any, error) {
		t, ok := dateArg(a)
		if !ok {
			c.warn(1580, "invalid date value")
			return nil, nil
		}
		return float64(t.UnixMilli()), nil
	}),
	"DATE_YEAR":      fn(1, 1, datePart(func(t time.Time) int { return t.Year() })),
	"DATE_MONTH":     fn(1, 1, datePart(func(t time.Time) int { return int(t.Month()) })),
	"DATE_DAY":       fn(1, 1, datePart(func(t time.Time) int { return t.Day() })),
	"DATE_HOUR":      fn(1, 1, datePart(func(t time.Time) int { return t.Hour() })),
	"DATE_DAYOFWEEK": fn(1, 1, datePart(func(t time.Time) int { return int(t.Weekday()) })),
}

func datePart(f func(time.Time) int) func(c *ctx, a []any) (any, error) {
	return func(c *ctx, a []any) (any, error) {
		t, ok := dateArg(a[:1])
		if !ok {
			c.warn(1580, "invalid date value")
			return nil, nil
		}
		return float64(f(t)), nil
	}
}

// dateArg reads a date: Unix ms, an ISO 8601 string, or year, month, day
// [, hour, minute, second, ms].
func dateArg(a []any) (time.Time, bool) {
	if len(a) > 1 {
		var p [7]int
		p[1], p[2] = 1, 1
		for i := 0; i < len(a) && i < 7; i++ {
			if !isNumber(a[i]) {
				return time.Time{}, false
			}
			p[i] = int(toNumber(a[i]))
		}
		return time.Date(p[0], time.Month(p[1]), p[2], p[3], p[4], p[5], p[6]*int(time.Millisecond), time.UTC), true
	}
	switch x := a[0].(type) {
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	case nil, bool, []any, map[string]any:
		return time.Time{}, false
	}
	ms := toNumber(a[0])
	if math.Abs(ms) > 8.64e15 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(ms)).UTC(), true
}
