// Package testkey gives tests a wrong variant of a secret.
//
// Replacing a key's last character with a fixed one ("x") leaves the key
// unchanged whenever that character already was the last one, so such a
// test accepts a "wrong" key once in 64 runs. Wrong always differs.
package testkey

// Wrong returns s with its last character replaced by a different
// character of the base64url alphabet, so the result keeps the key's shape
// and differs from s. s must not be empty.
func Wrong(s string) string {
	last := s[len(s)-1]
	replacement := byte('x')
	if last == replacement {
		replacement = 'y'
	}
	return s[:len(s)-1] + string(replacement)
}
