package auth

import (
	"net/http"
	"path"
	"strings"

	"github.com/causeway/causeway/broker/wsproto"
)

// Access is what one request needs.
type Access struct {
	// Public requests need no credential (health checks).
	Public bool
	// Node requests act on the node itself (tenants, metrics, replication
	// admin): superusers only.
	Node bool
	// Tenants are the tenants the request touches: the tenants named in a
	// WebSocket path; for HTTP paths (TenantScoped) the gate adds the
	// request's tenant.
	Tenants []string
	// TenantScoped requests act inside the request's tenant (every HTTP
	// path but the public and node ones).
	TenantScoped bool
	// Needs are what the request does inside those tenants.
	Needs []Need
	// Audit names an admin action to record ("stream.create"); empty for
	// requests that are not audited.
	Audit string
	// Target is the resource the audit record names.
	Target string
	// WebSocket is set for WebSocket endpoints (/ws/, /_ws/).
	WebSocket bool
}

// Authorize decides whether p may make a request needing a: nil, or
// ErrNotFound when the request touches another tenant (whatever exists
// there), or ErrForbidden.
func (p *Principal) Authorize(a Access) error {
	if p.Superuser || a.Public {
		return nil
	}
	if a.Node {
		return ErrForbidden
	}
	for _, t := range a.Tenants {
		if t != p.Tenant {
			return ErrNotFound
		}
	}
	for _, n := range a.Needs {
		if !p.Allows(n.Resource, n.Action) {
			return ErrForbidden
		}
	}
	return nil
}

// Router maps requests to the access they need. It holds the paths of
// every HTTP front end of a node (broker/httpapi, replication admin,
// collections, SPOT, the key endpoints): it is matched with the same
// net/http.ServeMux rules those handlers are routed with, so a path
// parameter means here exactly what it means to the handler. A path no
// rule knows needs admin on the whole tenant, or a superuser under /_api/.
type Router struct {
	mux *http.ServeMux
}

// rule computes the access of a matched request (its path values set).
type rule func(r *http.Request) Access

func (fn rule) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c, ok := w.(*capture); ok {
		c.access, c.matched = fn(r), true
	}
}

// capture is the ResponseWriter a classification runs with.
type capture struct {
	header  http.Header
	access  Access
	matched bool
}

func (c *capture) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(int)             {}

// NewRouter builds the rule table.
func NewRouter() *Router {
	rt := &Router{mux: http.NewServeMux()}
	add := func(pattern string, fn rule) { rt.mux.Handle(pattern, fn) }
	node := func(audit string) rule {
		return func(r *http.Request) Access { return Access{Node: true, Audit: audit, Target: r.URL.Path} }
	}
	fabric := func(a Action, audit string) rule {
		return func(r *http.Request) Access {
			f := r.PathValue("fabric")
			return Access{Needs: []Need{{Resource{Kind: Fabric, Fabric: f}, a}}, Audit: audit, Target: "fabric/" + f}
		}
	}
	stream := func(a Action, audit string) rule {
		return func(r *http.Request) Access {
			f, s := r.PathValue("fabric"), r.PathValue("stream")
			return Access{Needs: []Need{StreamNeed(f, s, a)}, Audit: audit, Target: "stream/" + f + "/" + s}
		}
	}
	collection := func(param string, a Action, audit string) rule {
		return func(r *http.Request) Access {
			f := r.PathValue("fabric")
			var c string
			if param == "?collection" {
				c = r.URL.Query().Get("collection")
			} else {
				c = r.PathValue(param)
			}
			return Access{Needs: []Need{{Resource{Kind: Collection, Fabric: f, Name: c}, a}}, Audit: audit, Target: "collection/" + f + "/" + c}
		}
	}
	tenantAdmin := func(audit string) rule {
		return func(r *http.Request) Access {
			return Access{Needs: []Need{{Resource{Kind: Tenant}, Admin}}, Audit: audit, Target: r.URL.Path}
		}
	}
	anyone := func(r *http.Request) Access { return Access{} }

	// The node (broker/httpapi, replicator/shell).
	add("GET /health", func(*http.Request) Access { return Access{Public: true} })
	add("GET /metrics", node(""))
	add("GET /_api/tenant", node(""))
	add("POST /_api/tenant/{tenant}", node("tenant.create"))
	add("GET /_api/replication", node(""))
	add("POST /_api/replication/links/{peer}/{state}", node("replication.link"))
	add("POST /_api/replication/regions/{region}/evict", node("replication.evict"))
	add("GET /_api/spot/replicas", node(""))
	add("POST /_api/spot/replicas/{id}/{action}", node("spot.replica"))
	// Any other /_api/ path outside a fabric is the node's: superusers
	// only, whatever is mounted there later.
	add("/_api/", func(r *http.Request) Access {
		a := Access{Node: true, Target: r.URL.Path}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			a.Audit = "node.admin"
		}
		return a
	})

	// Keys and tokens (endpoints.go).
	add("GET "+KeysPath, tenantAdmin(""))
	add("POST "+KeysPath, tenantAdmin("key.create"))
	add("GET "+KeysPath+"/{id}", tenantAdmin(""))
	add("DELETE "+KeysPath+"/{id}", tenantAdmin("key.revoke"))
	add("PUT "+KeysPath+"/{id}/permissions", tenantAdmin("key.grants"))
	add("POST "+TokenPath, anyone)
	// ArangoDB's login (openauth.go): how a client gets a credential.
	add("POST "+OpenAuthPath, func(*http.Request) Access { return Access{Public: true} })

	// Fabrics and streams (broker/httpapi).
	const p = "/_fabric/{fabric}/_api/"
	add("GET "+p+"fabric", fabric(Read, ""))
	add("POST "+p+"fabric", fabric(Admin, "fabric.create"))
	add("PUT "+p+"fabric", tenantAdmin("fabric.regions"))
	add("GET "+p+"streams", fabric(Read, ""))
	add("POST "+p+"streams/{stream}", stream(Admin, "stream.create"))
	add("GET "+p+"streams/{stream}", stream(Read, ""))
	add("DELETE "+p+"streams/{stream}", stream(Admin, "stream.delete"))
	add("GET "+p+"streams/{stream}/subscriptions", stream(Read, ""))
	add("DELETE "+p+"streams/{stream}/subscriptions/{sub}", stream(Admin, "subscription.delete"))
	add("POST "+p+"streams/{stream}/subscriptions/{sub}/reset", stream(Read, ""))
	add("POST "+p+"streams/{stream}/subscriptions/{sub}/skip", stream(Read, ""))

	// ArangoDB's connect calls (broker/httpapi/arango.go): any principal
	// of the tenant may ask the version and list its fabrics; creating
	// one needs admin on the tenant.
	add("GET "+p+"version", anyone)
	add("GET "+p+"database/current", fabric(Read, ""))
	add("GET "+p+"database/user", anyone)
	add("GET "+p+"database", anyone)
	add("POST "+p+"database", tenantAdmin("fabric.create"))

	// Collections (collections/httpapi). A new collection's name is in the
	// body: creating one needs admin on the fabric.
	add("POST "+p+"collection", fabric(Admin, "collection.create"))
	add("GET "+p+"collection", fabric(Read, ""))
	add("GET "+p+"collection/{name}", collection("name", Read, ""))
	add("GET "+p+"collection/{name}/properties", collection("name", Read, ""))
	add("GET "+p+"collection/{name}/count", collection("name", Read, ""))
	add("GET "+p+"collection/{name}/figures", collection("name", Read, ""))
	add("GET "+p+"collection/{name}/checksum", collection("name", Read, ""))
	add("POST "+p+"import", collection("?collection", Write, ""))
	add("PUT "+p+"collection/{name}/truncate", collection("name", Admin, "collection.truncate"))
	add("DELETE "+p+"collection/{name}", collection("name", Admin, "collection.delete"))
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		add(m+" "+p+"document/{collection}", collection("collection", Write, ""))
	}
	add("GET "+p+"document/{collection}/{key}", collection("collection", Read, ""))
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		add(m+" "+p+"document/{collection}/{key}", collection("collection", Write, ""))
	}
	add("GET "+p+"document/{collection}/{key}/conflicts", collection("collection", Read, ""))
	add("PUT "+p+"simple/all", fabric(Read, ""))
	add("POST "+p+"kv/{collection}", collection("collection", Admin, "kv.create"))
	add("GET "+p+"kv", fabric(Read, ""))
	add("DELETE "+p+"kv/{collection}", collection("collection", Admin, "kv.delete"))
	add("GET "+p+"kv/{collection}/count", collection("collection", Read, ""))
	add("PUT "+p+"kv/{collection}/value", collection("collection", Write, ""))
	add("GET "+p+"kv/{collection}/value/{key}", collection("collection", Read, ""))
	add("DELETE "+p+"kv/{collection}/value/{key}", collection("collection", Write, ""))
	add("DELETE "+p+"kv/{collection}/values", collection("collection", Write, ""))
	add("GET "+p+"kv/{collection}/keys", collection("collection", Read, ""))
	add("GET "+p+"kv/{collection}/values", collection("collection", Read, ""))
	add("POST "+p+"kv/{collection}/values", collection("collection", Read, ""))
	// Queries read only; their collections are in the query text, so they
	// need read on the fabric.
	add("POST "+p+"cursor", fabric(Read, ""))
	add("PUT "+p+"cursor/{id}", fabric(Read, ""))
	add("POST "+p+"cursor/{id}", fabric(Read, ""))
	add("DELETE "+p+"cursor/{id}", fabric(Read, ""))
	add("POST "+p+"explain", fabric(Read, ""))
	add("POST "+p+"index", collection("?collection", Admin, "index.create"))
	add("GET "+p+"index", collection("?collection", Read, ""))
	add("GET "+p+"index/{collection}/{id}", collection("collection", Read, ""))
	add("DELETE "+p+"index/{collection}/{id}", collection("collection", Admin, "index.delete"))
	add("POST "+p+"restql", fabric(Write, "restql.create"))
	add("GET "+p+"restql", fabric(Read, ""))
	add("GET "+p+"restql/user", fabric(Read, ""))
	add("PUT "+p+"restql/{name}", fabric(Write, "restql.update"))
	add("DELETE "+p+"restql/{name}", fabric(Write, "restql.delete"))
	add("POST "+p+"restql/execute/{name}", fabric(Read, ""))
	add("PUT "+p+"restql/fetch/{id}", fabric(Read, ""))

	// SPOT collections (spot/http.go); their document and key/value paths
	// are the ones above. A transaction names its collections in the body.
	add("POST "+p+"transaction", fabric(Write, ""))
	add("POST "+p+"spot/collection", fabric(Admin, "spot.create"))
	add("GET "+p+"spot/collection", fabric(Read, ""))
	add("GET "+p+"spot/collection/{name}", collection("name", Read, ""))
	add("DELETE "+p+"spot/collection/{name}", collection("name", Admin, "spot.delete"))
	add("GET "+p+"spot/collection/{name}/documents", collection("name", Read, ""))
	return rt
}

// Classify returns the access r needs. A path that is not canonical is
// refused with ErrNonCanonicalPath.
func (rt *Router) Classify(r *http.Request) (Access, error) {
	p := r.URL.Path
	if !canonical(p) {
		return Access{}, ErrNonCanonicalPath
	}
	if strings.HasPrefix(p, "/ws/") || strings.HasPrefix(p, "/_ws/") {
		return classifyWS(r), nil
	}
	c := &capture{}
	// The mux records the match on the request it serves: give it a
	// shallow copy so the handlers' own routing starts clean.
	rt.mux.ServeHTTP(c, r.WithContext(r.Context()))
	a := c.access
	if !c.matched {
		a = Access{Needs: []Need{{Resource{Kind: Tenant}, Admin}}, Target: p}
	}
	a.TenantScoped = !a.Public && !a.Node
	return a, nil
}

// canonical reports whether p is an absolute path with no ".", ".." or
// empty segments (a trailing slash is allowed).
func canonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	return path.Clean(p) == strings.TrimSuffix(p, "/")
}

// classifyWS maps a WebSocket path to the streams it touches: producers
// need write, consumers and readers read. A path that does not parse needs
// only a valid credential: the WebSocket server refuses it before touching
// anything.
func classifyWS(r *http.Request) Access {
	a := Access{WebSocket: true}
	ep, err := wsproto.ParsePath(r.URL.Path, r.URL.Query().Get("topics"))
	if err != nil {
		return a
	}
	act := Read
	if ep.Kind == wsproto.Producer {
		act = Write
	}
	seen := map[string]bool{}
	for _, s := range ep.Streams {
		if !seen[s.Tenant] {
			seen[s.Tenant] = true
			a.Tenants = append(a.Tenants, s.Tenant)
		}
		a.Needs = append(a.Needs, StreamNeed(s.Fabric, s.Name, act))
	}
	if len(ep.Streams) == 1 {
		a.Target = "stream/" + ep.Streams[0].Fabric + "/" + ep.Streams[0].Name
	}
	return a
}
