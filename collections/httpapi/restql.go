package httpapi

import (
	"fmt"
	"net/http"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/collections/store"
)

// savedQueryInput reads GDN's {"query": {"name", "value", "parameter"}}.
// The name comes from the path on update (nameFromPath).
func savedQueryInput(v any, nameFromPath string) (store.SavedQuery, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return store.SavedQuery{}, fmt.Errorf("%w: want {\"query\": {\"name\", \"value\", \"parameter\"}}", service.ErrBadRequest)
	}
	q, ok := obj["query"].(map[string]any)
	if !ok {
		return store.SavedQuery{}, fmt.Errorf("%w: want {\"query\": {\"name\", \"value\", \"parameter\"}}", service.ErrBadRequest)
	}
	var sq store.SavedQuery
	sq.Name = nameFromPath
	if nameFromPath == "" {
		if sq.Name, ok = q["name"].(string); !ok {
			return store.SavedQuery{}, fmt.Errorf("%w: query.name must be a string", service.ErrBadRequest)
		}
	}
	if sq.Value, ok = q["value"].(string); !ok || sq.Value == "" {
		return store.SavedQuery{}, fmt.Errorf("%w: query.value must be the query text", service.ErrBadRequest)
	}
	switch p := q["parameter"].(type) {
	case nil:
	case map[string]any:
		sq.Parameter = p
	default:
		return store.SavedQuery{}, fmt.Errorf("%w: query.parameter must be an object", service.ErrBadRequest)
	}
	return sq, nil
}

func (h *Handler) createSavedQuery(w http.ResponseWriter, r *http.Request) { h.saveQuery(w, r, true) }
func (h *Handler) updateSavedQuery(w http.ResponseWriter, r *http.Request) { h.saveQuery(w, r, false) }

func (h *Handler) saveQuery(w http.ResponseWriter, r *http.Request, create bool) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	sq, err := savedQueryInput(body, r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	saved, err := h.svc.SaveQuery(tenant(r), fabric(r), sq, create)
	if err != nil {
		fail(w, err)
		return
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	result(w, status, saved)
}

func (h *Handler) listSavedQueries(w http.ResponseWriter, r *http.Request) {
	qs, err := h.svc.SavedQueries(tenant(r), fabric(r))
	if err != nil {
		fail(w, err)
		return
	}
	result(w, http.StatusOK, qs)
}

func (h *Handler) deleteSavedQuery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.svc.DeleteSavedQuery(tenant(r), fabric(r), name); err != nil {
		fail(w, err)
		return
	}
	result(w, http.StatusOK, map[string]string{"name": name})
}

// runSavedQuery is POST /_api/restql/execute/{name} with {"bindVars",
// "batchSize"}; the next batches come from PUT /_api/restql/fetch/{id} (or
// /_api/cursor/{id}).
func (h *Handler) runSavedQuery(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	var params any
	batch := 0
	if body != nil {
		obj, ok := body.(map[string]any)
		if !ok {
			fail(w, fmt.Errorf("%w: want {\"bindVars\": {...}, \"batchSize\": n}", service.ErrBadRequest))
			return
		}
		params = obj["bindVars"]
		if b, ok := obj["batchSize"]; ok && b != nil {
			n, err := integer(b, "batchSize")
			if err != nil || n < 1 || n > 1<<31-1 {
				fail(w, fmt.Errorf("%w: batchSize must be a positive integer", service.ErrBadRequest))
				return
			}
			batch = int(n)
		}
	}
	p, err := bindVarsInput(params)
	if err != nil {
		fail(w, err)
		return
	}
	b, err := h.svc.RunSavedQuery(tenant(r), fabric(r), r.PathValue("name"), p, batch)
	if err != nil {
		fail(w, err)
		return
	}
	respondBatch(w, http.StatusCreated, b)
}
