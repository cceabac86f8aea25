package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/causeway/causeway/internal/pebblekv"
)

// HealthCheck is the state of one part of the node for /health.
type HealthCheck struct {
	// Name names the part ("store/meta", "store/collections", "replication").
	Name string `json:"name"`
	// OK is false while the part refuses writes or has failed.
	OK bool `json:"ok"`
	// Error says why, NoSpace whether the disk is full, Since since when.
	Error   string    `json:"error,omitempty"`
	NoSpace bool      `json:"noSpace,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	// ReadOnly: reads are served, writes refused.
	ReadOnly bool `json:"readOnly,omitempty"`
}

// StoreCheck turns a Pebble store's health into a check named
// "store/"+its name.
func StoreCheck(h pebblekv.Health) HealthCheck {
	return HealthCheck{Name: "store/" + h.Name, OK: h.Writable, Error: h.Error, NoSpace: h.NoSpace,
		Since: h.Since, ReadOnly: h.Open && !h.Writable}
}

// healthChecks are the functions /health calls, each returning the checks
// of one part.
type healthChecks struct {
	mu  sync.Mutex
	fns []func() []HealthCheck
}

// AddHealth makes /health ask fn too (server adds the collections, SPOT
// and replication); the node's metadata store is always asked.
func (h *Handler) AddHealth(fn func() []HealthCheck) {
	h.checks.mu.Lock()
	defer h.checks.mu.Unlock()
	h.checks.fns = append(h.checks.fns, fn)
}

// health answers 200 {"status":"ok"} when every part accepts writes, and
// 503 {"status":"degraded"} naming the parts that do not and why (the node
// still serves what it can: reads, and writes to the parts that work).
func (h *Handler) health(w http.ResponseWriter, _ *http.Request) {
	checks := []HealthCheck{StoreCheck(h.node.StoreHealth())}
	h.checks.mu.Lock()
	fns := append([]func() []HealthCheck(nil), h.checks.fns...)
	h.checks.mu.Unlock()
	for _, fn := range fns {
		checks = append(checks, fn()...)
	}
	status, code := "ok", http.StatusOK
	failed := []HealthCheck{}
	for _, c := range checks {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		status, code = "degraded", http.StatusServiceUnavailable
	}
	ok(w, code, map[string]any{"status": status, "region": h.node.Config().Region, "checks": checks, "failed": failed})
}
