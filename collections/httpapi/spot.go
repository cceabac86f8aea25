package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
)

// Spot is the seam to SPOT collections: package spot implements it and
// server sets it (SetSpot). When set, a request naming one
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
	// ScanDocs calls each with every document of a SPOT collection in key
	// order, read linearizably page by page.
	// r carries the caller's credentials for forwarding to the home region.
	ScanDocs(r *http.Request, tenant, fabric, collection string, each func(doc []byte) error) error
}

// maxSpotQueryDocs bounds the documents one query over a SPOT collection
// reads, and maxSpotQueryRows the rows it answers: such queries read the
// Raft group's state, not a local view, and answer in one batch.
const (
	maxSpotQueryDocs = 200_000
	maxSpotQueryRows = 10_000
)

// spotQuery answers POST /cursor for a query whose FROM names a SPOT
// collection: the same parser, planner and executor as every collection,
// over documents read from the Raft group (a full scan: SPOT collections
// have no secondary indexes), answered in one batch (hasMore is false).
func (h *Handler) spotQuery(w http.ResponseWriter, r *http.Request, q *query.Query, in cursorInput) {
	b, err := q.Bind(in.params)
	if err != nil {
		fail(w, fmt.Errorf("%w: %v", service.ErrBadRequest, err))
		return
	}
	var docs [][]byte
	err = h.spot.ScanDocs(r, tenant(r), fabric(r), q.Collection, func(doc []byte) error {
		if len(docs) == maxSpotQueryDocs {
			return fmt.Errorf("%w: a query over a SPOT collection reads at most %d documents", service.ErrBadRequest, maxSpotQueryDocs)
		}
		docs = append(docs, doc)
		return nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	rows := b.Plan(nil).Run(&sliceIter{docs: docs}, 0)
	out := cursorJSON{Result: []json.RawMessage{}, Code: http.StatusCreated}
	for {
		row, ok, err := rows.Next()
		if err != nil {
			fail(w, fmt.Errorf("%w: %v", service.ErrBadRequest, err))
			return
		}
		if !ok {
			break
		}
		if len(out.Result) == maxSpotQueryRows {
			fail(w, fmt.Errorf("%w: a query over a SPOT collection answers at most %d rows; add LIMIT", service.ErrBadRequest, maxSpotQueryRows))
			return
		}
		out.Result = append(out.Result, append(json.RawMessage(nil), row...))
	}
	writeJSON(w, http.StatusCreated, out)
}

// sliceIter serves documents from memory to the query executor.
type sliceIter struct {
	docs [][]byte
	i    int
}

func (it *sliceIter) Next() ([]byte, bool, error) {
	if it.i == len(it.docs) {
		return nil, false, nil
	}
	it.i++
	return it.docs[it.i-1], true, nil
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
