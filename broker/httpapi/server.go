package httpapi

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/internal/queryparam"
)

// Handler serves the HTTP API of one node. WebSocket requests (/ws/,
// /_ws/) go to ws; every other path not handled here goes to extra (for
// example collections), when set.
type Handler struct {
	node  *broker.Node
	log   *zap.Logger
	mux   *http.ServeMux
	reg   *prometheus.Registry
	ws    http.Handler
	extra http.Handler
	gate  Gate
	// routes is the route table, with what Handle mounted.
	routes []route
	// checks are the components /health asks (health.go).
	checks healthChecks
}

// Gate admits or refuses every request (broker/auth.Service.Admit): it
// answers refused ones itself and returns what to serve otherwise.
type Gate interface {
	Admit(w http.ResponseWriter, r *http.Request, tenant string, explicit bool) (http.ResponseWriter, *http.Request, string, bool)
}

// SetGate puts g in front of every request; nil serves everyone.
func (h *Handler) SetGate(g Gate) { h.gate = g }

// New builds the handler. ws may be nil (no WebSocket API).
func New(node *broker.Node, ws http.Handler) *Handler {
	h := &Handler{node: node, log: node.Logger().Named("http"), mux: http.NewServeMux(), ws: ws}
	reg := prometheus.NewRegistry()
	h.reg = reg
	reg.MustRegister(newCollector(node), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	const p = "/_fabric/{fabric}/_api/streams"
	h.routes = []route{
		{"GET /metrics", noParams, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})},
		{"GET /health", noParams, http.HandlerFunc(h.health)},
		{"GET /_api/tenant", noParams, http.HandlerFunc(h.listTenants)},
		{"POST /_api/tenant/{tenant}", noParams, http.HandlerFunc(h.createTenant)},
		{"GET /_fabric/{fabric}/_api/fabric", noParams, http.HandlerFunc(h.getFabric)},
		{"POST /_fabric/{fabric}/_api/fabric", noParams, http.HandlerFunc(h.createFabric)},
		{"PUT /_fabric/{fabric}/_api/fabric", noParams, http.HandlerFunc(h.changeFabric)},
		// ArangoDB's connect calls (arango.go).
		{"GET /_fabric/{fabric}/_api/version", paramsVersion, http.HandlerFunc(h.version)},
		{"GET /_fabric/{fabric}/_api/database/current", noParams, http.HandlerFunc(h.currentDatabase)},
		{"GET /_fabric/{fabric}/_api/database/user", noParams, http.HandlerFunc(h.userDatabases)},
		{"GET /_fabric/{fabric}/_api/database", noParams, http.HandlerFunc(h.listDatabases)},
		{"POST /_fabric/{fabric}/_api/database", noParams, http.HandlerFunc(h.createDatabase)},
		{"GET " + p, paramsListStreams, http.HandlerFunc(h.listStreams)},
		{"POST " + p + "/{stream}", paramsCreateStream, http.HandlerFunc(h.createStream)},
		{"GET " + p + "/{stream}", paramsStream, http.HandlerFunc(h.getStream)},
		{"DELETE " + p + "/{stream}", paramsDeleteStream, http.HandlerFunc(h.deleteStream)},
		{"GET " + p + "/{stream}/subscriptions", paramsStream, http.HandlerFunc(h.listSubscriptions)},
		{"DELETE " + p + "/{stream}/subscriptions/{sub}", paramsDeleteStream, http.HandlerFunc(h.deleteSubscription)},
		{"POST " + p + "/{stream}/subscriptions/{sub}/reset", paramsResetSubscription, http.HandlerFunc(h.resetSubscription)},
		{"POST " + p + "/{stream}/subscriptions/{sub}/skip", paramsSkipSubscription, http.HandlerFunc(h.skipSubscription)},
	}
	for _, rt := range h.routes {
		h.mux.Handle(rt.pattern, checked(rt.params, rt.handler))
	}
	return h
}

// Handle routes a ServeMux pattern to handler: node parts assembled by
// server (the replication admin endpoints, API keys) mount themselves
// here. Such routes accept no query parameter (but the credential token);
// HandleParams declares those a route takes.
func (h *Handler) Handle(pattern string, handler http.Handler) {
	h.HandleParams(pattern, noParams, handler)
}

// HandleParams is Handle for a route that accepts the query parameters
// params declares.
func (h *Handler) HandleParams(pattern string, params queryparam.Set, handler http.Handler) {
	h.routes = append(h.routes, route{pattern, params, handler})
	h.mux.Handle(pattern, checked(params, handler))
}

// route is one entry of the route table: a ServeMux pattern, the query
// parameters it accepts (params.go) and its handler.
type route struct {
	pattern string
	params  queryparam.Set
	handler http.Handler
}

// Register adds a Prometheus collector to /metrics.
func (h *Handler) Register(c prometheus.Collector) error { return h.reg.Register(c) }

// SetExtra routes every path this handler does not know to next.
func (h *Handler) SetExtra(next http.Handler) { h.extra = next }

// tenantHeader carries the tenant from the /_tenant/{tenant} prefix to the
// handlers (set only by ServeHTTP, never trusted from the client).
const tenantHeader = "X-Causeway-Tenant"

// ServeHTTP strips the optional /_tenant/{tenant} prefix, rewrites
// ArangoDB's paths to the node's (arangopaths.go) and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del(tenantHeader)
	tenant, explicit := naming.DefaultTenant, false
	if rest, found := strings.CutPrefix(r.URL.Path, "/_tenant/"); found {
		t, path, _ := strings.Cut(rest, "/")
		if err := naming.Validate("tenant", t); err != nil {
			fail(w, err)
			return
		}
		tenant, explicit = t, true
		r.URL.Path = "/" + path
		r.URL.RawPath = ""
	}
	rewriteArangoPath(r.URL) // arangopaths.go: /_db/{fabric}/... and /_api/...
	if h.gate != nil {
		var admitted bool
		if w, r, tenant, admitted = h.gate.Admit(w, r, tenant, explicit); !admitted {
			return
		}
	}
	r.Header.Set(tenantHeader, tenant)
	if err := h.fabricServedHere(tenant, r.URL.Path); err != nil { // fabricregions.go
		fail(w, err)
		return
	}
	if h.ws != nil && (strings.HasPrefix(r.URL.Path, "/ws/") || strings.HasPrefix(r.URL.Path, "/_ws/")) {
		h.ws.ServeHTTP(w, r)
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" && h.extra != nil {
		h.extra.ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func tenantOf(r *http.Request) string { return r.Header.Get(tenantHeader) }
