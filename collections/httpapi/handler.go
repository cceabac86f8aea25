package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/replicator/shell"
)

// tenantHeader is set by the broker's HTTP handler from the optional
// /_tenant/{tenant} prefix (it deletes any copy the client sent).
const tenantHeader = "X-Causeway-Tenant"

// Handler serves the collections API of one node.
type Handler struct {
	svc  *service.Service
	log  *zap.Logger
	mux  *http.ServeMux
	spot Spot // SPOT collections (spot.go), nil: none
	// routes is the route table: patterns, accepted query parameters
	// (params.go) and handlers.
	routes []route
}

// New builds the handler over a running service.
func New(svc *service.Service, logger *zap.Logger) *Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &Handler{svc: svc, log: logger, mux: http.NewServeMux()}
	const p = "/_fabric/{fabric}/_api/"
	h.routes = []route{
		{"POST " + p + "collection", paramsCreateCollection, h.createCollection},
		{"GET " + p + "collection", paramsListCollections, h.listCollections},
		{"GET " + p + "collection/{name}", noParams, h.getCollection},
		{"GET " + p + "collection/{name}/properties", noParams, h.getCollection},
		{"GET " + p + "collection/{name}/count", noParams, h.countCollection},
		{"PUT " + p + "collection/{name}/truncate", paramsTruncate, h.truncateCollection},
		{"DELETE " + p + "collection/{name}", paramsDropCollection, h.dropCollection},

		{"POST " + p + "document/{collection}", paramsInsert, h.insertDocuments},
		{"PUT " + p + "document/{collection}", paramsReplaceMany, h.replaceDocuments},
		{"PATCH " + p + "document/{collection}", paramsUpdate, h.updateDocuments},
		{"DELETE " + p + "document/{collection}", paramsDeleteMany, h.deleteDocuments},
		{"GET " + p + "document/{collection}/{key}", noParams, h.getDocument},
		{"HEAD " + p + "document/{collection}/{key}", noParams, h.getDocument},
		{"PUT " + p + "document/{collection}/{key}", paramsReplace, h.replaceDocument},
		{"PATCH " + p + "document/{collection}/{key}", paramsUpdate, h.updateDocument},
		{"DELETE " + p + "document/{collection}/{key}", paramsDeleteOne, h.deleteDocument},
		{"GET " + p + "document/{collection}/{key}/conflicts", noParams, h.conflicts},
		{"PUT " + p + "simple/all", noParams, h.simpleAll},

		{"POST " + p + "kv/{collection}", paramsCreateKV, h.createKV},
		{"GET " + p + "kv", noParams, h.listKV},
		{"DELETE " + p + "kv/{collection}", noParams, h.dropKV},
		{"GET " + p + "kv/{collection}/count", noParams, h.countCollectionKV},
		{"PUT " + p + "kv/{collection}/value", noParams, h.putKV},
		{"GET " + p + "kv/{collection}/value/{key}", noParams, h.getKV},
		{"DELETE " + p + "kv/{collection}/value/{key}", noParams, h.deleteKV},
		{"DELETE " + p + "kv/{collection}/values", noParams, h.deleteKVs},
		{"GET " + p + "kv/{collection}/keys", paramsListKV, h.listKVKeys},
		{"GET " + p + "kv/{collection}/values", paramsListKV, h.listKVValues},
		{"POST " + p + "kv/{collection}/values", noParams, h.getKVs},

		{"POST " + p + "cursor", noParams, h.createCursor},
		{"PUT " + p + "cursor/{id}", noParams, h.nextBatch},
		{"POST " + p + "cursor/{id}", noParams, h.nextBatch},
		{"POST " + p + "cursor/{id}/{batchId}", noParams, h.nextBatchAt},
		{"DELETE " + p + "cursor/{id}", noParams, h.deleteCursor},
		{"POST " + p + "explain", noParams, h.explain},

		{"POST " + p + "index", paramsCreateIndex, h.createIndex},
		{"GET " + p + "index", paramsListIndexes, h.listIndexes},
		{"GET " + p + "index/{collection}/{id}", noParams, h.getIndex},
		{"DELETE " + p + "index/{collection}/{id}", noParams, h.dropIndex},

		{"POST " + p + "restql", noParams, h.createSavedQuery},
		{"GET " + p + "restql", noParams, h.listSavedQueries},
		{"GET " + p + "restql/user", noParams, h.listSavedQueries},
		{"PUT " + p + "restql/{name}", noParams, h.updateSavedQuery},
		{"DELETE " + p + "restql/{name}", noParams, h.deleteSavedQuery},
		{"POST " + p + "restql/execute/{name}", noParams, h.runSavedQuery},
		{"PUT " + p + "restql/fetch/{id}", noParams, h.nextBatch},

		{"GET " + service.SnapshotPath, paramsSnapshot, h.snapshot},
	}
	h.routes = append(h.routes, h.arangoRoutes(p)...)
	// Where a request is served in a region of several nodes (cluster.go):
	// on the node serving the collection it names (drops too, so that it
	// stops at once), or holding its cursor; the other routes on any node.
	locate := map[string]locator{
		"GET " + p + "collection/{name}":            byPath("name"),
		"GET " + p + "collection/{name}/properties": byPath("name"),
		"GET " + p + "collection/{name}/count":      byPath("name"),
		"PUT " + p + "collection/{name}/truncate":   byPath("name"),
		"DELETE " + p + "collection/{name}":         ledByPath("name"),
		"DELETE " + p + "kv/{collection}":           ledByPath("collection"),
		"PUT " + p + "simple/all":                   byBody,
		"GET " + p + "kv/{collection}/count":        byPath("collection"),
		"POST " + p + "cursor":                      byBody,
		"PUT " + p + "cursor/{id}":                  byCursor,
		"POST " + p + "cursor/{id}":                 byCursor,
		"POST " + p + "cursor/{id}/{batchId}":       byCursor,
		"DELETE " + p + "cursor/{id}":               byCursor,
		"POST " + p + "explain":                     byBody,
		"POST " + p + "index":                       byCollectionParam,
		"GET " + p + "index":                        byCollectionParam,
		"GET " + p + "index/{collection}/{id}":      byPath("collection"),
		"DELETE " + p + "index/{collection}/{id}":   byPath("collection"),
		"POST " + p + "collection":                  byReplication,
		"POST " + p + "kv/{collection}":             byReplication,
		"POST " + p + "restql":                      byReplication,
		"PUT " + p + "restql/{name}":                byReplication,
		"DELETE " + p + "restql/{name}":             byReplication,
		"POST " + p + "restql/execute/{name}":       bySavedQuery,
		"PUT " + p + "restql/fetch/{id}":            byCursor,
	}
	maps.Copy(locate, arangoLocators(p))
	for _, rt := range h.routes {
		loc, ok := locate[rt.pattern]
		if !ok && (strings.Contains(rt.pattern, "/document/{collection}") || strings.Contains(rt.pattern, "/kv/{collection}/")) {
			loc = byPath("collection")
		}
		h.mux.HandleFunc(rt.pattern, h.checked(rt, loc))
	}
	return h
}

// ServeHTTP dispatches; unknown paths get an ArangoDB-style 404 and known
// paths with another method a 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.serveSpot(w, r) {
		return
	}
	_, pattern := h.mux.Handler(r)
	if pattern == "" {
		h.noRoute(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	// The mux answers 405 itself when the path matches another method.
	rec := &statusOnly{}
	h.mux.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: true, Code: 405, ErrorNum: 405, ErrorMessage: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: true, Code: 404, ErrorNum: 404, ErrorMessage: "unknown path " + r.URL.Path})
}

// statusOnly records the status the mux would answer with.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header {
	if s.header == nil {
		s.header = http.Header{}
	}
	return s.header
}
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int)      { s.status = status }

// tenant returns the request's tenant (set by the broker's handler).
func tenant(r *http.Request) string {
	if t := r.Header.Get(tenantHeader); t != "" {
		return t
	}
	return naming.DefaultTenant
}

func fabric(r *http.Request) string { return r.PathValue("fabric") }

func ref(r *http.Request, collectionParam string) service.Ref {
	return service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: r.PathValue(collectionParam)}
}

// Mounted is the service with its handler, as a node serves it.
type Mounted struct {
	*Handler
	Service *service.Service
}

// Open starts the collections service on node with default options and
// returns it with its handler (to mount with httpapi.Handler.SetExtra of
// the broker); Close stops it.
func Open(node *broker.Node) (*Mounted, error) {
	return OpenWith(node, service.Options{})
}

// OpenWith is Open with options (a multi-region node's bootstrap peers).
func OpenWith(node *broker.Node, opts service.Options) (*Mounted, error) {
	svc, err := service.Open(node, opts)
	if err != nil {
		return nil, err
	}
	return &Mounted{Handler: New(svc, node.Logger().Named("collections-http")), Service: svc}, nil
}

// ReplicationKinds is what to register with the replication shell before
// it starts (shell.Options.Kinds), so that the journal tails it re-applies
// on start reach the service.
func (m *Mounted) ReplicationKinds() map[shell.Kind]shell.ApplyFunc {
	return map[shell.Kind]shell.ApplyFunc{service.ReplicationKind: m.Service.ApplyReplicated}
}

// AttachReplication makes the service multi-region once the shell runs
// (a nil shell, for a single-region node, is a no-op).
func (m *Mounted) AttachReplication(repl service.Replication) {
	if repl != nil {
		m.Service.AttachReplication(repl)
	}
}

// Close stops the service (after the HTTP server, before the node).
func (m *Mounted) Close() error { return m.Service.Close() }

func trimQuotes(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }
