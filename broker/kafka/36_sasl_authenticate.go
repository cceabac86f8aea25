package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/auth"
)

// maxSASLBytes bounds one SASL message.
const maxSASLBytes = 16 << 10

// saslAuthenticate runs one step of the login; ok is false when the login
// failed (the connection closes after the answer). Failures say only
// "authentication failed": nothing about keys, tenants or names.
func (c *conn) saslAuthenticate(req *kmsg.SASLAuthenticateRequest) (resp kmsg.Response, ok bool) {
	r := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	fail := func(code int16, msg string, err error) (kmsg.Response, bool) {
		r.ErrorCode, r.ErrorMessage = code, kmsg.StringPtr(msg)
		c.log.Info("SASL login refused", zap.String("mechanism", c.auth.mechanism), zap.Error(err))
		return r, false
	}
	svc := c.s.sasl.svc
	switch {
	case svc == nil || c.auth.mechanism == "":
		return fail(kerr.IllegalSaslState.Code, "SaslHandshake first", nil)
	case c.auth.principal != nil:
		return fail(kerr.IllegalSaslState.Code, "already logged in", nil)
	case len(req.SASLAuthBytes) > maxSASLBytes:
		return fail(kerr.SaslAuthenticationFailed.Code, "authentication failed", errors.New("SASL message too large"))
	}
	switch c.auth.mechanism {
	case "PLAIN":
		p, err := principalOf(svc, req.SASLAuthBytes)
		if err != nil {
			return fail(kerr.SaslAuthenticationFailed.Code, "authentication failed", err)
		}
		if err := c.login(p); err != nil {
			return fail(kerr.SaslAuthenticationFailed.Code, err.Error(), err)
		}
		return r, true
	case "SCRAM-SHA-256":
		out, err := c.auth.scram.Step(string(req.SASLAuthBytes))
		if err != nil {
			return fail(kerr.SaslAuthenticationFailed.Code, "authentication failed", err)
		}
		r.SASLAuthBytes = []byte(out)
		if !c.auth.scram.Done() {
			return r, true
		}
		if !c.auth.scram.Valid() {
			return fail(kerr.SaslAuthenticationFailed.Code, "authentication failed", errors.New("invalid SCRAM proof"))
		}
		p, err := svc.KeyPrincipal(c.auth.scram.Username())
		if err == nil {
			err = c.login(p)
		}
		if err != nil {
			return fail(kerr.SaslAuthenticationFailed.Code, "authentication failed", err)
		}
		return r, true
	}
	return fail(kerr.IllegalSaslState.Code, "unknown mechanism", nil)
}

// errOtherTenant refuses a principal of another tenant than the
// listener's; its message names no tenant.
var errOtherTenant = errors.New("authentication failed")

// login makes p the connection's principal: it must belong to the
// listener's tenant (or be a superuser), within the tenant's connection
// bound.
func (c *conn) login(p *auth.Principal) error {
	if !p.Superuser && p.Tenant != c.s.cfg.Tenant {
		return errOtherTenant
	}
	release, err := c.s.sasl.svc.AcquireConn(c.s.cfg.Tenant)
	if err != nil {
		return err
	}
	c.auth.principal, c.auth.release = p, release
	// Revoking the key the login used, or the expiry of its token or key,
	// closes the connection (as a Kafka broker does when a credential it
	// cannot re-authenticate ends).
	c.auth.untrack = c.s.sasl.svc.Track(p, func(err error) {
		c.log.Info("closing connection", zap.String("who", p.ID), zap.Error(err))
		c.cut()
	})
	c.log.Info("SASL login", zap.String("mechanism", c.auth.mechanism), zap.String("who", p.ID))
	return nil
}
