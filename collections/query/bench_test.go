package query

import "testing"

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("SELECT name, address.city FROM users WHERE age > @min AND city = 'Paris' ORDER BY age DESC LIMIT 10"); err != nil {
			b.Fatal(err)
		}
	}
}
