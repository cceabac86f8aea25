package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
)

// Paths of the key and token endpoints (GDN's /_api/key shape), under the
// optional /_tenant/{tenant} prefix:
//
//	GET    /_api/key        list the tenant's keys (tenant admin)
//	POST   /_api/key        create a key (KeyRequest; the key is in the answer, once)
//	GET    /_api/key/{id}   one key
//	DELETE /_api/key/{id}   revoke a key (tokens issued from it die with it, and
//	                        the connections of both are closed: Service.Revoke)
//	PUT    /_api/key/{id}/permissions
//	                        replace a key's permissions (GrantsRequest)
//	POST   /_api/token      a token for the caller (TokenRequest)
//	POST   /_open/auth      ArangoDB's login: a token for a user name and an
//	                        API key as password (openauth.go)
//
// In a multi-region node creations, grant changes and revocations are
// fabric-wide (replication.go): each answers once applied in this region.
const (
	KeysPath  = "/_api/key"
	TokenPath = "/_api/token"
)

// tenantHeader carries the request's tenant from broker/httpapi (set by its
// ServeHTTP after the gate, never trusted from the client).
const tenantHeader = "X-Causeway-Tenant"

// Mux is where the endpoints mount (broker/httpapi.Handler).
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Mount adds the key, token and login endpoints to m.
func (s *Service) Mount(m Mux) {
	m.Handle("GET "+KeysPath, http.HandlerFunc(s.listKeys))
	m.Handle("POST "+KeysPath, http.HandlerFunc(s.createKey))
	m.Handle("GET "+KeysPath+"/{id}", http.HandlerFunc(s.getKey))
	m.Handle("DELETE "+KeysPath+"/{id}", http.HandlerFunc(s.revokeKey))
	m.Handle("PUT "+KeysPath+"/{id}/permissions", http.HandlerFunc(s.setGrants))
	m.Handle("POST "+TokenPath, http.HandlerFunc(s.issueToken))
	m.Handle("POST "+OpenAuthPath, http.HandlerFunc(s.openAuth))
}

// KeyView is a key as the endpoints show it; Key (the secret) only in the
// answer that creates it.
type KeyView struct {
	ID          string   `json:"id"`
	Key         string   `json:"key,omitempty"`
	Tenant      string   `json:"tenant"`
	Name        string   `json:"name,omitempty"`
	Permissions []string `json:"permissions"`
	Superuser   bool     `json:"superuser,omitempty"`
	CreatedAt   int64    `json:"createdAt"`
	ExpiresAt   int64    `json:"expiresAt,omitempty"`
	CreatedBy   string   `json:"createdBy,omitempty"`
	// SASL names the Kafka login of the key: PLAIN or SCRAM-SHA-256 with
	// this username and the key as password.
	SASLUsername string `json:"saslUsername"`
	// Origin is the region that created a fabric-wide key ("" for a key
	// of this node only).
	Origin string `json:"origin,omitempty"`
}

func viewOf(k KeyRecord) KeyView {
	return KeyView{ID: k.ID, Tenant: k.Tenant, Name: k.Name, Permissions: k.Permissions, Superuser: k.Superuser,
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, CreatedBy: k.CreatedBy, SASLUsername: k.ID, Origin: k.Origin}
}

// TokenView is the answer of POST /_api/token.
type TokenView struct {
	Token     string `json:"token"`
	Tenant    string `json:"tenant"`
	ExpiresAt int64  `json:"expiresAt"`
}

type envelope struct {
	Error  bool `json:"error"`
	Code   int  `json:"code"`
	Result any  `json:"result"`
}

func answer(w http.ResponseWriter, code int, result any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(envelope{Code: code, Result: result})
}

func (s *Service) fail(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("auth: body larger than %d bytes", mbe.Limit))
		return
	}
	code := HTTPStatus(err)
	if code == http.StatusInternalServerError {
		s.log.Error("key endpoint failed", zap.Error(err))
	}
	writeError(w, code, err.Error())
}

// caller returns the request's principal and tenant; on a node without
// authentication the caller is an anonymous superuser.
func caller(r *http.Request) (*Principal, string) {
	tenant := r.Header.Get(tenantHeader)
	if tenant == "" {
		tenant = naming.DefaultTenant
	}
	if p, ok := FromContext(r.Context()); ok {
		return p, tenant
	}
	return &Principal{ID: "anonymous", Tenant: tenant, Superuser: true}, tenant
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBodyBytes))
}

func (s *Service) listKeys(w http.ResponseWriter, r *http.Request) {
	_, tenant := caller(r)
	out := []KeyView{}
	for _, k := range s.store.list(tenant) {
		out = append(out, viewOf(k))
	}
	answer(w, http.StatusOK, out)
}

func (s *Service) getKey(w http.ResponseWriter, r *http.Request) {
	_, tenant := caller(r)
	k, ok := s.store.get(r.PathValue("id"))
	if !ok || k.Tenant != tenant {
		s.fail(w, ErrKeyNotFound)
		return
	}
	answer(w, http.StatusOK, viewOf(k))
}

func (s *Service) createKey(w http.ResponseWriter, r *http.Request) {
	p, tenant := caller(r)
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, err)
		return
	}
	kr, grants, ttl, err := DecodeKeyRequest(body)
	if err != nil {
		s.fail(w, err)
		return
	}
	switch {
	case kr.Superuser && !p.Superuser:
		s.fail(w, fmt.Errorf("%w: only a superuser creates superuser keys", ErrForbidden))
		return
	case kr.Superuser && tenant != naming.DefaultTenant:
		s.fail(w, fmt.Errorf("%w: superuser keys belong to the default tenant %s", ErrBadRequest, naming.DefaultTenant))
		return
	case !p.Includes(grants):
		s.fail(w, fmt.Errorf("%w: a key cannot get permissions its creator lacks", ErrForbidden))
		return
	}
	id, plain, err := NewKey(s.rand)
	if err != nil {
		s.fail(w, err)
		return
	}
	rec := KeyRecord{Tenant: tenant, Name: kr.Name, Permissions: GrantStrings(grants), Superuser: kr.Superuser,
		CreatedBy: clip(p.ID, maxCreatedByBytes)}
	if ttl > 0 {
		rec.ExpiresAt = s.now().Add(ttl).UnixMilli()
	}
	if rk := s.regionKeys(); rk != nil {
		rec, err = rk.create(r.Context(), id, plain, rec)
	} else if repl := s.replication(); repl != nil {
		rec, err = s.createFabricKey(r.Context(), repl, id, plain, rec)
	} else {
		rec, err = s.storeKey(id, plain, rec)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	Annotate(r.Context(), zap.String("key", id), zap.Strings("permissions", rec.Permissions), zap.Bool("superuser", rec.Superuser))
	v := viewOf(rec)
	v.Key = plain
	answer(w, http.StatusCreated, v)
}

func (s *Service) revokeKey(w http.ResponseWriter, r *http.Request) {
	_, tenant := caller(r)
	id := r.PathValue("id")
	if err := s.RevokeContext(r.Context(), tenant, id); err != nil {
		s.fail(w, err)
		return
	}
	Annotate(r.Context(), zap.String("key", id))
	answer(w, http.StatusOK, map[string]string{"revoked": id})
}

func (s *Service) setGrants(w http.ResponseWriter, r *http.Request) {
	p, tenant := caller(r)
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, err)
		return
	}
	id := r.PathValue("id")
	k, ok := s.store.get(id)
	if !ok || k.Tenant != tenant {
		s.fail(w, ErrKeyNotFound)
		return
	}
	grants, err := DecodeGrantsRequest(body, k.Superuser)
	if err != nil {
		s.fail(w, err)
		return
	}
	switch {
	case k.Superuser && !p.Superuser:
		s.fail(w, fmt.Errorf("%w: only a superuser changes a superuser key", ErrForbidden))
		return
	case !p.Includes(grants):
		s.fail(w, fmt.Errorf("%w: a key cannot get permissions its changer lacks", ErrForbidden))
		return
	}
	if k, err = s.SetGrants(r.Context(), tenant, id, GrantStrings(grants)); err != nil {
		s.fail(w, err)
		return
	}
	Annotate(r.Context(), zap.String("key", id), zap.Strings("permissions", k.Permissions))
	answer(w, http.StatusOK, viewOf(k))
}

func (s *Service) issueToken(w http.ResponseWriter, r *http.Request) {
	p, tenant := caller(r)
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, err)
		return
	}
	tr, grants, ttl, err := DecodeTokenRequest(body, s.cfg.MaxTokenTTL)
	if err != nil {
		s.fail(w, err)
		return
	}
	if tr.Superuser && !p.Superuser {
		s.fail(w, fmt.Errorf("%w: only a superuser gets a superuser token", ErrForbidden))
		return
	}
	if len(grants) == 0 && !tr.Superuser {
		grants = p.Grants
	}
	if !p.Includes(grants) {
		s.fail(w, fmt.Errorf("%w: a token cannot get permissions its issuer lacks", ErrForbidden))
		return
	}
	now := s.now()
	exp := now.Add(ttl)
	c := Claims{
		Tenant: tenant, Permissions: GrantStrings(grants), Superuser: tr.Superuser, Key: p.KeyID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: p.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), Issuer: "causeway",
		},
	}
	tok, err := IssueToken(s.secret, c)
	if err != nil {
		s.fail(w, err)
		return
	}
	answer(w, http.StatusOK, TokenView{Token: tok, Tenant: tenant, ExpiresAt: exp.UnixMilli()})
}
