package server

import (
	"github.com/causeway/causeway/broker/httpapi"
	colhttp "github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/spot"
)

// addHealthChecks makes /health ask the collections' store, SPOT (its
// free-space reserve) and the replication shell (the broker's metadata store is always asked): 503
// "degraded" naming them while they refuse writes (a full disk).
func addHealthChecks(h *httpapi.Handler, cols *colhttp.Mounted, repl interface{ Health() shell.Health }, sp *spot.Service) {
	h.AddHealth(func() []httpapi.HealthCheck {
		return []httpapi.HealthCheck{httpapi.StoreCheck(cols.Service.StoreHealth())}
	})
	if sp != nil {
		h.AddHealth(func() []httpapi.HealthCheck {
			if err := sp.WritesRefused(); err != nil {
				return []httpapi.HealthCheck{{Name: "spot", Error: err.Error(), NoSpace: true}}
			}
			return []httpapi.HealthCheck{{Name: "spot", OK: true}}
		})
	}
	if repl != nil {
		h.AddHealth(func() []httpapi.HealthCheck {
			hs := repl.Health()
			return []httpapi.HealthCheck{{Name: "replication", OK: hs.OK, Error: hs.Error, NoSpace: hs.NoSpace}}
		})
	}
}
