package server

import (
	"maps"
	"net/http"
	"path/filepath"
	"slices"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	colhttp "github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/spot"
)

// Options are the optional parts of a node.
type Options struct {
	// Spot configures the node's SPOT service (package spot): the region's
	// replicas it runs and where other regions' nodes listen. nil: no SPOT
	// collections on this node. Region defaults to the node's, DataDir to
	// {node data}/spot. In a region of several nodes its Members are keyed
	// by node id and the node runs only its own replica (regionspot.go).
	Spot *spot.Config
	// Collections are the collections service's options (a multi-region
	// node's bootstrap peers, service.Options.BootstrapFrom).
	Collections service.Options
	// Region makes the node one of several nodes of its region (region.go);
	// nil: a region of one node.
	Region *RegionOptions
	// Console serves the web console (package console) at /console.
	Console bool
}

// spotRuntime is a node's SPOT service, its change feed, and the HTTP
// handler that serves SPOT paths before the collections API.
type spotRuntime struct {
	svc     *spot.Service
	feed    *spot.BrokerFeed
	handler http.Handler
}

// startSpot starts the SPOT service when cfg is set and plugs it into the
// collections API (collections/httpapi.Spot); the handler it returns
// serves SPOT's own paths and hands the rest to cols. In a region of
// several nodes, geo-replicated or not, the region's group is spread over
// its nodes (regionspot.go).
func startSpot(node *broker.Node, cfg *spot.Config, cols *colhttp.Mounted, rt *regionRuntime, log *zap.Logger) (*spotRuntime, error) {
	if cfg == nil {
		return &spotRuntime{handler: cols}, nil
	}
	c, regionNodes, err := rt.spotConfig(*cfg)
	if err != nil {
		return nil, err
	}
	if c.Region == "" {
		c.Region = node.Config().Region
	}
	if c.DataDir == "" {
		c.DataDir = filepath.Join(node.Config().DataDir, "spot")
	}
	if c.ReserveBytes == 0 {
		c.ReserveBytes = node.Config().StoreReserveBytes
	}
	if c.DiskFS == nil {
		c.DiskFS = node.PebbleOptions().FS // the fault injector of tests, or nil
	}
	if wan := node.Config().WAN; c.HTTPClient == nil && (wan.Latency > 0 || wan.Jitter > 0) {
		// Forwarded requests cross the same emulated WAN as replication.
		c.HTTPClient = &http.Client{Transport: spot.WANTransport(http.DefaultTransport, wan.Latency, wan.Jitter)}
	}
	if regionNodes != nil && len(c.Replicas) == 0 && node.Config().Replicated() {
		// The region's replication may run here: the change feeds wait
		// meanwhile (the members keep their recent events).
		log.Warn("this node of a geo-replicated region is not a member of its region's SPOT group: while it runs the region's replication, the SPOT change feeds other regions read are not published (make every node that can run it a member, up to 5)",
			zap.Uint64s("members", slices.Sorted(maps.Keys(c.Members))))
	}
	feed := spot.NewBrokerFeed(node, log)
	regular := func(r spot.Ref) bool {
		_, err := cols.Service.Collection(service.Ref{Tenant: r.Tenant, Fabric: r.Fabric, Collection: r.Collection})
		return err == nil
	}
	// A pinned fabric's SPOT collections are homed and looked up in its
	// regions only (geo-fabrics).
	fabricRegions := func(tenant, fabric string) []string {
		if fi, ok := node.Fabric(tenant, fabric); ok && fi.Pinned {
			return fi.Regions
		}
		return nil
	}
	svc, err := spot.Open(c, log, spot.Options{Feed: feed, Mirror: feed, Regular: regular, RegionNodes: regionNodes,
		FabricRegions: fabricRegions})
	if err != nil {
		feed.Close()
		return nil, err
	}
	cols.SetSpot(spot.NewCollectionsHook(svc))
	return &spotRuntime{svc: svc, feed: feed, handler: spot.NewHandler(svc, cols)}, nil
}

// close stops the replicas, then the feed (it publishes what they
// applied). Call it after the HTTP server stopped, before the node closes.
func (s *spotRuntime) close() error {
	if s.svc == nil {
		return nil
	}
	err := s.svc.Close()
	s.feed.Close()
	return err
}
