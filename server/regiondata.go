package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/region/ship"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/server/cluster"
)

// regionData is the data path of a node in a region of several nodes: its
// persistent streams are the region's (broker.Cluster, package cluster),
// replicated by log shipping (region/ship) served on the node's data
// address.
type regionData struct {
	streams *cluster.Streams
	ship    *ship.Manager
	srv     *http.Server
	log     *zap.Logger
}

// dataPathOn says whether a node of a region of several nodes serves the
// region's streams through the data path: not on a metadata-only node.
func dataPathOn(opts *RegionOptions) bool {
	return opts != nil && !opts.MetadataOnly
}

// startData starts the node's log shipping once its metadata group runs,
// serving fetches on the data address, and gives the broker its streams.
func startData(streams *cluster.Streams, g *meta.Group, cfg meta.Config, nc broker.Config, log *zap.Logger) (*regionData, error) {
	ln, err := net.Listen("tcp", cfg.Addrs.Data)
	if err != nil {
		return nil, fmt.Errorf("server: listen on the region data address %s: %w", cfg.Addrs.Data, err)
	}
	dir := filepath.Join(nc.DataDir, "region", "units")
	streamOpts := nc.SegmentOptions()
	m, err := ship.NewManager(ship.Config{
		Dir:     func(id region.UnitID) string { return filepath.Join(dir, url.PathEscape(string(id))) },
		Segment: streamOpts,
		SegmentFor: func(id region.UnitID) segment.Options {
			opts := streamOpts
			if strings.HasPrefix(string(id), "journal:") {
				return shell.JournalSegmentOptions(opts)
			}
			if name, ok := cluster.StreamOf(id); ok && strings.HasPrefix(name.Name, naming.OpLogPrefix) {
				// A collection's op log is trimmed by its collection, as
				// on a node of its own (broker.openStream).
				opts.RetentionBytes, opts.RetentionAge = 0, 0
			}
			return opts
		},
		Secret: cfg.Secret,
		Logger: log.Named("ship"),
	}, g)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	d := &regionData{streams: streams, ship: m, log: log,
		srv: &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("region data listener stopped", zap.Error(err))
		}
	}()
	streams.Start(g, m)
	return d, nil
}

// close stops serving the region's streams here, then log shipping.
func (d *regionData) close() {
	if d == nil {
		return
	}
	d.streams.Stop()
	_ = d.srv.Close()
	d.ship.Close()
}
