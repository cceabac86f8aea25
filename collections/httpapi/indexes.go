package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/collections/store"
)

// indexJSON is an index as ArangoDB describes it.
type indexJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Fields         []string `json:"fields"`
	Unique         bool     `json:"unique"`
	Sparse         bool     `json:"sparse"`
	IsNewlyCreated *bool    `json:"isNewlyCreated,omitempty"`
}

func describeIndex(collection string, ix store.IndexInfo) indexJSON {
	return indexJSON{ID: collection + "/" + strconv.FormatUint(uint64(ix.ID), 10), Name: ix.Name, Type: "persistent", Fields: []string{ix.Field}, Sparse: true}
}

func primaryIndex(collection string) indexJSON {
	return indexJSON{ID: collection + "/0", Name: "primary", Type: "primary", Fields: []string{"_key"}, Unique: true}
}

// indexSpec reads {"type": "persistent", "fields": ["a.b"], "name": ...}.
func indexSpec(v any) (name, field string, err error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", "", fmt.Errorf("%w: want an object {\"type\": \"persistent\", \"fields\": [...]}", service.ErrBadRequest)
	}
	if err := checkFields("index", obj, indexFields); err != nil {
		return "", "", err
	}
	switch t := obj["type"]; t {
	case "persistent", "hash", "skiplist":
	default:
		return "", "", fmt.Errorf("%w: index type %v: only persistent indexes are supported", service.ErrBadRequest, t)
	}
	if u, _ := obj["unique"].(bool); u {
		return "", "", fmt.Errorf("%w: unique indexes cannot be enforced across regions without coordination", service.ErrBadRequest)
	}
	fields, ok := obj["fields"].([]any)
	if !ok || len(fields) != 1 {
		return "", "", fmt.Errorf("%w: fields must list exactly one attribute path", service.ErrBadRequest)
	}
	if field, ok = fields[0].(string); !ok {
		return "", "", fmt.Errorf("%w: fields must hold strings", service.ErrBadRequest)
	}
	if n, present := obj["name"]; present && n != nil {
		if name, ok = n.(string); !ok {
			return "", "", fmt.Errorf("%w: name must be a string", service.ErrBadRequest)
		}
	}
	return name, field, nil
}

func (h *Handler) createIndex(w http.ResponseWriter, r *http.Request) {
	rf := service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: r.URL.Query().Get("collection")}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	name, field, err := indexSpec(body)
	if err != nil {
		fail(w, err)
		return
	}
	ix, created, err := h.svc.CreateIndex(rf, name, field)
	if err != nil {
		fail(w, err)
		return
	}
	d := describeIndex(rf.Collection, ix)
	d.IsNewlyCreated = &created
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	withCode(w, status, d)
}

func (h *Handler) listIndexes(w http.ResponseWriter, r *http.Request) {
	rf := service.Ref{Tenant: tenant(r), Fabric: fabric(r), Collection: r.URL.Query().Get("collection")}
	ixs, err := h.svc.Indexes(rf)
	if err != nil {
		fail(w, err)
		return
	}
	out := []indexJSON{primaryIndex(rf.Collection)}
	ids := map[string]indexJSON{out[0].ID: out[0]}
	for _, ix := range ixs {
		d := describeIndex(rf.Collection, ix)
		out = append(out, d)
		ids[d.ID] = d
	}
	withCode(w, http.StatusOK, map[string]any{"indexes": out, "identifiers": ids})
}

func (h *Handler) getIndex(w http.ResponseWriter, r *http.Request) {
	rf := ref(r, "collection")
	ixs, err := h.svc.Indexes(rf)
	if err != nil {
		fail(w, err)
		return
	}
	id := r.PathValue("id")
	if id == "0" || id == "primary" {
		withCode(w, http.StatusOK, primaryIndex(rf.Collection))
		return
	}
	for _, ix := range ixs {
		if ix.Name == id || strconv.FormatUint(uint64(ix.ID), 10) == id {
			withCode(w, http.StatusOK, describeIndex(rf.Collection, ix))
			return
		}
	}
	fail(w, fmt.Errorf("%w: %s/%s", service.ErrIndexNotFound, rf.Collection, id))
}

func (h *Handler) dropIndex(w http.ResponseWriter, r *http.Request) {
	rf := ref(r, "collection")
	id := r.PathValue("id")
	if id == "0" || id == "primary" {
		fail(w, fmt.Errorf("%w: the primary index cannot be dropped", service.ErrBadRequest))
		return
	}
	if err := h.svc.DropIndex(rf, id); err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, map[string]string{"id": rf.Collection + "/" + id})
}
