package server

import (
	"net/http"

	"github.com/causeway/causeway/console"
)

// withConsole puts the web console (package console) in front of next
// when on: its files are public and served before the request gate; the
// API calls the page makes go through next, with the user's credential.
func withConsole(on bool, next http.Handler) http.Handler {
	if !on {
		return next
	}
	return console.Wrap(console.New(), next)
}
