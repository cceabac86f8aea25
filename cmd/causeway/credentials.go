package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/causeway/causeway/clients"
)

// credentialsHint follows an error a node answered 401 or 403: where a key
// or token comes from.
const credentialsHint = "(the node refused the credentials: give an API key or token with --token or $" + tokenEnv +
	"; a node prints its superuser key once, at its first start, and `causeway dev` prints it and writes it to DATA/fabric.json)"

// errRefusedCredentials marks a 401 or 403 answer of a node's HTTP API.
var errRefusedCredentials = errors.New("credentials refused")

// statusError describes a non-2xx answer, marked errRefusedCredentials
// when it is a 401 or 403.
func statusError(status int, statusText, message string) error {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return fmt.Errorf("%s: %s (%w)", statusText, message, errRefusedCredentials)
	}
	return fmt.Errorf("%s: %s", statusText, message)
}

// refusedCredentials reports an error that is a refusal of the
// credentials, by the HTTP API or a WebSocket upgrade.
func refusedCredentials(err error) bool {
	return errors.Is(err, errRefusedCredentials) || errors.Is(err, clients.ErrUnauthorized)
}

// printFailure prints "causeway CMD: err" and, after a refusal of the
// credentials, where they come from.
func printFailure(stderr io.Writer, cmd string, err error) {
	fmt.Fprintf(stderr, "causeway %s: %v\n", cmd, err)
	if refusedCredentials(err) {
		fmt.Fprintln(stderr, credentialsHint)
	}
}
