package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server/cluster"
	"github.com/causeway/causeway/server/regionapi"
)

// RegionOptions make the node one of the nodes of its region: it runs its
// replica of the region's metadata group (package region/meta), serves the
// group's internal paths and the admin view GET /_api/region/state
// (package regionapi). Nil, the default, is a region of one node as
// before: no group, no region paths, nothing else started.
//
// The data path (log shipping between the region's nodes) is not wired
// yet: every node still serves its own streams.
type RegionOptions struct {
	// Meta configures the node's part in the group: Node, Addrs.Raft,
	// Addrs.Data, Bootstrap, Peers and Secret are required (see
	// meta.Config). Region defaults to the node's region (and must equal
	// it), DataDir to the node's data directory (the group keeps
	// {data}/region), Addrs.HTTP to the node's own URL (required when the
	// node listens on an unspecified address such as 0.0.0.0) and
	// Addrs.Kafka to its Kafka listener.
	Meta meta.Config
	// MetadataOnly nodes take part in the group and serve nothing but
	// /health, /metrics and the region's paths; every other request is
	// refused with 421 (causeway dev --nodes with several regions: a
	// geo-replicated region's first node serves it, the others only vote,
	// until geo-replication combines with a region of several nodes).
	MetadataOnly bool
}

// regionRuntime is a node's part in its region; nil for a region of one
// node (every method is then a no-op).
type regionRuntime struct {
	cfg          meta.Config
	metadataOnly bool
	log          *zap.Logger
	// streams are the broker's region streams when the data path is on
	// (regiondata.go), nil otherwise; collections is the collections'
	// region then (regioncollections.go).
	streams     *cluster.Streams
	collections *collectionsRegion
	auth        *regionAuth // the region's API keys (regionauth.go), nil unless streams
	geo         *regionGeo  // the region's geo-replication (regiongeo.go), nil unless streams and peers
	node        broker.Config
	running     atomic.Pointer[regionRunning]
}

// regionRunning is the started group and the handlers that serve it.
type regionRunning struct {
	group    *meta.Group
	internal http.Handler // meta.Group.Handler: join and the nodes' state read
	api      *regionapi.Handler
	data     *regionData // nil unless the data path is on (regiondata.go)
}

// newRegion checks opts against the node's configuration and fills the
// defaults it can before anything listens; nil when opts is nil.
func newRegion(opts *RegionOptions, nc broker.Config, log *zap.Logger) (*regionRuntime, error) {
	if opts == nil {
		return nil, nil
	}
	cfg := opts.Meta
	switch {
	case cfg.Region == "":
		cfg.Region = nc.Region
	case cfg.Region != nc.Region:
		return nil, fmt.Errorf("server: region options name region %q, the node is in %q", cfg.Region, nc.Region)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = nc.DataDir
	}
	if cfg.Addrs.HTTP == "" {
		host, _, err := net.SplitHostPort(nc.HTTPAddr)
		if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) {
			return nil, fmt.Errorf("server: the node listens on %q: give the HTTP URL the region's other nodes reach it at (RegionOptions.Meta.Addrs.HTTP, --cluster-http-url)", nc.HTTPAddr)
		}
	}
	probe := cfg
	if probe.Addrs.HTTP == "" {
		probe.Addrs.HTTP = "http://" + nc.HTTPAddr // known once the node listens
	}
	if err := probe.WithDefaults().Validate(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return &regionRuntime{cfg: cfg, metadataOnly: opts.MetadataOnly, log: log, node: nc}, nil
}

// start starts the node's replica of the group (bootstrapping, joining or
// restarting: meta.Start). The HTTP server must already serve (front):
// the region's other nodes ask this one while they start too.
func (rt *regionRuntime) start(url, kafkaAddr string) error {
	if rt == nil {
		return nil
	}
	cfg := rt.cfg
	if cfg.Addrs.HTTP == "" {
		cfg.Addrs.HTTP = url
	}
	if cfg.Addrs.Kafka == "" {
		cfg.Addrs.Kafka = kafkaAddr
	}
	g, err := meta.Start(cfg, rt.log)
	if err != nil {
		return fmt.Errorf("server: start the region's metadata group: %w", err)
	}
	run := &regionRunning{group: g, internal: g.Handler(), api: regionapi.New(cfg.Region, cfg.Secret, g, rt.log.Named("region"))}
	if rt.streams != nil {
		if run.data, err = startData(rt.streams, g, cfg, rt.node, rt.log); err != nil {
			g.Close()
			return err
		}
		rt.collections.start(g, run.data.ship)
		rt.auth.start(g)
		if rt.geo != nil {
			rt.geo.start(g, run.data.ship)
		}
	}
	rt.running.Store(run)
	return nil
}

// close stops the node's replica of the group (its data stays).
func (rt *regionRuntime) close() {
	if rt == nil {
		return
	}
	if r := rt.running.Swap(nil); r != nil {
		rt.auth.stop()
		rt.geo.close() // before the journals' replicas close
		rt.collections.stop()
		r.data.close()
		r.group.Close()
	}
}

// group is the running group, nil before start and after close.
func (rt *regionRuntime) group() *meta.Group {
	if rt == nil {
		return nil
	}
	if r := rt.running.Load(); r != nil {
		return r.group
	}
	return nil
}

// mount adds the admin view to the API (behind its request gate).
func (rt *regionRuntime) mount(h *httpapi.Handler) {
	if rt == nil {
		return
	}
	running := func(serve func(*regionapi.Handler, http.ResponseWriter, *http.Request)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			run := rt.running.Load()
			if run == nil {
				regionapi.Refuse(w, http.StatusServiceUnavailable, errStarting)
				return
			}
			serve(run.api, w, r)
		})
	}
	h.Handle("GET "+regionapi.StatePath, running((*regionapi.Handler).ServeState))
	h.Handle("GET "+regionapi.ReplicasPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run := rt.running.Load()
		if run == nil || run.data == nil {
			regionapi.Refuse(w, http.StatusServiceUnavailable, errStarting)
			return
		}
		regionapi.ServeReplicas(w, run.data.ship.Statuses())
	}))
	h.Handle("POST "+regionapi.NodePath+"{id}/drain", running((*regionapi.Handler).ServeDrain))
	h.Handle("DELETE "+regionapi.NodePath+"{id}", running((*regionapi.Handler).ServeRemove))
}

var errStarting = errors.New("server: this node is not in its region's metadata group yet (starting, or stopping)")

// front serves the paths between the region's nodes, which are signed
// with the region secret and so bypass the request gate (a node holds no
// API key of its peers), and hands everything else to next: all of it, or
// on a MetadataOnly node only /health, /metrics and the admin view.
func (rt *regionRuntime) front(next http.Handler) http.Handler {
	if rt == nil {
		return next
	}
	refused := fmt.Errorf("server: node %d of region %s takes part in its region's metadata group only: streams, collections, keys and SPOT are served by another node of the region",
		rt.cfg.Node, rt.cfg.Region)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if internalRegionPath(r) {
			run := rt.running.Load()
			switch {
			case run == nil:
				regionapi.Refuse(w, http.StatusServiceUnavailable, errStarting)
			case r.URL.Path == regionapi.LeaderPath:
				run.api.ServeLeader(w, r)
			default:
				run.internal.ServeHTTP(w, r)
			}
			return
		}
		if rt.metadataOnly && !metadataOnlyServes(r) {
			regionapi.Refuse(w, http.StatusMisdirectedRequest, refused)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// internalRegionPath: a request between the region's nodes.
func internalRegionPath(r *http.Request) bool {
	switch r.URL.Path {
	case meta.JoinPath:
		return r.Method == http.MethodPost
	case meta.StatePath, regionapi.LeaderPath:
		return r.Method == http.MethodGet
	}
	return false
}

// metadataOnlyServes: what a MetadataOnly node serves besides the internal
// paths.
func metadataOnlyServes(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch r.URL.Path {
	case "/health", "/metrics", regionapi.StatePath:
		return true
	}
	return false
}

// RegionGroup is the node's replica of its region's metadata group, nil
// for a region of one node.
func (s *Server) RegionGroup() *meta.Group { return s.region.group() }
