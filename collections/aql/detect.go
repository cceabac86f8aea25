package aql

import (
	"strings"
	"unicode"
)

// statementWords start an AQL query.
var statementWords = []string{"FOR", "LET", "RETURN", "INSERT", "UPDATE", "REPLACE", "REMOVE", "UPSERT", "WITH", "COLLECT"}

// IsAQL reports query text in AQL rather than SQL: its first word, after
// blanks and comments, is an AQL statement keyword (FOR, LET, RETURN,
// INSERT, UPDATE, REPLACE, REMOVE, UPSERT, WITH, COLLECT; any case).
// SELECT, and anything else, is left to SQL.
func IsAQL(text string) bool {
	s := text
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		switch {
		case strings.HasPrefix(s, "//"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return false
			}
			s = s[i+1:]
			continue
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return false
			}
			s = s[i+4:]
			continue
		}
		break
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(s)
	}
	word := strings.ToUpper(s[:end])
	for _, w := range statementWords {
		if word == w {
			return true
		}
	}
	return false
}
