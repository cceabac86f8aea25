package httpapi

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
)

// snapshot streams the node's collections snapshot (GET
// /_api/collections/snapshot?region=R), for region R that bootstraps from
// it: fabrics pinned to regions without R are left out. It is a path
// outside any fabric: with authentication on, superusers only.
func (h *Handler) snapshot(w http.ResponseWriter, r *http.Request) {
	region := r.URL.Query().Get("region")
	if region != "" {
		if err := naming.Validate("region", region); err != nil {
			fail(w, fmt.Errorf("%w: %v", service.ErrBadRequest, err))
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := h.svc.WriteSnapshot(w, region); err != nil {
		// Headers are gone: the truncated stream fails the reader's checks.
		h.log.Warn("write snapshot", zap.Error(err))
	}
}
