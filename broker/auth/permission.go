package auth

import (
	"fmt"
	"strings"

	"github.com/causeway/causeway/broker/naming"
)

// Action is what a grant allows. Each action includes the ones below it:
// admin includes write, write includes read.
type Action uint8

// Actions, weakest first.
const (
	// Read consumes streams (and manages one's place in them: reset, skip),
	// lists, reads documents and runs queries.
	Read Action = iota + 1
	// Write produces to streams and writes documents and key/values.
	Write
	// Admin creates and deletes fabrics, streams, collections and indexes;
	// on the whole tenant it also manages API keys.
	Admin
)

func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case Admin:
		return "admin"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

func parseAction(s string) (Action, bool) {
	switch s {
	case "read":
		return Read, true
	case "write":
		return Write, true
	case "admin":
		return Admin, true
	}
	return 0, false
}

// Kind is the kind of a resource or of a grant's scope.
type Kind uint8

// Kinds, widest first.
const (
	// Tenant is the whole tenant: a grant on it covers everything inside;
	// API keys are tenant resources.
	Tenant Kind = iota + 1
	Fabric
	Stream
	Collection
)

func (k Kind) String() string {
	switch k {
	case Tenant:
		return "tenant"
	case Fabric:
		return "fabric"
	case Stream:
		return "stream"
	case Collection:
		return "collection"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Any is the wildcard of a grant's fabric or name.
const Any = "*"

// Resource is what a request touches inside a tenant.
type Resource struct {
	Kind   Kind
	Fabric string // empty for Tenant
	Name   string // the stream or collection; empty for Tenant and Fabric
}

func (r Resource) String() string {
	switch r.Kind {
	case Tenant:
		return "tenant"
	case Fabric:
		return "fabric/" + r.Fabric
	}
	return r.Kind.String() + "/" + r.Fabric + "/" + r.Name
}

// Grant allows an action on a scope. Its text form is "action:scope" with
// scope one of
//
//	"*"                        the whole tenant
//	fabric/{fabric}            a fabric and everything in it
//	stream/{fabric}/{stream}   one stream
//	collection/{fabric}/{name} one collection (and its change feed)
//
// where {fabric}, {stream} and {name} may be "*" (any). Examples:
// "admin:*" (a tenant admin), "read:fabric/_system",
// "write:stream/_system/orders", "read:collection/*/users".
type Grant struct {
	Action Action
	Scope  Kind // Tenant, Fabric, Stream or Collection
	Fabric string
	Name   string
}

// maxGrantBytes bounds one grant's text.
const maxGrantBytes = 3*naming.MaxNameBytes + 32

// ParseGrant parses the text form of a grant.
func ParseGrant(s string) (Grant, error) {
	if len(s) > maxGrantBytes {
		return Grant{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBadGrant, len(s), maxGrantBytes)
	}
	act, scope, found := strings.Cut(s, ":")
	if !found {
		return Grant{}, fmt.Errorf("%w: %q: want action:scope (for example read:fabric/_system)", ErrBadGrant, s)
	}
	var g Grant
	var ok bool
	if g.Action, ok = parseAction(act); !ok {
		return Grant{}, fmt.Errorf("%w: %q: action must be read, write or admin", ErrBadGrant, s)
	}
	if scope == Any {
		g.Scope = Tenant
		return g, nil
	}
	parts := strings.Split(scope, "/")
	switch {
	case parts[0] == "fabric" && len(parts) == 2:
		g.Scope, g.Fabric = Fabric, parts[1]
	case parts[0] == "stream" && len(parts) == 3:
		g.Scope, g.Fabric, g.Name = Stream, parts[1], parts[2]
	case parts[0] == "collection" && len(parts) == 3:
		g.Scope, g.Fabric, g.Name = Collection, parts[1], parts[2]
	default:
		return Grant{}, fmt.Errorf("%w: %q: scope must be *, fabric/F, stream/F/S or collection/F/C", ErrBadGrant, s)
	}
	if err := validPattern("fabric", g.Fabric); err != nil {
		return Grant{}, fmt.Errorf("%w: %q: %v", ErrBadGrant, s, err)
	}
	if g.Scope != Fabric {
		if err := validPattern(g.Scope.String(), g.Name); err != nil {
			return Grant{}, fmt.Errorf("%w: %q: %v", ErrBadGrant, s, err)
		}
	}
	return g, nil
}

func validPattern(kind, name string) error {
	if name == Any {
		return nil
	}
	return naming.Validate(kind, name)
}

// ParseGrants parses a list of grants; it fails on the first bad one.
func ParseGrants(list []string) ([]Grant, error) {
	out := make([]Grant, 0, len(list))
	for _, s := range list {
		g, err := ParseGrant(s)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// String is the text form ParseGrant reads.
func (g Grant) String() string {
	switch g.Scope {
	case Tenant:
		return g.Action.String() + ":*"
	case Fabric:
		return g.Action.String() + ":fabric/" + g.Fabric
	}
	return g.Action.String() + ":" + g.Scope.String() + "/" + g.Fabric + "/" + g.Name
}

// GrantStrings renders grants in their text form.
func GrantStrings(gs []Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.String()
	}
	return out
}

func match(pattern, name string) bool { return pattern == Any || pattern == name }

// Covers reports whether g allows act on r.
func (g Grant) Covers(r Resource, act Action) bool {
	if g.Action < act {
		return false
	}
	switch g.Scope {
	case Tenant:
		return true
	case Fabric:
		return r.Kind != Tenant && match(g.Fabric, r.Fabric)
	case Stream, Collection:
		return r.Kind == g.Scope && match(g.Fabric, r.Fabric) && match(g.Name, r.Name)
	}
	return false
}

// Includes reports whether every (resource, action) that h covers g covers
// too: a token or key issued by g's holder may carry h.
func (g Grant) Includes(h Grant) bool {
	if g.Action < h.Action {
		return false
	}
	switch g.Scope {
	case Tenant:
		return true
	case Fabric:
		return h.Scope != Tenant && (g.Fabric == Any || g.Fabric == h.Fabric)
	case Stream, Collection:
		return h.Scope == g.Scope && (g.Fabric == Any || g.Fabric == h.Fabric) && (g.Name == Any || g.Name == h.Name)
	}
	return false
}
