package aql

import "testing"

// BenchmarkParse measures parsing and compiling a typical query.
func BenchmarkParse(b *testing.B) {
	const q = "FOR d IN bench FILTER d.score >= @lo && d.score < @hi SORT d.score RETURN {_key: d._key, score: d.score}"
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
