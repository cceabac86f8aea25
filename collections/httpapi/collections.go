package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/collections/store"
)

// collectionJSON is a collection as ArangoDB (and GDN) describe it.
type collectionJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     int    `json:"status"`
	Type       int    `json:"type"`
	IsSystem   bool   `json:"isSystem"`
	GloballyID string `json:"globallyUniqueId"`
	KeyValue   bool   `json:"keyValue,omitempty"`
	Expiration bool   `json:"expiration,omitempty"`
	TTL        int64  `json:"ttl,omitempty"`
	Stream     string `json:"stream"`
	OpLog      string `json:"opLog"`
	Count      *int64 `json:"count,omitempty"`
	// OpLogBytes and OpLogStart describe the op log (GET only): its size
	// on disk and its first offset still stored (the ops below it were
	// trimmed).
	OpLogBytes *int64  `json:"opLogBytes,omitempty"`
	OpLogStart *uint64 `json:"opLogStart,omitempty"`
}

// statusLoaded is ArangoDB's "loaded" collection status.
const statusLoaded = 3

func describe(c store.CollectionInfo) collectionJSON {
	return collectionJSON{
		ID: strconv.FormatUint(c.ID, 10), Name: c.Name, Status: statusLoaded, Type: c.Type,
		IsSystem: len(c.Name) > 0 && c.Name[0] == '_', GloballyID: c.Tenant + "/" + c.Fabric + "/" + c.Name,
		KeyValue: c.KeyValue, Expiration: c.KeyValue, TTL: c.DefaultTTLSeconds,
		Stream: service.ChangeFeedStream(c.Name), OpLog: service.OpLogStream(c.Name),
	}
}

// collectionSpec reads POST /_api/collection: {"name", "type": 2|3|
// "document"|"edge", "keyValue", "ttl", "isSpot"}. ArangoDB's other
// options are accepted where they are moot and refused where they would
// ask for something else (bodyfields.go); an unknown attribute is refused.
func collectionSpec(v any) (service.CollectionSpec, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return service.CollectionSpec{}, fmt.Errorf("%w: want an object {\"name\": ...}", service.ErrBadRequest)
	}
	if err := checkFields("collection", obj, collectionFields); err != nil {
		return service.CollectionSpec{}, err
	}
	var spec service.CollectionSpec
	name, ok := obj["name"].(string)
	if !ok {
		return service.CollectionSpec{}, fmt.Errorf("%w: name must be a string", service.ErrBadRequest)
	}
	spec.Name = name
	switch t := obj["type"].(type) {
	case nil:
	case string:
		switch t {
		case "document":
			spec.Type = store.TypeDocument
		case "edge":
			spec.Type = store.TypeEdge
		default:
			return service.CollectionSpec{}, fmt.Errorf("%w: type %q (want document or edge)", service.ErrBadRequest, t)
		}
	default:
		n, err := integer(t, "type")
		if err != nil {
			return service.CollectionSpec{}, err
		}
		if n != store.TypeDocument && n != store.TypeEdge {
			return service.CollectionSpec{}, fmt.Errorf("%w: type %d (want 2 document or 3 edge)", service.ErrBadRequest, n)
		}
		spec.Type = int(n)
	}
	for _, flag := range []struct {
		name string
		dst  *bool
	}{{"keyValue", &spec.KeyValue}, {"isSpot", &spec.Spot}, {"spot", &spec.Spot}} {
		switch b := obj[flag.name].(type) {
		case nil:
		case bool:
			*flag.dst = *flag.dst || b
		default:
			return service.CollectionSpec{}, fmt.Errorf("%w: %s must be a boolean", service.ErrBadRequest, flag.name)
		}
	}
	if t, ok := obj["ttl"]; ok && t != nil {
		n, err := integer(t, "ttl")
		if err != nil {
			return service.CollectionSpec{}, err
		}
		spec.TTLSeconds = n
	}
	return spec, nil
}

func (h *Handler) createCollection(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, err)
		return
	}
	spec, err := collectionSpec(body)
	if err != nil {
		fail(w, err)
		return
	}
	if spec.Spot && h.spot != nil {
		h.spot.CreateCollection(w, r, body.(map[string]any))
		return
	}
	info, err := h.svc.CreateCollection(tenant(r), fabric(r), spec)
	if err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, describe(info))
}

// listCollections lists the fabric's collections; ?excludeSystem=true
// leaves out those whose name starts with '_' (arangojs asks for it).
func (h *Handler) listCollections(w http.ResponseWriter, r *http.Request) {
	excludeSystem, err := boolParam(r, "excludeSystem", false)
	if err != nil {
		fail(w, err)
		return
	}
	h.listFiltered(w, r, func(c store.CollectionInfo) bool { return !excludeSystem || !describe(c).IsSystem })
}

func (h *Handler) listFiltered(w http.ResponseWriter, r *http.Request, keep func(store.CollectionInfo) bool) {
	infos, err := h.svc.Collections(tenant(r), fabric(r))
	if err != nil {
		fail(w, err)
		return
	}
	out := []collectionJSON{}
	for _, c := range infos {
		if keep(c) {
			out = append(out, describe(c))
		}
	}
	result(w, http.StatusOK, out)
}

func (h *Handler) getCollection(w http.ResponseWriter, r *http.Request) {
	rf := ref(r, "name")
	info, err := h.svc.Collection(rf)
	if err != nil {
		fail(w, err)
		return
	}
	d := describe(info)
	if ol, err := h.svc.OpLog(rf); err == nil {
		d.OpLogBytes, d.OpLogStart = &ol.Bytes, &ol.Start
	}
	withCode(w, http.StatusOK, d)
}

func (h *Handler) countCollection(w http.ResponseWriter, r *http.Request) {
	h.count(w, r, ref(r, "name"))
}

func (h *Handler) countCollectionKV(w http.ResponseWriter, r *http.Request) {
	h.count(w, r, ref(r, "collection"))
}

func (h *Handler) count(w http.ResponseWriter, r *http.Request, rf service.Ref) {
	info, err := h.svc.Collection(rf)
	if err != nil {
		fail(w, err)
		return
	}
	n, err := h.svc.Count(rf)
	if err != nil {
		fail(w, err)
		return
	}
	d := describe(info)
	d.Count = &n
	withCode(w, http.StatusOK, d)
}

func (h *Handler) truncateCollection(w http.ResponseWriter, r *http.Request) {
	rf := ref(r, "name")
	if err := h.svc.Truncate(rf); err != nil {
		fail(w, err)
		return
	}
	h.getCollection(w, r)
}

func (h *Handler) dropCollection(w http.ResponseWriter, r *http.Request) {
	rf := ref(r, "name")
	info, err := h.svc.Collection(rf)
	if err != nil {
		fail(w, err)
		return
	}
	if err := h.svc.DropCollection(rf); err != nil {
		fail(w, err)
		return
	}
	withCode(w, http.StatusOK, map[string]string{"id": strconv.FormatUint(info.ID, 10)})
}
