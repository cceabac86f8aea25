package httpapi

import (
	"fmt"
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
}

// New builds the handler over a running service.
func New(svc *service.Service, logger *zap.Logger) *Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &Handler{svc: svc, log: logger, mux: http.NewServeMux()}
	const p = "/_fabric/{fabric}/_api/"
	routes := []struct {
		pattern string
		fn      http.HandlerFunc
	}{
		{"POST " + p + "collection", h.createCollection},
		{"GET " + p + "collection", h.listCollections},
		{"GET " + p + "collection/{name}", h.getCollection},
		{"GET " + p + "collection/{name}/properties", h.getCollection},
		{"GET " + p + "collection/{name}/count", h.countCollection},
		{"PUT " + p + "collection/{name}/truncate", h.truncateCollection},
		{"DELETE " + p + "collection/{name}", h.dropCollection},

		{"POST " + p + "document/{collection}", h.insertDocuments},
		{"PUT " + p + "document/{collection}", h.replaceDocuments},
		{"PATCH " + p + "document/{collection}", h.updateDocuments},
		{"DELETE " + p + "document/{collection}", h.deleteDocuments},
		{"GET " + p + "document/{collection}/{key}", h.getDocument},
		{"HEAD " + p + "document/{collection}/{key}", h.getDocument},
		{"PUT " + p + "document/{collection}/{key}", h.replaceDocument},
		{"PATCH " + p + "document/{collection}/{key}", h.updateDocument},
		{"DELETE " + p + "document/{collection}/{key}", h.deleteDocument},
		{"GET " + p + "document/{collection}/{key}/conflicts", h.conflicts},
		{"PUT " + p + "simple/all", h.simpleAll},

		{"POST " + p + "kv/{collection}", h.createKV},
		{"GET " + p + "kv", h.listKV},
		{"DELETE " + p + "kv/{collection}", h.dropKV},
		{"GET " + p + "kv/{collection}/count", h.countCollectionKV},
		{"PUT " + p + "kv/{collection}/value", h.putKV},
		{"GET " + p + "kv/{collection}/value/{key}", h.getKV},
		{"DELETE " + p + "kv/{collection}/value/{key}", h.deleteKV},
		{"DELETE " + p + "kv/{collection}/values", h.deleteKVs},
		{"GET " + p + "kv/{collection}/keys", h.listKVKeys},
		{"GET " + p + "kv/{collection}/values", h.listKVValues},
		{"POST " + p + "kv/{collection}/values", h.getKVs},

		{"POST " + p + "cursor", h.createCursor},
		{"PUT " + p + "cursor/{id}", h.nextBatch},
		{"POST " + p + "cursor/{id}", h.nextBatch},
		{"DELETE " + p + "cursor/{id}", h.deleteCursor},
		{"POST " + p + "explain", h.explain},

		{"POST " + p + "index", h.createIndex},
		{"GET " + p + "index", h.listIndexes},
		{"GET " + p + "index/{collection}/{id}", h.getIndex},
		{"DELETE " + p + "index/{collection}/{id}", h.dropIndex},

		{"POST " + p + "restql", h.createSavedQuery},
		{"GET " + p + "restql", h.listSavedQueries},
		{"GET " + p + "restql/user", h.listSavedQueries},
		{"PUT " + p + "restql/{name}", h.updateSavedQuery},
		{"DELETE " + p + "restql/{name}", h.deleteSavedQuery},
		{"POST " + p + "restql/execute/{name}", h.runSavedQuery},
		{"PUT " + p + "restql/fetch/{id}", h.nextBatch},
	}
	routes = append(routes, struct {
		pattern string
		fn      http.HandlerFunc
	}{"GET " + service.SnapshotPath, h.snapshot})
	for _, rt := range routes {
		h.mux.HandleFunc(rt.pattern, rt.fn)
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
func (m *Mounted) AttachReplication(repl *shell.Shell) {
	if repl != nil {
		m.Service.AttachReplication(repl)
	}
}

// Close stops the service (after the HTTP server, before the node).
func (m *Mounted) Close() error { return m.Service.Close() }

func trimQuotes(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }
