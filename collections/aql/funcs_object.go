package aql

import (
	"slices"
)

var objectFuncs = map[string]*function{
	"MERGE": fn(1, -1, func(c *ctx, a []any) (any, error) {
		args := a
		if len(a) == 1 {
			if arr, ok := a[0].([]any); ok {
				args = arr
			}
		}
		out := map[string]any{}
		for _, x := range args {
			m, ok := x.(map[string]any)
			if !ok {
				return argTypeWarning(c, "MERGE")
			}
			for k, v := range m {
				out[k] = v
			}
		}
		return out, nil
	}),
	"MERGE_RECURSIVE": fn(1, -1, func(c *ctx, a []any) (any, error) {
		out := map[string]any{}
		for _, x := range a {
			m, ok := x.(map[string]any)
			if !ok {
				return argTypeWarning(c, "MERGE_RECURSIVE")
			}
			out = mergeRecursive(out, m)
		}
		return out, nil
	}),
	"KEEP": fn(2, -1, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return argTypeWarning(c, "KEEP")
		}
		names := namesArg(a[1:])
		out := map[string]any{}
		for _, n := range names {
			if v, ok := m[n]; ok {
				out[n] = v
			}
		}
		return out, nil
	}),
	"UNSET": fn(2, -1, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return argTypeWarning(c, "UNSET")
		}
		names := namesArg(a[1:])
		out := make(map[string]any, len(m))
		for k, v := range m {
			if !slices.Contains(names, k) {
				out[k] = v
			}
		}
		return out, nil
	}),
	"HAS": fn(2, 2, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return false, nil
		}
		_, has := m[toString(a[1])]
		return has, nil
	}),
	"ATTRIBUTES": fn(1, 3, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return argTypeWarning(c, "ATTRIBUTES")
		}
		removeSystem := len(a) > 1 && truthy(a[1])
		out := []any{}
		for _, k := range sortedNames(m) {
			if removeSystem && len(k) > 0 && k[0] == '_' {
				continue
			}
			out = append(out, k)
		}
		return out, nil
	}),
	"VALUES": fn(1, 2, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return argTypeWarning(c, "VALUES")
		}
		removeSystem := len(a) > 1 && truthy(a[1])
		out := []any{}
		for _, k := range sortedNames(m) {
			if removeSystem && len(k) > 0 && k[0] == '_' {
				continue
			}
			out = append(out, m[k])
		}
		return out, nil
	}),
	"MATCHES": fn(2, 3, func(c *ctx, a []any) (any, error) {
		m, ok := a[0].(map[string]any)
		if !ok {
			return false, nil
		}
		examples := toArray(a[1])
		for i, ex := range examples {
			e, ok := ex.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for k, v := range e {
				if !equal(m[k], v) {
					match = false
					break
				}
			}
			if match {
				if len(a) > 2 && truthy(a[2]) {
					return float64(i), nil
				}
				return true, nil
			}
		}
		if len(a) > 2 && truthy(a[2]) {
			return -1.0, nil
		}
		return false, nil
	}),
}

func valuesOf(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, k := range sortedNames(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// namesArg reads attribute names given as strings or arrays of strings.
func namesArg(args []any) []string {
	var out []string
	for _, a := range args {
		if arr, ok := a.([]any); ok {
			for _, x := range arr {
				out = append(out, toString(x))
			}
			continue
		}
		out = append(out, toString(a))
	}
	return out
}

func mergeRecursive(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = mergeRecursive(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
