package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/leaderproxy"
)

// In a region of several nodes a collection is served by the node leading
// its op log, and a query cursor lives on the node that opened it
// (service.Locate). A request naming a collection or cursor served by
// another node is proxied there whole (leaderproxy: X-Causeway-Proxied
// marks the hop, a proxied request is never proxied again but answered
// 503 while two nodes disagree for a moment on who leads). Requests on
// the catalog (creating, listing, dropping collections; saved queries)
// are served by any node, but for those a geo-replicated region
// replicates to the others (creating a collection, saving and deleting
// saved queries: byReplication).

// locator says where a route's request is served: nil for this node, a
// *service.ElsewhereError for another, or an error to answer.
type locator func(h *Handler, r *http.Request) error

// byPath locates the collection named by a path parameter.
func byPath(param string) locator {
	return func(h *Handler, r *http.Request) error { return h.svc.Locate(ref(r, param)) }
}

// ledByPath locates the collection named by a path parameter when a node
// leads it; when none does the request is served here (dropping a
// collection whose creation failed half way).
func ledByPath(param string) locator {
	return func(h *Handler, r *http.Request) error {
		err := h.svc.Locate(ref(r, param))
		var elsewhere *service.ElsewhereError
		if errors.As(err, &elsewhere) {
			return err
		}
		return nil
	}
}

// byCollectionParam locates the collection of ?collection= (indexes).
func byCollectionParam(h *Handler, r *http.Request) error {
	return h.svc.Locate(service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: r.URL.Query().Get("collection")})
}

// byReplication locates a catalog change that must reach the other
// regions of a geo-replicated region of several nodes (creating a
// collection, saving or deleting a saved query): on the node running the
// region's replication.
func byReplication(h *Handler, _ *http.Request) error { return h.svc.LocateReplication() }

// byCursor locates the cursor named by the path's id.
func byCursor(h *Handler, r *http.Request) error { return h.svc.LocateCursor(r.PathValue("id")) }

// bySavedQuery locates the collection a saved query reads.
func bySavedQuery(h *Handler, r *http.Request) error {
	return h.svc.LocateSavedQuery(tenant(r), fabric(r), r.PathValue("name"))
}

// byBody locates the collection the body names: "query" (a query's text)
// or "collection". The body is read (bounded) and given back to the
// request; a body this cannot read is answered here.
func byBody(h *Handler, r *http.Request) error {
	if !h.svc.Clustered() {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil || len(b) > maxBodyBytes {
		return nil
	}
	v, err := decodeJSON(b)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil
	}
	if text, ok := obj["query"].(string); ok {
		return h.svc.LocateQuery(tenant(r), fabric(r), text)
	}
	if name, ok := obj["collection"].(string); ok {
		return h.svc.Locate(service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: name})
	}
	return nil
}

// located serves r here, or proxies it to the node serving it; it
// reports whether the caller should serve it.
func (h *Handler) located(w http.ResponseWriter, r *http.Request, locate locator) bool {
	if locate == nil || !h.svc.Clustered() {
		return true
	}
	err := locate(h, r)
	if err == nil {
		return true
	}
	var elsewhere *service.ElsewhereError
	if !errors.As(err, &elsewhere) || leaderproxy.Proxied(r) {
		fail(w, err)
		return false
	}
	// The receiving node's front end reads the tenant from the path again
	// (it ignores the header this node's front end set).
	out := r.Clone(r.Context())
	prefix := "/_tenant/" + tenant(r)
	out.URL.Path = prefix + r.URL.Path
	if r.URL.RawPath != "" {
		out.URL.RawPath = prefix + r.URL.RawPath
	}
	out.Header.Del(tenantHeader)
	leaderproxy.Serve(w, out, elsewhere.URL, h.log, func(w http.ResponseWriter, err error) {
		fail(w, fmt.Errorf("%w: node %d: %w", service.ErrUnavailable, elsewhere.Node, err))
	})
	return false
}
