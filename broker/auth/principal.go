package auth

import (
	"context"
	"strings"
	"time"
)

// Principal is who a request acts as.
type Principal struct {
	// ID names the principal in logs, audit records and rate limits: the
	// API key id, or the token's subject.
	ID string
	// Tenant is the tenant the principal belongs to.
	Tenant string
	// Superuser principals act on every tenant and on the node itself
	// (tenants, metrics, replication admin).
	Superuser bool
	// Grants are what the principal may do inside its tenant.
	Grants []Grant
	// KeyID is the API key behind the principal (the key itself, or the key
	// a token was issued from); revoking it ends the principal.
	KeyID string
	// Expires is when the credential expires (the token's exp, or the
	// key's expiry); zero for never. Connections that outlive it are
	// closed (see Service.Track).
	Expires time.Time
}

// Need is one (resource, action) a request needs.
type Need struct {
	Resource Resource
	Action   Action
}

// Allows reports whether p may do act on r inside its own tenant.
func (p *Principal) Allows(r Resource, act Action) bool {
	if p.Superuser {
		return true
	}
	for _, g := range p.Grants {
		if g.Covers(r, act) {
			return true
		}
	}
	return false
}

// Includes reports whether every grant of h is included in p's: p may
// issue a key or a token carrying h.
func (p *Principal) Includes(h []Grant) bool {
	if p.Superuser {
		return true
	}
	for _, want := range h {
		ok := false
		for _, g := range p.Grants {
			if g.Includes(want) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Prefixes of the streams a collection owns (collections/service): its op
// log and its change feed.
const (
	opLogPrefix      = "_col."
	changeFeedPrefix = "_changes."
)

// StreamNeed is what act on stream name of fabric needs. The streams a
// collection owns (its op log "_col.c" and change feed "_changes.c") are
// the collection's: reading them needs read on the collection, anything
// more needs admin on it, so no producer can forge a collection's history.
func StreamNeed(fabric, name string, act Action) Need {
	for _, p := range []string{opLogPrefix, changeFeedPrefix} {
		if c, found := strings.CutPrefix(name, p); found && c != "" {
			if act > Read {
				act = Admin
			}
			return Need{Resource{Kind: Collection, Fabric: fabric, Name: c}, act}
		}
	}
	return Need{Resource{Kind: Stream, Fabric: fabric, Name: name}, act}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal a request acts as (set by the gate);
// ok is false when the node runs without authentication.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(*Principal)
	return p, ok
}
