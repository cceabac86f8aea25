package aql

import "testing"

func TestIsAQL(t *testing.T) {
	for text, want := range map[string]bool{
		"FOR u IN users RETURN u":            true,
		"  for u in users return u":          true,
		"// c\n/* d */ RETURN 1":             true,
		"LET a = 1 RETURN a":                 true,
		"INSERT {} INTO c":                   true,
		"UPSERT {} INSERT {} UPDATE {} IN c": true,
		"WITH users FOR u IN users RETURN u": true,
		"SELECT * FROM users":                false,
		"select * from users":                false,
		"FORX":                               false,
		"":                                   false,
		"/* unterminated":                    false,
		"(FOR u IN users RETURN u)":          false,
	} {
		if got := IsAQL(text); got != want {
			t.Errorf("IsAQL(%q) = %v, want %v", text, got, want)
		}
	}
}
