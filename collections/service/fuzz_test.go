package service

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/causeway/causeway/collections"
)

// FuzzPatchOps feeds PATCH bodies (and a current document) to patchOps:
// it must never panic, and every op it returns must be a valid op.
func FuzzPatchOps(f *testing.F) {
	f.Add(`{"a":1,"b":{"c":null,"d":{"$inc":5}},"e":{}}`, `{"b":{"x":1},"e":{"y":2}}`, true, true)
	f.Add(`{"n":{"$inc":"x"}}`, `{}`, false, true)
	f.Add(`{"_key":"x","a":[1,{"b":2}]}`, `{"a":3}`, true, false)
	f.Add(`{"a":{"b":{"c":{"d":{"e":{"$inc":-9223372036854775808}}}}}}`, `null`, false, false)
	f.Fuzz(func(t *testing.T, patchJSON, curJSON string, keepNull, merge bool) {
		patch, ok := decodeObjectForFuzz(patchJSON)
		if !ok {
			return
		}
		cur, _ := decodeObjectForFuzz(curJSON)
		specs, err := patchOps(cur, patch, keepNull, merge)
		if err != nil {
			return
		}
		for _, sp := range specs {
			op := collections.Op{Collection: "c", Key: "k", Kind: sp.kind, Path: sp.path, Value: sp.value,
				Dot: collections.Dot{Region: "r", Seq: 1}}
			if err := op.Validate(); err != nil {
				// Outside input may break the format's limits (names,
				// depth): that is a refusal, not a crash.
				continue
			}
			if _, err := collections.NewDoc("c", "k").Apply(&op); err != nil {
				t.Fatalf("valid op %+v does not apply: %v", op, err)
			}
		}
	})
}

func decodeObjectForFuzz(s string) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}
