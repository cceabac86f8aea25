package report

import (
	"bytes"
	"testing"
)

// FuzzDecode: Decode never panics, and what it accepts encodes and decodes
// to the same report.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	_ = Encode(&b, sample("causeway", 100, 100))
	f.Add(b.Bytes())
	f.Add([]byte(`{"format":1,"scenario":"x"}`))
	f.Add([]byte(`{"format":1,"scenario":"x","latencies":[{"name":"a","distribution":[{"percentile":50,"us":3}]}]}`))
	f.Add([]byte(`{"format":1,"scenario":"x","counts":{"a":-1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, r); err != nil {
			t.Fatalf("accepted report does not encode: %v", err)
		}
		if _, err := Decode(&out); err != nil {
			t.Fatalf("re-encoded report does not decode: %v\n%s", err, out.String())
		}
		var sink bytes.Buffer
		_ = WriteTable(&sink, r)
		_ = WriteComparison(&sink, Compare(r, r))
	})
}
