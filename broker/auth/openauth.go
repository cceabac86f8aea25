package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"
)

// AuthenticateUser authenticates an ArangoDB user name and password: the
// password must be an API key and the user name must name its owner
// (arango.go). Every failure is ErrUnauthenticated.
func (s *Service) AuthenticateUser(user, password string) (*Principal, error) {
	if !IsKey(password) {
		return nil, fmt.Errorf("%w: the password is not an API key", ErrUnauthenticated)
	}
	p, err := s.Authenticate(password)
	if err != nil {
		return nil, err
	}
	if !userMatches(user, p) {
		return nil, fmt.Errorf("%w: %w (%q, key %s)", ErrUnauthenticated, errWrongUser, clip(user, 64), p.KeyID)
	}
	return p, nil
}

// openAuth serves POST /_open/auth {"username","password"}: a token for
// the key, as ArangoDB answers it ({"jwt": ...}), valid for
// DefaultTokenTTL (at most MaxTokenTTL) and ending with the key (revoked
// or expired). Wrong credentials are 401 in ArangoDB's shape. The route is
// public (it is how a client gets a credential); on a node without
// authentication it still checks the key.
func (s *Service) openAuth(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, err)
		return
	}
	req, err := DecodeOpenAuthRequest(body)
	if err != nil {
		s.fail(w, err)
		return
	}
	p, err := s.AuthenticateUser(req.Username, req.Password)
	if err != nil {
		s.metrics.Unauthenticated.Add(1)
		s.log.Debug("login refused", zap.String("reason", err.Error()), zap.String("remote", r.RemoteAddr))
		writeError(w, http.StatusUnauthorized, "Wrong credentials")
		return
	}
	now := s.now()
	ttl := min(DefaultTokenTTL, s.cfg.MaxTokenTTL)
	c := Claims{
		Tenant: p.Tenant, Permissions: GrantStrings(p.Grants), Superuser: p.Superuser, Key: p.KeyID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: p.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), Issuer: "causeway",
		},
	}
	if !p.Expires.IsZero() && p.Expires.Before(now.Add(ttl)) {
		c.ExpiresAt = jwt.NewNumericDate(p.Expires.Truncate(time.Second))
	}
	tok, err := IssueToken(s.secret, c)
	if err != nil {
		if !errors.Is(err, ErrJWTDisabled) {
			s.log.Error("login: issue token", zap.Error(err))
		}
		s.fail(w, err)
		return
	}
	writeJSONAnswer(w, http.StatusOK, OpenAuthAnswer{JWT: tok})
}

// writeJSONAnswer writes v as it is (ArangoDB's login answer has no
// envelope).
func writeJSONAnswer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
