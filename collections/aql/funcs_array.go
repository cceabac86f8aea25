package aql

import (
	"slices"
	"strings"

	"github.com/causeway/causeway/collections/query"
)

func arrayArg(c *ctx, v any, name string) ([]any, bool) {
	arr, ok := v.([]any)
	if !ok {
		argTypeWarning(c, name)
	}
	return arr, ok
}

var arrayFuncs = map[string]*function{
	"LENGTH": fn(1, 1, lengthFunc),
	"COUNT":  fn(1, 1, lengthFunc),
	"FIRST": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "FIRST")
		if !ok || len(arr) == 0 {
			return nil, nil
		}
		return arr[0], nil
	}),
	"LAST": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "LAST")
		if !ok || len(arr) == 0 {
			return nil, nil
		}
		return arr[len(arr)-1], nil
	}),
	"NTH": fn(2, 2, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "NTH")
		i := int(toNumber(a[1]))
		if !ok || i < 0 || i >= len(arr) {
			return nil, nil
		}
		return arr[i], nil
	}),
	"PUSH": fn(2, 3, func(c *ctx, a []any) (any, error) {
		arr := toArray(a[0])
		if len(a) > 2 && truthy(a[2]) && contains(arr, a[1]) {
			return arr, nil
		}
		return append(slices.Clone(arr), a[1]), nil
	}),
	"APPEND": fn(2, 3, func(c *ctx, a []any) (any, error) {
		arr := slices.Clone(toArray(a[0]))
		add := toArray(a[1])
		if len(arr)+len(add) > c.maxRows {
			return nil, badQuery(NumResourceLimit, "APPEND result exceeds %d values", c.maxRows)
		}
		unique := len(a) > 2 && truthy(a[2])
		for _, v := range add {
			if unique && contains(arr, v) {
				continue
			}
			arr = append(arr, v)
		}
		return arr, nil
	}),
	"POP": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "POP")
		if !ok || len(arr) == 0 {
			return []any{}, nil
		}
		return slices.Clone(arr[:len(arr)-1]), nil
	}),
	"SHIFT": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "SHIFT")
		if !ok || len(arr) == 0 {
			return []any{}, nil
		}
		return slices.Clone(arr[1:]), nil
	}),
	"UNSHIFT": fn(2, 3, func(c *ctx, a []any) (any, error) {
		arr := toArray(a[0])
		if len(a) > 2 && truthy(a[2]) && contains(arr, a[1]) {
			return arr, nil
		}
		return append([]any{a[1]}, arr...), nil
	}),
	"SLICE": fn(2, 3, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "SLICE")
		if !ok {
			return nil, nil
		}
		start := int(toNumber(a[1]))
		if start < 0 {
			start = max(len(arr)+start, 0)
		}
		start = min(start, len(arr))
		end := len(arr)
		if len(a) > 2 && a[2] != nil {
			n := int(toNumber(a[2]))
			if n < 0 {
				end = max(len(arr)+n, start)
			} else {
				end = min(start+n, len(arr))
			}
		}
		return slices.Clone(arr[start:end]), nil
	}),
	"UNIQUE": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "UNIQUE")
		if !ok {
			return nil, nil
		}
		return unique(arr), nil
	}),
	"SORTED_UNIQUE": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "SORTED_UNIQUE")
		if !ok {
			return nil, nil
		}
		out := unique(arr)
		slices.SortFunc(out, compare)
		return out, nil
	}),
	"SORTED": fn(1, 1, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "SORTED")
		if !ok {
			return nil, nil
		}
		out := slices.Clone(arr)
		slices.SortStableFunc(out, compare)
		return out, nil
	}),
	"FLATTEN": fn(1, 2, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "FLATTEN")
		if !ok {
			return nil, nil
		}
		depth := 1
		if len(a) > 1 {
			depth = int(toNumber(a[1]))
		}
		return flatten(arr, depth, nil), nil
	}),
	"UNION": fn(1, -1, func(c *ctx, a []any) (any, error) {
		var out []any
		for _, x := range a {
			arr, ok := arrayArg(c, x, "UNION")
			if !ok {
				return nil, nil
			}
			out = append(out, arr...)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}),
	"UNION_DISTINCT": fn(1, -1, func(c *ctx, a []any) (any, error) {
		var out []any
		for _, x := range a {
			arr, ok := arrayArg(c, x, "UNION_DISTINCT")
			if !ok {
				return nil, nil
			}
			out = append(out, arr...)
		}
		return unique(out), nil
	}),
	"INTERSECTION": fn(1, -1, func(c *ctx, a []any) (any, error) {
		first, ok := arrayArg(c, a[0], "INTERSECTION")
		if !ok {
			return nil, nil
		}
		out := unique(first)
		for _, x := range a[1:] {
			arr, ok := arrayArg(c, x, "INTERSECTION")
			if !ok {
				return nil, nil
			}
			out = slices.DeleteFunc(out, func(v any) bool { return !contains(arr, v) })
		}
		return out, nil
	}),
	"MINUS": fn(1, -1, func(c *ctx, a []any) (any, error) {
		first, ok := arrayArg(c, a[0], "MINUS")
		if !ok {
			return nil, nil
		}
		out := unique(first)
		for _, x := range a[1:] {
			arr, _ := x.([]any)
			out = slices.DeleteFunc(out, func(v any) bool { return contains(arr, v) })
		}
		return out, nil
	}),
	"POSITION": fn(2, 3, func(c *ctx, a []any) (any, error) {
		arr, ok := arrayArg(c, a[0], "POSITION")
		if !ok {
			return nil, nil
		}
		i := slices.IndexFunc(arr, func(v any) bool { return equal(v, a[1]) })
		if len(a) > 2 && truthy(a[2]) {
			return float64(i), nil
		}
		return i >= 0, nil
	}),
	"ZIP": fn(2, 2, func(c *ctx, a []any) (any, error) {
		ks, ok1 := a[0].([]any)
		vs, ok2 := a[1].([]any)
		if !ok1 || !ok2 || len(ks) != len(vs) {
			return argTypeWarning(c, "ZIP")
		}
		out := make(map[string]any, len(ks))
		for i, k := range ks {
			if _, dup := out[toString(k)]; !dup {
				out[toString(k)] = vs[i]
			}
		}
		return out, nil
	}),
}

func lengthFunc(c *ctx, a []any) (any, error) {
	switch x := a[0].(type) {
	case nil:
		return 0.0, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		return float64(len([]rune(x))), nil
	case []any:
		return float64(len(x)), nil
	case map[string]any:
		return float64(len(x)), nil
	}
	return float64(len(toString(a[0]))), nil
}

func toArray(v any) []any {
	switch x := v.(type) {
	case nil:
		return []any{}
	case []any:
		return x
	}
	return []any{v}
}

func unique(arr []any) []any {
	seen := make(map[string]bool, len(arr))
	out := []any{}
	for _, v := range arr {
		k := string(valueKey(nil, v))
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func flatten(arr []any, depth int, out []any) []any {
	if out == nil {
		out = []any{}
	}
	for _, v := range arr {
		if sub, ok := v.([]any); ok && depth > 0 {
			out = flatten(sub, depth-1, out)
			continue
		}
		out = append(out, v)
	}
	return out
}

// documentFunc is DOCUMENT(id), DOCUMENT([ids]), DOCUMENT(coll, key) or
// DOCUMENT(coll, [keys]): the documents from the query's snapshot.
func documentFunc(c *ctx, a []any) (any, error) {
	var coll string
	ids := a[0]
	if len(a) == 2 {
		coll = toString(a[0])
		ids = a[1]
	}
	one := func(id any) (any, error) {
		s, ok := id.(string)
		if !ok {
			if m, isObj := id.(map[string]any); isObj {
				s, ok = m["_id"].(string)
			}
			if !ok {
				return nil, nil
			}
		}
		name, key := coll, s
		if i := strings.IndexByte(s, '/'); i >= 0 {
			name, key = s[:i], s[i+1:]
		}
		if name == "" || key == "" {
			return nil, nil
		}
		if _, err := c.opts.Source.Indexes(name); err != nil {
			return nil, err
		}
		if c.modified[name] {
			return nil, badQuery(NumAccessAfterModify, "access after data-modification by collection '%s'", name)
		}
		it, err := c.scan(name, query.Access{Kind: query.KeyRange, Lo: []byte(key), Hi: append([]byte(key), 0)}, false)
		if err != nil {
			return nil, err
		}
		defer c.closeIter(it)
		doc, ok, err := it.Next()
		if err != nil || !ok {
			return nil, err
		}
		return c.decode(doc)
	}
	if arr, ok := ids.([]any); ok {
		out := []any{}
		for _, id := range arr {
			d, err := one(id)
			if err != nil {
				return nil, err
			}
			if d != nil {
				out = append(out, d)
			}
		}
		return out, nil
	}
	return one(ids)
}
