package auth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// Admit is the gate every HTTP and WebSocket request of a node passes
// (broker/httpapi.Handler.ServeHTTP calls it once the /_tenant/{tenant}
// prefix is stripped; tenant is that prefix's tenant, or the default one
// when explicit is false). It classifies the request, authenticates it
// (Authorization: Bearer|apikey <key or token>, or ?token= for browsers and
// WebSocket clients, as Pulsar does), applies the principal's request rate,
// authorizes it, bounds its body, counts WebSocket connections per tenant
// and arranges the audit record of admin actions.
//
// A refused request is answered here and ok is false. Otherwise the caller
// serves r2 (it carries the principal, see FromContext) on w2, with tenant2
// as the request's tenant: without a prefix, a principal's requests go to
// its own tenant.
func (s *Service) Admit(w http.ResponseWriter, r *http.Request, tenant string, explicit bool) (w2 http.ResponseWriter, r2 *http.Request, tenant2 string, ok bool) {
	a, err := s.router.Classify(r)
	if err != nil {
		s.metrics.BadPaths.Add(1)
		s.refuse(w, err)
		return nil, nil, "", false
	}
	if !s.On() || a.Public {
		if a.TenantScoped {
			a.Tenants = []string{tenant}
		}
		w, r = s.pass(w, r, a, nil, tenant)
		return w, r, tenant, true
	}
	cred, r := credential(r)
	p, err := s.authenticateCredential(cred)
	if err != nil {
		s.metrics.Unauthenticated.Add(1)
		s.log.Debug("refused", zap.String("reason", err.Error()), zap.String("remote", r.RemoteAddr), zap.String("path", r.URL.Path))
		s.refuseAudited(w, r, a, nil, tenant, ErrUnauthenticated)
		return nil, nil, "", false
	}
	if !explicit {
		tenant = p.Tenant
	}
	if a.TenantScoped {
		a.Tenants = []string{tenant}
	}
	if !s.AllowRequest(p) {
		retry := s.rates.RetryAfter(p.ID, s.now())
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		s.refuse(w, fmt.Errorf("%w: the limit is %g a second", ErrRateLimited, s.cfg.RequestsPerSecond))
		return nil, nil, "", false
	}
	if err := p.Authorize(a); err != nil {
		if errors.Is(err, ErrNotFound) {
			s.metrics.OtherTenant.Add(1)
		} else {
			s.metrics.Forbidden.Add(1)
		}
		s.log.Debug("refused", zap.String("reason", errorKind(err)), zap.String("who", p.ID), zap.String("path", r.URL.Path))
		s.refuseAudited(w, r, a, p, tenant, err)
		return nil, nil, "", false
	}
	if a.WebSocket {
		connTenant := p.Tenant
		if len(a.Tenants) > 0 {
			connTenant = a.Tenants[0]
		}
		release, err := s.AcquireConn(connTenant)
		if err != nil {
			s.refuse(w, err)
			return nil, nil, "", false
		}
		w = holdConn(w, r.Context(), release)
	}
	w, r = s.pass(w, r, a, p, tenant)
	return w, r, tenant, true
}

// pass prepares an admitted request: the principal in its context, its
// body bounded, its audit record arranged.
func (s *Service) pass(w http.ResponseWriter, r *http.Request, a Access, p *Principal, tenant string) (http.ResponseWriter, *http.Request) {
	ctx := r.Context()
	if p != nil {
		ctx = WithPrincipal(ctx, p)
		ctx = context.WithValue(ctx, serviceKey{}, s) // TrackRequest
	}
	var note *auditNote
	if a.Audit != "" {
		note = &auditNote{}
		ctx = context.WithValue(ctx, auditNoteKey{}, note)
	}
	r = r.WithContext(ctx)
	if !a.WebSocket && r.Body != nil && r.Body != http.NoBody {
		r.Body = &boundedBody{ReadCloser: http.MaxBytesReader(w, r.Body, s.maxBody), metrics: s.metrics}
	}
	if a.Audit != "" {
		req := r
		w = &gateWriter{ResponseWriter: w, onStatus: func(code int) { s.record(req, a, p, tenant, code, note) }}
	}
	return w, r
}

// requestCredential is what a request authenticates with.
type requestCredential struct {
	text string // an API key or a token ("" none)
	// basic is set for "Authorization: Basic", whose password is text and
	// whose user name must name the key's owner (arango.go).
	basic bool
	user  string
}

// credential takes the request's credential: the Authorization header
// ("Bearer <token or key>", GDN's "apikey <key>", or ArangoDB drivers'
// "Basic base64(user:key)"), else the token query parameter, which it
// removes from the request the handlers see (so it reaches no log).
func credential(r *http.Request) (requestCredential, *http.Request) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "bearer", "apikey":
			return requestCredential{text: strings.TrimSpace(v)}, r
		case "basic":
			user, password, err := parseBasic(v)
			if err != nil {
				return requestCredential{}, r
			}
			return requestCredential{text: password, basic: true, user: user}, r
		}
		return requestCredential{}, r
	}
	q := r.URL.Query()
	tok := q.Get("token")
	if tok == "" {
		return requestCredential{}, r
	}
	q.Del("token")
	r = r.WithContext(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	r.URL = &u
	return requestCredential{text: tok}, r
}

// authenticateCredential authenticates a request's credential: Basic
// takes an API key only, with a user name naming its owner.
func (s *Service) authenticateCredential(c requestCredential) (*Principal, error) {
	if c.basic {
		return s.AuthenticateUser(c.user, c.text)
	}
	return s.Authenticate(c.text)
}

// errorBody is the answer to a refused request, in the shape of every
// other HTTP error of the node (GDN's).
type errorBody struct {
	Error        bool   `json:"error"`
	Code         int    `json:"code"`
	ErrorNum     int    `json:"errorNum"`
	ErrorMessage string `json:"errorMessage"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{Error: true, Code: code, ErrorNum: code, ErrorMessage: msg})
}

// refuse answers err. Authentication and tenant refusals carry only the
// sentinel's message: nothing about the credential or the path.
func (s *Service) refuse(w http.ResponseWriter, err error) {
	code := HTTPStatus(err)
	msg := err.Error()
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="causeway"`)
		msg = ErrUnauthenticated.Error()
	case errors.Is(err, ErrNotFound):
		msg = ErrNotFound.Error()
	case errors.Is(err, ErrForbidden):
		msg = ErrForbidden.Error()
	}
	writeError(w, code, msg)
}

// refuseAudited refuses err and records a refused admin action.
func (s *Service) refuseAudited(w http.ResponseWriter, r *http.Request, a Access, p *Principal, tenant string, err error) {
	s.refuse(w, err)
	if a.Audit != "" {
		s.record(r, a, p, tenant, HTTPStatus(err), nil)
	}
}

// boundedBody counts a request body that hits the bound (the handler
// answers 413 from the *http.MaxBytesError it reads).
type boundedBody struct {
	io.ReadCloser
	metrics *Metrics
	counted bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && !b.counted && errors.As(err, &mbe) {
		b.counted = true
		b.metrics.BodyTooLarge.Add(1)
	}
	return n, err
}

// gateWriter reports the status of an answer once and keeps the writer's
// optional interfaces (flushing, hijacking for WebSocket).
type gateWriter struct {
	http.ResponseWriter
	onStatus func(code int)
	onHijack func(net.Conn) net.Conn
	once     sync.Once
}

func (w *gateWriter) status(code int) {
	if w.onStatus != nil && code >= 200 {
		w.once.Do(func() { w.onStatus(code) })
	}
}

func (w *gateWriter) WriteHeader(code int) {
	w.status(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *gateWriter) Write(b []byte) (int, error) {
	w.status(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *gateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *gateWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker (the WebSocket upgrade).
func (w *gateWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("auth: the response writer cannot be hijacked")
	}
	c, rw, err := h.Hijack()
	if err == nil && w.onHijack != nil {
		c = w.onHijack(c)
	}
	return c, rw, err
}

// holdConn keeps a tenant connection unit for a WebSocket request: until
// its hijacked connection closes, or, if it is never hijacked (a refused
// handshake), until the request ends.
func holdConn(w http.ResponseWriter, ctx context.Context, release func()) http.ResponseWriter {
	var mu sync.Mutex
	hijacked := false
	context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !hijacked {
			release()
		}
	})
	gw, ok := w.(*gateWriter)
	if !ok {
		gw = &gateWriter{ResponseWriter: w}
	}
	gw.onHijack = func(c net.Conn) net.Conn {
		mu.Lock()
		defer mu.Unlock()
		hijacked = true
		return &releasingConn{Conn: c, release: release}
	}
	return gw
}

// releasingConn releases its unit on the first Close.
type releasingConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *releasingConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
