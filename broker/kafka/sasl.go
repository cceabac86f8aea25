package kafka

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/auth"
)

// SASL mechanisms served, in the order SaslHandshake announces them. A key
// logs in with PLAIN (username: anything, password: the key or a token)
// or SCRAM-SHA-256 (username: the key id, password: the key).
var saslMechanisms = []string{"PLAIN", "SCRAM-SHA-256"}

// saslConfig is the authentication a listener requires.
type saslConfig struct {
	svc *auth.Service // nil: no SASL at all
}

// required reports whether every connection must log in first.
func (sc saslConfig) required() bool { return sc.svc != nil && sc.svc.On() }

// SetAuth makes the listener serve SASL/PLAIN and SASL/SCRAM-SHA-256 logins
// with svc's keys and tokens; when svc is on, a connection must log in
// before any request but ApiVersions, and its principal must belong to the
// listener's tenant (or be a superuser). Call it before Listen or Serve.
func (s *Server) SetAuth(svc *auth.Service) { s.sasl = saslConfig{svc: svc} }

// ListenOn serves on ln, a listener the caller made (with TLS, or a
// per-address connection bound); Shutdown closes it.
func (s *Server) ListenOn(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.Serve(ln); err != nil {
			s.log.Error("kafka listener stopped", zap.Error(err))
		}
	}()
}

// connAuth is one connection's login state; only the reader goroutine
// touches it.
type connAuth struct {
	mechanism string // chosen by SaslHandshake
	scram     scramStepper
	principal *auth.Principal // set by a successful login
	release   func()          // gives the tenant's connection unit back
	untrack   func()          // ends the login's registration (auth.Service.Track)
}

// scramStepper is the server side of one SCRAM conversation.
type scramStepper interface {
	Step(challenge string) (string, error)
	Done() bool
	Valid() bool
	Username() string
}

// close releases what the connection holds.
func (a *connAuth) close() {
	if a.untrack != nil {
		a.untrack()
		a.untrack = nil
	}
	if a.release != nil {
		a.release()
		a.release = nil
	}
}

// guard runs before every request. It serves the SASL requests; on a
// listener that requires a login it closes the connection at any other
// request but ApiVersions before one (as Kafka brokers do), and it
// authorizes the requests of a logged-in principal (acl.go). handled
// reports that the request's answer is sl (nil: none).
func (c *conn) guard(req request) (sl *slot, handled bool) {
	switch m := req.msg.(type) {
	case *kmsg.SASLHandshakeRequest:
		sl = newSlot(req.correlationID)
		sl.finish(c.saslHandshake(m))
		return sl, true
	case *kmsg.SASLAuthenticateRequest:
		sl = newSlot(req.correlationID)
		resp, ok := c.saslAuthenticate(m)
		sl.closeAfter = !ok
		sl.finish(resp)
		return sl, true
	case nil, *kmsg.ApiVersionsRequest:
		return nil, false
	}
	if !c.s.sasl.required() {
		return nil, false
	}
	if c.auth.principal == nil {
		c.log.Warn("closing a connection that sent a request before logging in", zap.String("request", kmsg.NameForKey(req.key)))
		c.stopReading()
		return nil, true
	}
	return c.authorize(req)
}
