package kafka

import (
	"crypto/rand"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/auth"
)

// saslHandshake chooses the connection's mechanism. Only v1 is served:
// the exchange then goes through SaslAuthenticate requests (v0 would send
// bare SASL frames, which every maintained client has long stopped doing).
func (c *conn) saslHandshake(req *kmsg.SASLHandshakeRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = saslMechanisms
	switch {
	case req.Version < 1:
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp
	case c.s.sasl.svc == nil || !slices.Contains(saslMechanisms, req.Mechanism):
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp
	case c.auth.mechanism != "" || c.auth.principal != nil:
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp
	}
	c.auth.mechanism = req.Mechanism
	if req.Mechanism == "SCRAM-SHA-256" {
		c.auth.scram = auth.NewSCRAMServer(rand.Reader, c.s.sasl.svc.SCRAMCredential)
	}
	return resp
}

// principalOf returns the principal a PLAIN message (authzid NUL authcid
// NUL password) logs in as: the password is an API key or a token.
func principalOf(svc *auth.Service, msg []byte) (*auth.Principal, error) {
	parts := splitNUL(msg)
	if len(parts) != 3 {
		return nil, auth.ErrUnauthenticated
	}
	return svc.Authenticate(string(parts[2]))
}

func splitNUL(b []byte) [][]byte {
	var out [][]byte
	for {
		i := slices.Index(b, 0)
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
}
