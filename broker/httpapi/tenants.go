package httpapi

import (
	"fmt"
	"net/http"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

func (h *Handler) listTenants(w http.ResponseWriter, _ *http.Request) {
	ok(w, http.StatusOK, h.node.Tenants())
}

func (h *Handler) createTenant(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if err := h.node.EnsureTenant(t); err != nil {
		fail(w, err)
		return
	}
	if _, err := h.node.EnsureFabric(t, naming.SystemFabric); err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusCreated, map[string]string{"tenant": t})
}

func (h *Handler) getFabric(w http.ResponseWriter, r *http.Request) {
	// CheckNamespace finds a fabric created through another node of the
	// region too.
	if err := h.node.CheckNamespace(tenantOf(r), r.PathValue("fabric")); err != nil {
		fail(w, err)
		return
	}
	fi, found := h.node.Fabric(tenantOf(r), r.PathValue("fabric"))
	if !found {
		fail(w, fmt.Errorf("%w: %s", broker.ErrFabricNotFound, r.PathValue("fabric")))
		return
	}
	ok(w, http.StatusOK, fi)
}

// changeFabric is PUT /_fabric/{fabric}/_api/fabric {"regions": [...]}
// (or options.dcList): the pinned fabric's next region list, at its home.
func (h *Handler) changeFabric(w http.ResponseWriter, r *http.Request) {
	regions, err := fabricRegionsOf(w, r) // fabricregions.go
	if err == nil && len(regions) == 0 {
		err = fmt.Errorf("%w: the body names no region list (a fabric needs at least one region)", broker.ErrBadRequest)
	}
	if err != nil {
		fail(w, err)
		return
	}
	ctx := broker.WithCredential(r.Context(), r.Header.Get("Authorization"))
	fi, err := h.node.ChangeFabricRegions(ctx, tenantOf(r), r.PathValue("fabric"), regions)
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusOK, fi)
}

func (h *Handler) createFabric(w http.ResponseWriter, r *http.Request) {
	regions, err := fabricRegionsOf(w, r) // fabricregions.go
	if err != nil {
		fail(w, err)
		return
	}
	fi, err := h.node.CreateFabricIn(tenantOf(r), r.PathValue("fabric"), regions)
	if err != nil {
		fail(w, err)
		return
	}
	ok(w, http.StatusCreated, fi)
}
