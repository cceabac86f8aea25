package server

import (
	"path/filepath"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/streamworkers"
)

// startStreamWorkers opens the node's stream-worker runner (its
// checkpoints in {data}/streamworkers), mounts its HTTP API and metrics
// on h and starts it. Close it after the HTTP server stopped and before
// the collections close (its workers write to them).
func startStreamWorkers(node *broker.Node, cols *service.Service, h *httpapi.Handler, log *zap.Logger) (*streamworkers.Runner, error) {
	cfg := node.Config()
	r, err := streamworkers.Open(node, cols, log, streamworkers.Options{
		Dir:          filepath.Join(cfg.DataDir, "streamworkers"),
		Pebble:       node.PebbleOptions(),
		ReserveBytes: cfg.StoreReserveBytes,
	})
	if err != nil {
		return nil, err
	}
	r.Mount(h)
	if err := h.Register(r.Collector()); err != nil {
		_ = r.Close()
		return nil, err
	}
	r.Start()
	return r, nil
}
