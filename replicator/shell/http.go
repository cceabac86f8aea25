package shell

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/transport"
)

// Mounter is where the shell mounts its admin endpoints and metrics (the
// node's HTTP handler, broker/httpapi.Handler).
type Mounter interface {
	Handle(pattern string, h http.Handler)
	Register(c prometheus.Collector) error
}

// AdminPath is the prefix of the replication admin endpoints:
//
//	GET  /_api/replication                          status (Status)
//	POST /_api/replication/links/{peer}/down|up     cut or restore a link
//	POST /_api/replication/regions/{region}/evict   evict a region (durably)
const AdminPath = "/_api/replication"

// Mount registers the admin endpoints and the metrics collector on m. A
// nil shell mounts nothing.
func (s *Shell) Mount(m Mounter) error {
	if s == nil {
		return nil
	}
	m.Handle("GET "+AdminPath, http.HandlerFunc(s.serveStatus))
	m.Handle("POST "+AdminPath+"/links/{peer}/{state}", http.HandlerFunc(s.serveLink))
	m.Handle("POST "+AdminPath+"/regions/{region}/evict", http.HandlerFunc(s.serveEvict))
	return m.Register(newCollector(s))
}

func (s *Shell) serveStatus(w http.ResponseWriter, _ *http.Request) {
	st, err := s.Status()
	if err != nil {
		respond(w, http.StatusServiceUnavailable, nil, err)
		return
	}
	respond(w, http.StatusOK, st, nil)
}

func (s *Shell) serveLink(w http.ResponseWriter, r *http.Request) {
	peer, state := r.PathValue("peer"), r.PathValue("state")
	if state != "up" && state != "down" {
		respond(w, http.StatusBadRequest, nil, fmt.Errorf("link state %q: want up or down", state))
		return
	}
	if err := s.SetLinkDown(peer, state == "down"); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, transport.ErrUnknownPeer) {
			status = http.StatusNotFound
		}
		respond(w, status, nil, err)
		return
	}
	for _, l := range s.transport.Links() {
		if l.Peer == peer {
			respond(w, http.StatusOK, l, nil)
			return
		}
	}
}

func (s *Shell) serveEvict(w http.ResponseWriter, r *http.Request) {
	if err := s.Evict(r.PathValue("region")); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, replicator.ErrUnknownRegion) {
			status = http.StatusNotFound
		}
		respond(w, status, nil, err)
		return
	}
	respond(w, http.StatusOK, map[string][]string{"evicted": s.Evicted()}, nil)
}

// respond writes the ArangoDB-style envelope the HTTP API uses.
func respond(w http.ResponseWriter, status int, result any, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"error": err != nil, "code": status}
	if err != nil {
		body["errorNum"] = status
		body["errorMessage"] = err.Error()
	} else {
		body["result"] = result
	}
	_ = json.NewEncoder(w).Encode(body)
}
