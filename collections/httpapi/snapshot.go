package httpapi

import (
	"net/http"

	"go.uber.org/zap"
)

// snapshot streams the node's collections snapshot (GET
// /_api/collections/snapshot), for a region that bootstraps from it. It is
// a path outside any fabric: with authentication on, superusers only.
func (h *Handler) snapshot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := h.svc.WriteSnapshot(w); err != nil {
		// Headers are gone: the truncated stream fails the reader's checks.
		h.log.Warn("write snapshot", zap.Error(err))
	}
}
