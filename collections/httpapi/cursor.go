package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/aql"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
)

// cursorJSON is ArangoDB's cursor response.
type cursorJSON struct {
	Result      []json.RawMessage `json:"result"`
	HasMore     bool              `json:"hasMore"`
	ID          string            `json:"id,omitempty"`
	Count       *int64            `json:"count,omitempty"`
	NextBatchID string            `json:"nextBatchId,omitempty"`
	Extra       service.Extra     `json:"extra"`
	Cached      bool              `json:"cached"`
	Error       bool              `json:"error"`
	Code        int               `json:"code"`
}

func respondBatch(w http.ResponseWriter, status int, b service.Batch) {
	if b.Result == nil {
		b.Result = []json.RawMessage{}
	}
	if b.Extra.Warnings == nil {
		b.Extra.Warnings = []aql.Warning{}
	}
	writeJSON(w, status, cursorJSON{Result: b.Result, HasMore: b.HasMore, ID: b.ID, Count: b.Count, NextBatchID: b.NextBatchID, Extra: b.Extra, Code: status})
}

func (h *Handler) createCursor(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	in, err := cursorRequestInput(body)
	if err != nil {
		fail(w, err)
		return
	}
	co, err := cursorOptionsInput(body)
	if err != nil {
		fail(w, err)
		return
	}
	req := service.QueryRequest{Query: in.query, Params: in.params, BatchSize: in.batchSize, TTL: in.ttl}
	var b service.Batch
	switch {
	case aql.IsAQL(in.query):
		b, err = h.svc.QueryAQL(tenant(r), fabric(r), req, co)
	case co.FullCount:
		err = fmt.Errorf("%w: options.fullCount is for AQL queries (SQL: run a COUNT(*) query)", service.ErrBadRequest)
	default:
		if h.spot != nil {
			if q, perr := query.Parse(in.query); perr == nil && h.spot.Owns(r, tenant(r), fabric(r), q.Collection) {
				h.spotQuery(w, r, q, in)
				return
			}
		}
		if co.Count {
			b, err = h.svc.QueryCounted(tenant(r), fabric(r), req)
		} else {
			b, err = h.svc.Query(tenant(r), fabric(r), req)
		}
	}
	if err != nil {
		failQuery(w, err)
		return
	}
	respondBatch(w, http.StatusCreated, b)
}

func (h *Handler) nextBatch(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.NextBatch(tenant(r), fabric(r), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	respondBatch(w, http.StatusOK, b)
}

func (h *Handler) deleteCursor(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.svc.DeleteCursor(tenant(r), fabric(r), id); err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusAccepted, map[string]string{"id": id})
}

func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	in, err := cursorRequestInput(body)
	if err != nil {
		fail(w, err)
		return
	}
	if aql.IsAQL(in.query) {
		h.explainAQL(w, r, in)
		return
	}
	plan, err := h.svc.Explain(tenant(r), fabric(r), in.query, in.params)
	if err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, map[string]any{"plan": plan})
}

// simpleAll is ArangoDB's PUT /_api/simple/all: every document of a
// collection through a cursor, with optional skip and limit.
func (h *Handler) simpleAll(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	obj, ok := body.(map[string]any)
	if !ok {
		fail(w, fmt.Errorf("%w: want an object {\"collection\": ...}", service.ErrBadRequest))
		return
	}
	name, _ := obj["collection"].(string)
	if err := collections.ValidateCollectionName(name); err != nil {
		fail(w, err)
		return
	}
	var skip, limit, batch int64 = 0, 1 << 53, 0
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"skip", &skip}, {"limit", &limit}, {"batchSize", &batch}} {
		if v, ok := obj[f.name]; ok && v != nil {
			n, err := integer(v, f.name)
			if err != nil || n < 0 || n > 1<<53 {
				fail(w, fmt.Errorf("%w: %s must be a non-negative integer", service.ErrBadRequest, f.name))
				return
			}
			*f.dst = n
		}
	}
	// The name is letters, digits, '_' and '-': safe between backticks.
	q := "SELECT * FROM `" + name + "` ORDER BY _key LIMIT ?, ?"
	params := []any{json.Number(fmt.Sprint(skip)), json.Number(fmt.Sprint(limit))}
	b, err := h.svc.Query(tenant(r), fabric(r), service.QueryRequest{Query: q, Params: paramsOf(params), BatchSize: int(batch)})
	if err != nil {
		fail(w, err)
		return
	}
	respondBatch(w, http.StatusCreated, b)
}
