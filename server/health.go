package server

import (
	"github.com/causeway/causeway/broker/httpapi"
	colhttp "github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/replicator/shell"
)

// addHealthChecks makes /health ask the collections' store and the
// replication shell (the broker's metadata store is always asked): 503
// "degraded" naming them while they refuse writes (a full disk).
func addHealthChecks(h *httpapi.Handler, cols *colhttp.Mounted, repl *shell.Shell) {
	h.AddHealth(func() []httpapi.HealthCheck {
		return []httpapi.HealthCheck{httpapi.StoreCheck(cols.Service.StoreHealth())}
	})
	if repl != nil {
		h.AddHealth(func() []httpapi.HealthCheck {
			hs := repl.Health()
			return []httpapi.HealthCheck{{Name: "replication", OK: hs.OK, Error: hs.Error, NoSpace: hs.NoSpace}}
		})
	}
}
