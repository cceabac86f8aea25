package query

import "github.com/valyala/fastjson"

// Exports for the other query language of collections (collections/aql),
// which shares this package's value order, index encoding and planner.

// CompareValues orders any two values in the total order of ORDER BY:
// null < false < true < numbers < strings < arrays < objects.
func CompareValues(a, b any) int { return compareTotal(a, b) }

// AppendJSON appends v as JSON (object names sorted, non-finite numbers as
// null).
func AppendJSON(dst []byte, v any) []byte { return appendJSON(dst, v) }

// FromFast converts a parsed JSON value to this package's value form (nil
// for an absent value).
func FromFast(v *fastjson.Value) any { return fromFast(v) }

// ToFloat returns a number value (float64, json.Number, int64, int) as
// float64.
func ToFloat(v any) (float64, bool) { return toFloat(v) }

// Like matches s against a LIKE pattern (% any run, _ one character,
// backslash escapes).
func Like(s, pattern string) bool { return like(s, pattern, '\\') }
