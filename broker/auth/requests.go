package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Bounds on the key and token request bodies.
const (
	maxRequestBodyBytes = 64 << 10
	maxGrantsPerKey     = 256
	maxKeyLifetime      = 10 * 365 * 24 * time.Hour
)

// KeyRequest is the body of POST /_api/key.
type KeyRequest struct {
	// Name is a label for people (at most 256 bytes of UTF-8).
	Name string `json:"name"`
	// Permissions are grants in their text form (see Grant); the caller
	// must hold each of them.
	Permissions []string `json:"permissions"`
	// Superuser keys act on every tenant; only a superuser creates them,
	// and only in the default tenant.
	Superuser bool `json:"superuser"`
	// ExpiresIn is a Go duration ("720h"); empty means the key does not
	// expire.
	ExpiresIn string `json:"expiresIn"`
}

// TokenRequest is the body of POST /_api/token (an empty body asks for
// the defaults).
type TokenRequest struct {
	// ExpiresIn is a Go duration, at most the configured MaxTokenTTL
	// (default DefaultTokenTTL).
	ExpiresIn string `json:"expiresIn"`
	// Permissions narrow the token; empty means the caller's own grants.
	Permissions []string `json:"permissions"`
	// Superuser asks for a superuser token (superusers only).
	Superuser bool `json:"superuser"`
}

// decodeStrict decodes one JSON object into v with no unknown fields and
// nothing after it.
func decodeStrict(b []byte, v any) error {
	if len(b) > maxRequestBodyBytes {
		return fmt.Errorf("%w: body of %d bytes, the limit is %d", ErrBadRequest, len(b), maxRequestBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: invalid JSON body: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: invalid JSON body: data after the object", ErrBadRequest)
	}
	return nil
}

// DecodeKeyRequest parses and checks a key request body.
func DecodeKeyRequest(b []byte) (KeyRequest, []Grant, time.Duration, error) {
	var kr KeyRequest
	if err := decodeStrict(b, &kr); err != nil {
		return KeyRequest{}, nil, 0, err
	}
	if len(kr.Name) > maxKeyNameBytes || !utf8.ValidString(kr.Name) {
		return KeyRequest{}, nil, 0, fmt.Errorf("%w: name must be at most %d bytes of UTF-8", ErrBadRequest, maxKeyNameBytes)
	}
	gs, err := decodeGrants(kr.Permissions)
	if err != nil {
		return KeyRequest{}, nil, 0, err
	}
	if len(gs) == 0 && !kr.Superuser {
		return KeyRequest{}, nil, 0, fmt.Errorf("%w: a key needs at least one permission (for example read:fabric/_system)", ErrBadRequest)
	}
	var ttl time.Duration
	if kr.ExpiresIn != "" {
		if ttl, err = parseLifetime(kr.ExpiresIn, maxKeyLifetime); err != nil {
			return KeyRequest{}, nil, 0, err
		}
	}
	return kr, gs, ttl, nil
}

// DecodeTokenRequest parses and checks a token request body; maxTTL
// bounds its lifetime.
func DecodeTokenRequest(b []byte, maxTTL time.Duration) (TokenRequest, []Grant, time.Duration, error) {
	var tr TokenRequest
	if len(bytes.TrimSpace(b)) > 0 {
		if err := decodeStrict(b, &tr); err != nil {
			return TokenRequest{}, nil, 0, err
		}
	}
	gs, err := decodeGrants(tr.Permissions)
	if err != nil {
		return TokenRequest{}, nil, 0, err
	}
	ttl := min(DefaultTokenTTL, maxTTL)
	if tr.ExpiresIn != "" {
		if ttl, err = parseLifetime(tr.ExpiresIn, maxTTL); err != nil {
			return TokenRequest{}, nil, 0, err
		}
	}
	return tr, gs, ttl, nil
}

func decodeGrants(list []string) ([]Grant, error) {
	if len(list) > maxGrantsPerKey {
		return nil, fmt.Errorf("%w: %d permissions, the limit is %d", ErrBadGrant, len(list), maxGrantsPerKey)
	}
	return ParseGrants(list)
}

func parseLifetime(s string, limit time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > limit {
		return 0, fmt.Errorf("%w: expiresIn=%q: want a duration in (0, %v]", ErrBadRequest, s, limit)
	}
	return d, nil
}

// GrantsRequest is the body of PUT /_api/key/{id}/permissions: the key's
// new permissions, replacing its old ones.
type GrantsRequest struct {
	Permissions []string `json:"permissions"`
}

// DecodeGrantsRequest parses and checks a grants request body; only a
// superuser key may be left without permissions.
func DecodeGrantsRequest(b []byte, superuser bool) ([]Grant, error) {
	var gr GrantsRequest
	if err := decodeStrict(b, &gr); err != nil {
		return nil, err
	}
	gs, err := decodeGrants(gr.Permissions)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 && !superuser {
		return nil, fmt.Errorf("%w: a key needs at least one permission (for example read:fabric/_system)", ErrBadRequest)
	}
	return gs, nil
}

// clip cuts s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
