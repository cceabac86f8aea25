package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
)

// opSpec is one op of a write before it has a dot.
type opSpec struct {
	kind  collections.Kind
	path  []string
	value []byte
}

// incrementMember is the one member of a patch value that asks for an
// increment: {"n": {"$inc": 5}} adds 5 to n.
const incrementMember = "$inc"

// maxPatchDepth is how deep a patch is merged member by member; deeper
// objects are set whole (the reducer's path limit is 32).
const maxPatchDepth = 31

// patchOps turns an ArangoDB-style PATCH body into attribute ops, in
// attribute-name order. cur is the current document (decoded; nil when it
// has none). With mergeObjects an object value is merged member by member
// into the attribute (an empty object only makes sure the attribute is an
// object); without it, it replaces the attribute. A null value is stored as
// null with keepNull, and deletes the attribute without. {"$inc": n}, with
// n a JSON integer, increments the attribute.
func patchOps(cur map[string]any, patch map[string]any, keepNull, mergeObjects bool) ([]opSpec, error) {
	var out []opSpec
	err := patchInto(&out, cur, patch, nil, keepNull, mergeObjects)
	return out, err
}

func patchInto(out *[]opSpec, cur, patch map[string]any, prefix []string, keepNull, mergeObjects bool) error {
	names := make([]string, 0, len(patch))
	for name := range patch {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := patch[name]
		path := append(slices.Clone(prefix), name)
		if obj, ok := v.(map[string]any); ok {
			if inc, isInc := obj[incrementMember]; isInc && len(obj) == 1 {
				raw, err := encodeJSON(inc)
				if err != nil {
					return err
				}
				n, ok := inc.(json.Number)
				if _, err := n.Int64(); !ok || err != nil {
					return fmt.Errorf("%w: %s.$inc needs a JSON integer in the 64-bit range, got %s", ErrBadRequest, joinPath(path), raw)
				}
				*out = append(*out, opSpec{kind: collections.KindIncrement, path: path, value: raw})
				continue
			}
			if mergeObjects && len(path) < maxPatchDepth {
				curObj, isObj := valueObject(cur, name)
				if len(obj) == 0 && isObj {
					continue
				}
				if len(obj) > 0 {
					if err := patchInto(out, curObj, obj, path, keepNull, mergeObjects); err != nil {
						return err
					}
					continue
				}
			}
		}
		if v == nil && !keepNull {
			*out = append(*out, opSpec{kind: collections.KindUnset, path: path})
			continue
		}
		raw, err := encodeJSON(v)
		if err != nil {
			return err
		}
		*out = append(*out, opSpec{kind: collections.KindSet, path: path, value: raw})
	}
	return nil
}

// valueObject returns cur[name] when it is an object.
func valueObject(cur map[string]any, name string) (map[string]any, bool) {
	if cur == nil {
		return nil, false
	}
	m, ok := cur[name].(map[string]any)
	return m, ok
}

func joinPath(path []string) string {
	var b bytes.Buffer
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// encodeJSON encodes a decoded JSON value compactly, without HTML escaping;
// object members come out sorted by name, so duplicates cannot occur.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// decodeDoc decodes a document's JSON for patching and index maintenance.
func decodeDoc(d *collections.Doc) map[string]any {
	if d == nil {
		return nil
	}
	doc, ok := d.JSON()
	if !ok {
		return nil
	}
	m, err := query.DecodeObject(doc)
	if err != nil {
		return nil
	}
	return m
}
