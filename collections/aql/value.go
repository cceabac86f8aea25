package aql

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/causeway/causeway/collections/query"
)

// Values are what encoding/json decodes into, numbers as json.Number (read
// from documents and bind parameters, kept exact) or float64 (computed):
// nil, bool, json.Number, float64, string, []any and map[string]any.

func isNumber(v any) bool {
	switch v.(type) {
	case float64, json.Number:
		return true
	}
	return false
}

// num returns a number value as float64 (0, false for other values).
func num(v any) (float64, bool) { return query.ToFloat(v) }

// truthy is AQL's conversion to a boolean.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any, map[string]any, *lazyDoc:
		return true
	}
	f, _ := num(v)
	return f != 0
}

// toNumber is AQL's TO_NUMBER: null, false, "" and values that do not read
// as numbers are 0; true is 1; an array of one element is that element's.
func toNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		s := strings.TrimSpace(x)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0
		}
		return f
	case []any:
		switch len(x) {
		case 0:
			return 0
		case 1:
			return toNumber(x[0])
		}
		return 0
	case map[string]any:
		return 0
	}
	f, _ := num(v)
	return f
}

// toString is AQL's TO_STRING: null is "", arrays and objects their JSON.
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case json.Number:
		f, _ := num(x)
		return formatNumber(f)
	case float64:
		return formatNumber(x)
	}
	return string(appendJSON(nil, v))
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// numberValue returns f as a value: null when it is not finite (AQL has no
// infinities or NaN).
func numberValue(f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return f
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any, *lazyDoc:
		return "object"
	}
	return "number"
}

// compare orders two values (AQL's order: null < bool < number < string <
// array < object; within a type by value).
func compare(a, b any) int { return query.CompareValues(a, b) }

func equal(a, b any) bool { return compare(a, b) == 0 }

// valueKey is a canonical encoding: equal values, equal keys (DISTINCT,
// COLLECT, UNIQUE).
func valueKey(dst []byte, v any) []byte { return query.AppendKey(dst, v) }

// appendJSON appends v as JSON.
func appendJSON(dst []byte, v any) []byte { return query.AppendJSON(dst, v) }

// normalize turns a decoded JSON value (bind parameters) into this
// package's form: numbers of other Go types become float64.
func normalize(v any) (any, bool) { return query.NormalizeValue(v) }

// toJSONValue converts a value for writing (numbers as json.Number, as the
// write path expects them).
func toJSONValue(v any) any {
	switch x := v.(type) {
	case float64:
		return json.Number(formatJSONNumber(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSONValue(e)
		}
		return out
	}
	return v
}

func formatJSONNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// clone copies arrays and objects deeply (values handed to a write or
// kept in a group must not change with later edits).
func clone(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	}
	return v
}
