package spot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/causeway/causeway/collections"
)

// opSpec is one reducer op of a write before it has a dot.
type opSpec struct {
	kind  collections.Kind
	path  []string
	value []byte
}

// incrementMember is the one member of a patch value that asks for an
// increment: {"n": {"$inc": 5}} adds 5 to n.
const incrementMember = "$inc"

// patchOps turns an update's patch into reducer ops, in attribute-name
// order, given the document's current user attributes. With mergeObjects
// an object is merged member by member into an object attribute (into an
// empty object when the attribute is not one); without it the object
// replaces the attribute as it is. null stores null with keepNull and
// removes the attribute without. {"$inc": n}, n a 64-bit JSON integer,
// adds n to a number (or to 0 when the attribute is absent).
func patchOps(cur, patch map[string]any, keepNull, mergeObjects bool) ([]opSpec, error) {
	var out []opSpec
	err := patchInto(&out, cur, patch, nil, keepNull, mergeObjects)
	return out, err
}

func patchInto(out *[]opSpec, cur, patch map[string]any, prefix []string, keepNull, mergeObjects bool) error {
	names := make([]string, 0, len(patch))
	for name := range patch {
		if len(prefix) == 0 && (name == "_key" || name == "_id" || name == "_rev") {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := collections.ValidateAttributeName(name); err != nil {
			return err
		}
		path := append(slices.Clone(prefix), name)
		if len(path) > maxPathNames {
			return fmt.Errorf("patch nests deeper than %d attributes", maxPathNames)
		}
		v := patch[name]
		old, had := cur[name]
		obj, isObj := v.(map[string]any)
		switch {
		case isObj && len(obj) == 1 && obj[incrementMember] != nil:
			n, ok := obj[incrementMember].(json.Number)
			if _, err := n.Int64(); !ok || err != nil {
				return fmt.Errorf("%s.$inc needs a JSON integer in the 64-bit range", strings.Join(path, "."))
			}
			if _, isNum := old.(json.Number); had && !isNum {
				return fmt.Errorf("%s: cannot increment a value that is not a number", strings.Join(path, "."))
			}
			*out = append(*out, opSpec{kind: collections.KindIncrement, path: path, value: []byte(n.String())})
		case v == nil && !keepNull:
			if had {
				*out = append(*out, opSpec{kind: collections.KindUnset, path: path})
			}
		case isObj && mergeObjects && len(path) <= maxPatchDepth:
			oldObj, wasObj := old.(map[string]any)
			if !wasObj {
				*out = append(*out, opSpec{kind: collections.KindSet, path: path, value: []byte("{}")})
				oldObj = nil
			}
			if err := patchInto(out, oldObj, obj, path, keepNull, mergeObjects); err != nil {
				return err
			}
		default:
			raw, err := encodeValue(v)
			if err != nil {
				return err
			}
			*out = append(*out, opSpec{kind: collections.KindSet, path: path, value: raw})
		}
	}
	return nil
}
