package regionapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
)

// NodePath is the admin endpoints that grow and shrink the region:
//
//	POST   /_api/region/nodes/{id}/drain  the controller moves the node's replicas away
//	DELETE /_api/region/nodes/{id}        the node leaves (409 while it holds replicas)
//
// Like StatePath they are admin endpoints behind the node's request gate.
const NodePath = "/_api/region/nodes/"

// Membership is what the node endpoints need of the group (meta.Group).
type Membership interface {
	Drain(ctx context.Context, id region.NodeID) error
	Remove(ctx context.Context, id region.NodeID) error
}

// MembershipAnswer is the result of a drain or a removal.
type MembershipAnswer struct {
	Node   region.NodeID `json:"node"`
	Status string        `json:"status"` // draining, or removed
}

// ServeDrain answers POST NodePath{id}/drain once the node is draining
// (GET StatePath shows its replicas move away).
func (h *Handler) ServeDrain(w http.ResponseWriter, r *http.Request) {
	h.serveMembership(w, r, "draining", func(ctx context.Context, m Membership, id region.NodeID) error { return m.Drain(ctx, id) })
}

// ServeRemove answers DELETE NodePath{id} once the node left; 409 while it
// holds a replica (drain it first). A 503 may have removed it: a retry then
// answers 404.
func (h *Handler) ServeRemove(w http.ResponseWriter, r *http.Request) {
	h.serveMembership(w, r, "removed", func(ctx context.Context, m Membership, id region.NodeID) error { return m.Remove(ctx, id) })
}

func (h *Handler) serveMembership(w http.ResponseWriter, r *http.Request, status string, change func(context.Context, Membership, region.NodeID) error) {
	m, ok := h.group.(Membership)
	if !ok {
		respond(w, http.StatusNotImplemented, nil, errors.New("regionapi: this node cannot change the region's membership"))
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		respond(w, http.StatusBadRequest, nil, fmt.Errorf("regionapi: node id %q: want a positive integer", r.PathValue("id")))
		return
	}
	if err := change(r.Context(), m, region.NodeID(id)); err != nil {
		respond(w, membershipStatus(err), nil, err)
		return
	}
	respond(w, http.StatusOK, MembershipAnswer{Node: region.NodeID(id), Status: status}, nil)
}

// membershipStatus maps a drain or removal error to its HTTP status.
func membershipStatus(err error) int {
	switch {
	case errors.Is(err, region.ErrUnknownNode) || strings.Contains(err.Error(), region.ErrUnknownNode.Error()):
		return http.StatusNotFound
	case errors.Is(err, region.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, meta.ErrRefused):
		return http.StatusConflict // holds replicas: drain it first
	default:
		return http.StatusServiceUnavailable
	}
}
