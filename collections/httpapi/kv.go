package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/collections/store"
)

func paramsOf(positional []any) query.Params { return query.Params{Positional: positional} }

// kvRef returns the request's collection when it is a key/value one.
func (h *Handler) kvRef(r *http.Request) (service.Ref, error) {
	rf := ref(r, "collection")
	info, err := h.svc.Collection(rf)
	if err != nil {
		return rf, err
	}
	if !info.KeyValue {
		return rf, fmt.Errorf("%w: %s", service.ErrNotKeyValue, rf.Collection)
	}
	return rf, nil
}

// createKV is GDN's POST /_api/kv/{collection}: a key/value collection,
// with "expiration" (query string or body) and an optional default "ttl"
// in seconds (body).
func (h *Handler) createKV(w http.ResponseWriter, r *http.Request) {
	if _, err := boolParam(r, "expiration", false); err != nil {
		fail(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	spec := service.CollectionSpec{Name: r.PathValue("collection"), KeyValue: true}
	if body != nil {
		obj, ok := body.(map[string]any)
		if !ok {
			fail(w, fmt.Errorf("%w: want an object", service.ErrBadRequest))
			return
		}
		if err := checkFields("key/value collection", obj, kvCollectionFields); err != nil {
			fail(w, err)
			return
		}
		if t, ok := obj["ttl"]; ok && t != nil {
			if spec.TTLSeconds, err = integer(t, "ttl"); err != nil {
				fail(w, err)
				return
			}
		}
	}
	info, err := h.svc.CreateCollection(tenant(r), fabric(r), spec)
	if err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, describe(info))
}

func (h *Handler) listKV(w http.ResponseWriter, r *http.Request) {
	h.listFiltered(w, r, func(c store.CollectionInfo) bool { return c.KeyValue })
}

func (h *Handler) dropKV(w http.ResponseWriter, r *http.Request) {
	rf, err := h.kvRef(r)
	if err != nil {
		fail(w, err)
		return
	}
	if err := h.svc.DropCollection(rf); err != nil {
		fail(w, err)
		return
	}
	result(w, http.StatusOK, map[string]string{"name": rf.Collection})
}

func (h *Handler) putKV(w http.ResponseWriter, r *http.Request) {
	rf, err := h.kvRef(r)
	if err != nil {
		fail(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	entries, array, err := kvEntriesInput(body, h.svc.Now())
	if err != nil {
		fail(w, err)
		return
	}
	ws := make([]service.Write, len(entries))
	for i, e := range entries {
		ws[i] = service.Write{Kind: service.Put, Key: e.key, Doc: map[string]any{"value": e.value}, ExpiresAt: e.expiresAt, NoExpiry: e.noExpiry}
	}
	results, err := h.svc.Write(rf, ws)
	if err != nil {
		fail(w, err)
		return
	}
	respondWrites(w, rf.Collection, results, array, writeOptions{}, http.StatusOK)
}

func (h *Handler) getKV(w http.ResponseWriter, r *http.Request) {
	rf, err := h.kvRef(r)
	if err != nil {
		fail(w, err)
		return
	}
	entry, err := h.kvEntry(rf, r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, entry)
}

func (h *Handler) kvEntry(rf service.Ref, key string) (service.KVEntry, error) {
	doc, _, err := h.svc.Document(rf, key)
	if err != nil {
		return service.KVEntry{}, err
	}
	at, err := h.svc.ExpiresAt(rf, key)
	if err != nil {
		return service.KVEntry{}, err
	}
	var d struct {
		Value json.RawMessage `json:"value"`
	}
	_ = json.Unmarshal(doc, &d)
	return service.KVEntry{Key: key, Value: rawOrNull(d.Value), ExpireAt: service.ExpireAtSeconds(at)}, nil
}

// kvKeysRequest reads the collection and the array of keys of a
// multi-key request; on failure it has answered and ok is false.
func (h *Handler) kvKeysRequest(w http.ResponseWriter, r *http.Request) (rf service.Ref, keys []docInput, ok bool) {
	rf, err := h.kvRef(r)
	if err != nil {
		fail(w, err)
		return rf, nil, false
	}
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return rf, nil, false
	}
	keys, err = keysInput(body)
	if err != nil {
		fail(w, err)
		return rf, nil, false
	}
	return rf, keys, true
}

// getKVs is POST /_api/kv/{collection}/values with an array of keys: the
// entries of those that exist.
func (h *Handler) getKVs(w http.ResponseWriter, r *http.Request) {
	rf, keys, ok := h.kvKeysRequest(w, r)
	if !ok {
		return
	}
	out := []service.KVEntry{}
	for _, k := range keys {
		e, err := h.kvEntry(rf, k.key)
		if errors.Is(err, service.ErrDocumentNotFound) {
			continue
		}
		if err != nil {
			fail(w, err)
			return
		}
		out = append(out, e)
	}
	result(w, http.StatusOK, out)
}

func (h *Handler) deleteKV(w http.ResponseWriter, r *http.Request) {
	rf, err := h.kvRef(r)
	if err != nil {
		fail(w, err)
		return
	}
	results, err := h.svc.Write(rf, []service.Write{{Kind: service.Delete, Key: r.PathValue("key")}})
	if err != nil {
		fail(w, err)
		return
	}
	respondWrites(w, rf.Collection, results, false, writeOptions{}, http.StatusOK)
}

func (h *Handler) deleteKVs(w http.ResponseWriter, r *http.Request) {
	rf, keys, ok := h.kvKeysRequest(w, r)
	if !ok {
		return
	}
	ws := make([]service.Write, len(keys))
	for i, k := range keys {
		ws[i] = service.Write{Kind: service.Delete, Key: k.key}
	}
	results, err := h.svc.Write(rf, ws)
	if err != nil {
		fail(w, err)
		return
	}
	respondWrites(w, rf.Collection, results, true, writeOptions{}, http.StatusOK)
}

func (h *Handler) listKVKeys(w http.ResponseWriter, r *http.Request)   { h.listKVEntries(w, r, false) }
func (h *Handler) listKVValues(w http.ResponseWriter, r *http.Request) { h.listKVEntries(w, r, true) }

// listKVEntries lists keys (or entries) in key order through a cursor:
// ?offset=&limit=&batchSize=; PUT /_api/cursor/{id} fetches the next batch.
func (h *Handler) listKVEntries(w http.ResponseWriter, r *http.Request, values bool) {
	rf := ref(r, "collection")
	l := service.Listing{Values: values}
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"offset", &l.Offset}, {"limit", &l.Limit}, {"batchSize", &l.BatchSize}} {
		if *p.dst, err = intParam(r, p.name, 0); err != nil {
			fail(w, err)
			return
		}
	}
	b, err := h.svc.List(rf, l)
	if err != nil {
		fail(w, err)
		return
	}
	respondBatch(w, http.StatusOK, b)
}
