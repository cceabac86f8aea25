package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/causeway/causeway/broker/naming"
)

// maxTokenBytes bounds a bearer token's text before any parsing.
const maxTokenBytes = 8 << 10

// MinSecretBytes is the shortest accepted HS256 signing secret.
const MinSecretBytes = 32

// Claims are the claims of a Causeway token: the registered ones (exp is
// required, sub names the principal) and who it acts as.
type Claims struct {
	Tenant      string   `json:"tenant"`
	Permissions []string `json:"perms,omitempty"`
	Superuser   bool     `json:"su,omitempty"`
	// Key is the API key the token was issued from (by POST /_api/token);
	// revoking the key ends the token too.
	Key string `json:"key,omitempty"`
	jwt.RegisteredClaims
}

// IssueToken signs c with HS256.
func IssueToken(secret []byte, c Claims) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", ErrJWTDisabled
	}
	if c.ExpiresAt == nil {
		return "", fmt.Errorf("%w: a token needs an expiry", ErrBadRequest)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// ParseToken verifies a token at now: HS256 with secret only (no "none",
// no other algorithm), exp required and in the future, nbf and iat not in
// the future, and valid claims. Every failure is ErrUnauthenticated, with
// the reason wrapped for logs.
func ParseToken(secret []byte, token string, now time.Time) (*Principal, Claims, error) {
	var c Claims
	if len(secret) < MinSecretBytes || len(token) > maxTokenBytes {
		return nil, c, ErrUnauthenticated
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if _, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil }); err != nil {
		return nil, Claims{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	pr, err := c.principal()
	if err != nil {
		return nil, Claims{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return pr, c, nil
}

func (c Claims) principal() (*Principal, error) {
	if err := naming.Validate("tenant", c.Tenant); err != nil {
		return nil, err
	}
	if c.Key != "" && !validKeyID(c.Key) {
		return nil, errors.New("bad key claim")
	}
	gs, err := ParseGrants(c.Permissions)
	if err != nil {
		return nil, err
	}
	id := "token:" + c.Tenant + "/" + c.Subject
	if c.Key != "" {
		id = "key:" + c.Key
	}
	p := &Principal{ID: id, Tenant: c.Tenant, Superuser: c.Superuser, Grants: gs, KeyID: c.Key}
	if c.ExpiresAt != nil {
		p.Expires = c.ExpiresAt.Time
	}
	return p, nil
}
