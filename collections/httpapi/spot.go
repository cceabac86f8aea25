package httpapi

import (
	"net/http"
	"strings"
)

// Spot is the seam to SPOT collections: package spot implements it and
// broker/server sets it (SetSpot). When set, a request naming one
// collection (its documents, key/value entries, description or drop) goes
// to it when Owns says the collection is a SPOT collection, and so does
// the creation of a collection with "isSpot": true. Nothing else in this
// package knows about SPOT collections.
type Spot interface {
	// Owns reports whether the collection is a SPOT collection.
	Owns(r *http.Request, tenant, fabric, collection string) bool
	// ServeHTTP serves a request for a SPOT collection.
	http.Handler
	// CreateCollection creates a SPOT collection from the decoded body of
	// POST /collection and answers the request.
	CreateCollection(w http.ResponseWriter, r *http.Request, body map[string]any)
}

// SetSpot hands SPOT collections to s (nil: none). Call it before serving.
func (h *Handler) SetSpot(s Spot) { h.spot = s }

// serveSpot serves r through the SPOT seam when it names a SPOT
// collection, and reports whether it did.
func (h *Handler) serveSpot(w http.ResponseWriter, r *http.Request) bool {
	if h.spot == nil {
		return false
	}
	fabric, collection, ok := collectionOfPath(r.URL.Path)
	if !ok || !h.spot.Owns(r, tenant(r), fabric, collection) {
		return false
	}
	h.spot.ServeHTTP(w, r)
	return true
}

// collectionOfPath returns the fabric and collection of a path
// /_fabric/{fabric}/_api/{document|kv|collection}/{collection}[/...].
func collectionOfPath(p string) (fabric, collection string, ok bool) {
	rest, found := strings.CutPrefix(p, "/_fabric/")
	if !found {
		return "", "", false
	}
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 || parts[1] != "_api" || parts[3] == "" {
		return "", "", false
	}
	switch parts[2] {
	case "document", "kv", "collection":
		return parts[0], parts[3], true
	}
	return "", "", false
}
