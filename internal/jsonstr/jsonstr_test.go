package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\ncr\rtab\t", "\x00\x1f", "ünïcode ✓"} {
		var back string
		if err := json.Unmarshal(Append(nil, s), &back); err != nil || back != s {
			t.Errorf("Append(%q) = %s: round trip %q, %v", s, Append(nil, s), back, err)
		}
	}
}
