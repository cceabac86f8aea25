package httpapi

import (
	"encoding/json"
	"testing"
)

// FuzzParseRegionList: a region list from a request is a non-empty list
// of non-empty names, or an error; never a panic.
func FuzzParseRegionList(f *testing.F) {
	for _, s := range []string{`"a,b"`, `["a","b"]`, `[]`, `""`, `null`, `[1]`, `"a,,b"`, `{"x":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		list, err := parseRegionList(json.RawMessage(raw))
		if err != nil {
			return
		}
		for _, r := range list {
			if r == "" {
				t.Fatalf("%q gave an empty region name in %q", raw, list)
			}
		}
	})
}
