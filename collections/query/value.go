package query

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/causeway/causeway/internal/jsonstr"
)

// Values are what encoding/json decodes into with UseNumber: nil, bool,
// json.Number, string, []any and map[string]any. Literals of a query use
// float64 for numbers; every function here accepts both.

// class orders the types of JSON values: null < bool < number < string <
// array < object.
type class uint8

const (
	classNull class = iota
	classBool
	classNumber
	classString
	classArray
	classObject
)

func classOf(v any) class {
	switch v.(type) {
	case nil:
		return classNull
	case bool:
		return classBool
	case json.Number, float64, int64, int:
		return classNumber
	case string:
		return classString
	case []any:
		return classArray
	case map[string]any:
		return classObject
	}
	return classNull
}

// toFloat returns a number value as float64 (false for any other value or a
// number that does not parse).
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, true // ±Inf or 0 for out-of-range literals
			}
			return 0, false
		}
		return f, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// ValueAt returns the value at path in doc (decoded by DecodeObject) and
// whether it is present.
func ValueAt(doc map[string]any, path []string) (any, bool) { return valueAt(doc, path) }

// DecodeObject decodes a JSON object the way queries see documents
// (numbers as json.Number).
func DecodeObject(doc []byte) (map[string]any, error) { return decodeObject(doc) }

// valueAt returns the value at path in doc and whether it is present.
func valueAt(doc map[string]any, path []string) (any, bool) {
	var cur any = doc
	for _, name := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// compareTotal orders any two values: by class, then within the class
// (false < true; numbers by value; strings by bytes; arrays element by
// element, then by length; objects by their sorted names, then values).
func compareTotal(a, b any) int {
	ca, cb := classOf(a), classOf(b)
	if ca != cb {
		if ca < cb {
			return -1
		}
		return 1
	}
	switch ca {
	case classBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case classNumber:
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case classString:
		return strings.Compare(a.(string), b.(string))
	case classArray:
		x, y := a.([]any), b.([]any)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareTotal(x[i], y[i]); c != 0 {
				return c
			}
		}
		return compareInts(len(x), len(y))
	case classObject:
		x, y := a.(map[string]any), b.(map[string]any)
		kx, ky := sortedNames(x), sortedNames(y)
		for i := 0; i < len(kx) && i < len(ky); i++ {
			if c := strings.Compare(kx[i], ky[i]); c != 0 {
				return c
			}
			if c := compareTotal(x[kx[i]], y[ky[i]]); c != 0 {
				return c
			}
		}
		return compareInts(len(kx), len(ky))
	}
	return 0
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// equalValues is deep equality: same class and equal by compareTotal.
func equalValues(a, b any) bool {
	return classOf(a) == classOf(b) && compareTotal(a, b) == 0
}

// appendJSON appends v as JSON (numbers as given, no HTML escaping, object
// names sorted).
func appendJSON(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, x)
	case json.Number:
		return append(dst, x...)
	case float64:
		return appendFloat(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case string:
		return jsonstr.Append(dst, x)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		dst = append(dst, '{')
		for i, k := range sortedNames(x) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonstr.Append(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, x[k])
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// appendFloat formats like encoding/json; non-finite values (from sums
// that overflow) become null.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	b, _ := json.Marshal(f)
	return append(dst, b...)
}

// lookup returns the value at path under v (members of objects only; nil
// when absent).
func lookup(v *fastjson.Value, path []string) *fastjson.Value {
	for _, name := range path {
		if v == nil || v.Type() != fastjson.TypeObject {
			return nil
		}
		v = v.Get(name)
	}
	return v
}

// fromFast converts a parsed value to the package's value form (as
// encoding/json with UseNumber decodes it); nil for an absent value.
func fromFast(v *fastjson.Value) any {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	case fastjson.TypeNumber:
		return json.Number(v.MarshalTo(nil))
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeArray:
		arr := v.GetArray()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = fromFast(e)
		}
		return out
	case fastjson.TypeObject:
		o := v.GetObject()
		out := make(map[string]any, o.Len())
		o.Visit(func(k []byte, e *fastjson.Value) { out[string(k)] = fromFast(e) })
		return out
	}
	return nil
}

// decodeObject decodes a JSON object with numbers kept as json.Number.
func decodeObject(doc []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, ErrDocument
	}
	return m, nil
}

// NormalizeValue turns a decoded JSON value (from encoding/json with or
// without UseNumber) into the form this package computes with. It returns
// false for a value of another Go type.
func NormalizeValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, json.Number, string:
		return v, true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, ok := NormalizeValue(e)
			if !ok {
				return nil, false
			}
			out[i] = n
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, ok := NormalizeValue(e)
			if !ok {
				return nil, false
			}
			out[k] = n
		}
		return out, true
	}
	return nil, false
}
