package spot

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/causeway/causeway/collections/service"
)

// CollectionsHook plugs SPOT collections into the collections HTTP API
// (it implements collections/httpapi.Spot): that API hands it requests for
// SPOT collections and the creation of collections with "isSpot": true.
type CollectionsHook struct {
	h *Handler
}

// NewCollectionsHook returns the hook over svc. Its handler has no next:
// a request it does not serve is answered "not available for SPOT
// collections", never handed back to the collections API.
func NewCollectionsHook(svc *Service) *CollectionsHook {
	return &CollectionsHook{h: NewHandler(svc, nil)}
}

// Owns reports whether the collection is a SPOT collection.
func (k *CollectionsHook) Owns(r *http.Request, tenant, fabric, collection string) bool {
	return k.h.svc.IsSpot(r.Context(), Ref{Tenant: tenant, Fabric: fabric, Collection: collection})
}

// ScanDocs calls each with every document of a SPOT collection in key
// order; each page is a linearizable read.
func (k *CollectionsHook) ScanDocs(r *http.Request, tenant, fabric, collection string, each func(doc []byte) error) error {
	cred := r.Header.Get("Authorization")
	if cred == "" && r.URL.Query().Get("token") != "" {
		cred = "Bearer " + r.URL.Query().Get("token")
	}
	ctx := WithCredential(r.Context(), cred)
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: collection}
	after := ""
	for {
		page, err := k.h.svc.List(ctx, ref, after, MaxListDocs)
		if err != nil {
			return err
		}
		for _, d := range page.Docs {
			if err := each(d); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		after = page.Next
	}
}

// ServeHTTP serves a request for a SPOT collection.
func (k *CollectionsHook) ServeHTTP(w http.ResponseWriter, r *http.Request) { k.h.ServeHTTP(w, r) }

// CreateCollection creates a SPOT collection from the decoded body of
// POST /_fabric/{fabric}/_api/collection: "name", "homeRegion" (default
// this region; it never changes), "keyValue".
func (k *CollectionsHook) CreateCollection(w http.ResponseWriter, r *http.Request, body map[string]any) {
	var spec CollectionSpec
	name, ok := body["name"].(string)
	if !ok {
		fail(w, fmt.Errorf("%w: name must be a string", ErrBadRequest))
		return
	}
	spec.Name = name
	switch home := body["homeRegion"].(type) {
	case nil:
	case string:
		spec.Home = home
	default:
		fail(w, fmt.Errorf("%w: homeRegion must be a string", ErrBadRequest))
		return
	}
	switch kv := body["keyValue"].(type) {
	case nil:
	case bool:
		spec.KeyValue = kv
	default:
		fail(w, fmt.Errorf("%w: keyValue must be a boolean", ErrBadRequest))
		return
	}
	info, err := k.h.svc.CreateCollection(WithCredential(r.Context(), r.Header.Get("Authorization")), tenantOf(r), r.PathValue("fabric"), spec)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, describeCollection(info))
}

// collectionAnswer describes a SPOT collection the way the collections API
// describes collections, with isSpot and homeRegion.
type collectionAnswer struct {
	Error      bool   `json:"error"`
	Code       int    `json:"code"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     int    `json:"status"`
	Type       int    `json:"type"`
	IsSystem   bool   `json:"isSystem"`
	GloballyID string `json:"globallyUniqueId"`
	KeyValue   bool   `json:"keyValue,omitempty"`
	IsSpot     bool   `json:"isSpot"`
	HomeRegion string `json:"homeRegion"`
	Stream     string `json:"stream"`
}

func describeCollection(c CollectionInfo) collectionAnswer {
	return collectionAnswer{
		Code: http.StatusOK, ID: strconv.FormatUint(c.ID, 10), Name: c.Name, Status: 3, Type: 2,
		IsSystem: len(c.Name) > 0 && c.Name[0] == '_', GloballyID: c.Tenant + "/" + c.Fabric + "/" + c.Name,
		KeyValue: c.KeyValue, IsSpot: true, HomeRegion: c.Home, Stream: service.ChangeFeedStream(c.Name),
	}
}
