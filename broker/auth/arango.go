package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ArangoDB's drivers authenticate with a user name and a password: HTTP
// Basic on every request, or once with POST /_open/auth for a JSON Web
// Token they then send as "Authorization: bearer <jwt>". Here the password
// is an API key, and the user name must name the key's owner:
//
//   - the key's id (the same user name as for Kafka SASL), or
//   - the key's tenant ("_mm" for keys of the default tenant), or
//   - "root", ArangoDB's default user, for a superuser key only.
//
// Any other user name, or a password that is not a valid key, is 401.
// (Pure: parsing and the user name rule.)

// OpenAuthPath is ArangoDB's login endpoint.
const OpenAuthPath = "/_open/auth"

// arangoRootUser is ArangoDB's default user name.
const arangoRootUser = "root"

// maxBasicBytes bounds a Basic credential's text before decoding.
const maxBasicBytes = 1 << 10

// parseBasic decodes the value of "Authorization: Basic <value>".
func parseBasic(v string) (user, password string, err error) {
	v = strings.TrimSpace(v)
	if len(v) > maxBasicBytes {
		return "", "", fmt.Errorf("%w: Basic credential too long", ErrUnauthenticated)
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", "", fmt.Errorf("%w: Basic credential is not base64", ErrUnauthenticated)
	}
	user, password, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", fmt.Errorf("%w: Basic credential without ':'", ErrUnauthenticated)
	}
	return user, password, nil
}

// userMatches reports whether user names the owner of the key behind p
// (see above).
func userMatches(user string, p *Principal) bool {
	switch {
	case p == nil || p.KeyID == "":
		return false
	case user == p.KeyID, user == p.Tenant:
		return true
	case user == arangoRootUser:
		return p.Superuser
	}
	return false
}

// OpenAuthRequest is POST /_open/auth's body.
type OpenAuthRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// OpenAuthAnswer is POST /_open/auth's answer.
type OpenAuthAnswer struct {
	JWT string `json:"jwt"`
}

// DecodeOpenAuthRequest reads a login: an object with the two strings and
// nothing else.
func DecodeOpenAuthRequest(b []byte) (OpenAuthRequest, error) {
	var req OpenAuthRequest
	if len(b) > maxRequestBodyBytes {
		return req, fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, maxRequestBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return OpenAuthRequest{}, fmt.Errorf("%w: want {\"username\": string, \"password\": string}: %w", ErrBadRequest, err)
	}
	if dec.More() {
		return OpenAuthRequest{}, fmt.Errorf("%w: more than one JSON value", ErrBadRequest)
	}
	if req.Username == "" {
		return OpenAuthRequest{}, fmt.Errorf("%w: username is missing", ErrBadRequest)
	}
	return req, nil
}

// errWrongUser is why a key's owner does not match the user name.
var errWrongUser = errors.New("the user name does not name the key's owner")
