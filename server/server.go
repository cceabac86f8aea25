// Package server is the composition root of one running node: it assembles
// the broker (streams), the replicator, collections, SPOT and, in a region
// of several nodes, the node's part in its region's metadata group
// (region.go) into a node, its WebSocket and HTTP front ends on one
// listener, and graceful shutdown in the right order (stop accepting, flush
// connections, close storage). cmd/causeway and end-to-end tests both start
// nodes through it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/broker/kafka"
	"github.com/causeway/causeway/broker/limits"
	"github.com/causeway/causeway/broker/ws"
	colhttp "github.com/causeway/causeway/collections/httpapi"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/server/authrepl"
	"github.com/causeway/causeway/server/cluster"
	"github.com/causeway/causeway/server/kafkarepl"
	"github.com/causeway/causeway/spot"
	"github.com/causeway/causeway/streamworkers"
)

// Server is a running node with its listeners.
type Server struct {
	Node *broker.Node
	HTTP *httpapi.Handler
	ws   *ws.Server
	// Kafka is the Kafka listener, nil unless Config.KafkaAddr is set.
	Kafka *kafka.Server
	cols  *colhttp.Mounted
	Repl  *shell.Shell // geo-replication of a node of its own, nil for a single-region node
	// Standby is the geo-replication of a node in a region of several
	// nodes (it runs on the node leading the region's journals), nil
	// otherwise.
	Standby *shell.Standby
	// geoFabrics runs pinned fabrics' domains (nil without peers or in a
	// region of several nodes).
	geoFabrics *geoFabrics
	hs         *http.Server
	ln         net.Listener
	log        *zap.Logger
	done       chan error

	// Auth authenticates and authorizes every request (broker/auth).
	Auth   *auth.Service
	tls    *tls.Config // nil: plain TCP
	limits *limits.Metrics

	// Spot is the SPOT service (package spot), nil unless configured.
	Spot *spot.Service
	spot *spotRuntime
	// workers runs the region's stream workers (streamworkers.go).
	workers *streamworkers.Runner

	region *regionRuntime // nil: a region of one node (region.go)
}

// Start opens the node and serves HTTP and WebSocket on cfg.HTTPAddr (use
// port 0 for an ephemeral port; Addr tells which).
func Start(cfg broker.Config, logger *zap.Logger) (*Server, error) {
	return StartWith(cfg, logger, Options{})
}

// StartWith is Start with the optional parts of a node (spot.go).
func StartWith(cfg broker.Config, logger *zap.Logger, opts Options) (*Server, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	var streams *cluster.Streams
	var colRegion *collectionsRegion // regioncollections.go
	if dataPathOn(opts.Region) {
		streams = cluster.New()
		cfg.Cluster = streams
		colRegion = newCollectionsRegion()
		if cfg.Replicated() { // regiongeo.go
			streams.GlobalGroup, colRegion.unitGroup = geoGroup, geoGroup
		}
	}
	node, err := broker.Open(cfg, logger)
	if err != nil {
		return nil, err
	}
	rt, err := newRegion(opts.Region, node.Config(), logger)
	if err != nil {
		_ = node.Close()
		return nil, err
	}
	if rt != nil {
		rt.streams, rt.collections = streams, colRegion
	}
	ln, err := net.Listen("tcp", node.Config().HTTPAddr)
	if err != nil {
		_ = node.Close()
		return nil, fmt.Errorf("server: listen %s: %w", node.Config().HTTPAddr, err)
	}
	sec, tlsCfg, err := openSecurity(node, logger)
	if err == nil {
		err = rt.useAuth(sec) // regionauth.go: the region's keys in a region of several nodes
	}
	if err != nil {
		_ = ln.Close()
		_ = node.Close()
		return nil, err
	}
	lm := &limits.Metrics{}
	ln = guardListener(ln, node.Config().Limits.MaxConnsPerIP, lm, tlsCfg)
	wsrv := ws.New(node)
	h := httpapi.New(node, wsrv)
	h.SetGate(sec)
	sec.Mount(h)
	_ = h.Register(auth.NewCollector(sec.Metrics(), lm, prometheus.Labels{"region": node.Config().Region}))
	// Collections open first: the shell re-applies its journal tails on
	// start, and the collection payloads among them must reach them.
	colOpts := opts.Collections
	if colOpts.MaxQueryTime == 0 {
		colOpts.MaxQueryTime = node.Config().Limits.MaxQueryTime
	}
	if colOpts.MaxBatchBytes == 0 {
		colOpts.MaxBatchBytes = node.Config().Limits.MaxQueryResultBytes
	}
	// Geo-replication in a region of several nodes carries streams, Kafka
	// topic events, collections and key events (kept in the region's map
	// too: authrepl.Attach, regionauth.go): a collection's streams are in
	// the region's geo group, so the node running the region's
	// replication serves it (regiongeo.go).
	geoCluster := streams != nil && cfg.Replicated()
	if colRegion != nil {
		colOpts.Cluster = colRegion
	}
	cols, err := colhttp.OpenWith(node, colOpts)
	if err != nil {
		_ = ln.Close()
		_ = node.Close()
		return nil, err
	}
	// Kafka topic metadata is fabric-wide whether or not this node serves
	// Kafka: its events reach every region.
	topics := kafka.NewTopicMeta(node, logger)
	// Collection payloads are applied in batches (catch-up speed).
	replOpts := shell.Options{
		BatchKinds: map[shell.Kind]shell.BatchApplyFunc{service.ReplicationKind: cols.Service.ApplyReplicatedBatch},
		Kinds:      kafkarepl.Kinds(topics, authrepl.Kinds(sec, nil)),
		Engine:     replicator.Config{JoinTimeout: cfg.JoinTimeout}}
	// A node of its own runs its region's replication; in a region of
	// several nodes the node leading the journals does (regiongeo.go).
	var repl *shell.Shell
	var standby *shell.Standby
	var geoFab *geoFabrics
	if geoCluster {
		if standby, err = shell.NewStandby(node, logger, replOpts); err == nil {
			err = standby.Mount(h)
		}
	} else {
		// Geo-fabrics: pinned fabrics replicate in their lists' domains
		// (geofabrics.go).
		if cfg.Replicated() {
			if geoFab, err = newGeoFabrics(node, cols.Service, logger, replOpts); err == nil {
				replOpts.Mux, replOpts.Kinds = geoFab.mux, shell.WithKind(replOpts.Kinds, shell.KindFabricMeta, geoFab.apply)
			}
		}
		if err == nil {
			if repl, err = shell.Start(node, logger, replOpts); err == nil {
				err = repl.Mount(h)
			}
		}
		if err == nil && repl != nil && geoFab != nil {
			err = geoFab.start(repl, h)
		}
	}
	if err != nil {
		_ = geoFab.close()
		_ = repl.Close()
		_ = cols.Close()
		_ = ln.Close()
		_ = node.Close()
		return nil, err
	}
	var replication interface {
		service.Replication
		authrepl.Replication
		Health() shell.Health
	}
	switch {
	case standby != nil:
		replication = standby
		rt.geo = newRegionGeo(standby, node.Config().Regions(), len(opts.Region.Meta.Bootstrap), logger)
	case repl != nil:
		replication = repl
	}
	if geoFab != nil {
		cols.AttachReplication(geoFab) // a pinned fabric's collections replicate in its domain
	} else if replication != nil {
		cols.AttachReplication(replication)
	}
	if replication != nil {
		authrepl.Attach(sec, replication)
		kafkarepl.Attach(topics, replication)
	}
	// SPOT's region group is spread over the region's nodes, geo-replicated
	// or not (regionspot.go); its change feed is a global stream there.
	sp, err := startSpot(node, opts.Spot, cols, rt, logger)
	if err != nil {
		_ = cols.Close()
		_ = ln.Close()
		_ = node.Close()
		return nil, err
	}
	h.SetExtra(sp.handler)
	geoFab.setSpot(sp.svc) // a list change keeps the homes of the fabric's SPOT collections
	workers, err := startStreamWorkers(node, cols.Service, h, logger)
	if err != nil {
		_ = sp.close()
		_ = cols.Close()
		_ = ln.Close()
		_ = node.Close()
		return nil, err
	}
	rt.mount(h)
	addHealthChecks(h, cols, replication, sp.svc)
	s := &Server{
		Node: node, HTTP: h, ws: wsrv, cols: cols, ln: ln, log: logger, Auth: sec, tls: tlsCfg, limits: lm,
		spot: sp, Spot: sp.svc, region: rt, workers: workers,
		hs: &http.Server{Handler: withConsole(opts.Console, rt.front(h)), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
			IdleTimeout: 2 * time.Minute},
		done: make(chan error, 1),
	}
	s.Repl, s.Standby, s.geoFabrics = repl, standby, geoFab
	go func() {
		err := s.hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	if addr := node.Config().KafkaAddr; addr != "" {
		if s.Kafka, err = startKafka(node, addr, logger, s.Auth, s.limits, s.tls, topics); err != nil {
			_ = s.hs.Close()
			_ = workers.Close()
			_ = sp.close()
			_ = cols.Close()
			_ = node.Close()
			return nil, err
		}
	}
	// The region's metadata group starts once the node serves: the
	// region's other nodes ask this one while they start.
	if err := rt.start(s.URL(), s.KafkaAddr()); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), node.Config().ShutdownGrace)
		defer cancel()
		_ = s.Shutdown(ctx)
		return nil, err
	}
	logger.Info("serving", zap.String("http", ln.Addr().String()))
	return s, nil
}

// Addr is the address HTTP and WebSocket are served on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is "http://" + Addr ("https://" with TLS).
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Done reports the HTTP server's exit.
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting connections, closes WebSocket connections after
// flushing what they have queued (acks of durable messages), then closes
// the node, which flushes logs and cursors. Nothing acknowledged is lost.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if err := s.hs.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("server: http shutdown: %w", err))
	}
	if s.Kafka != nil {
		if err := s.Kafka.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.ws.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("server: websocket shutdown: %w", err))
	}
	// The node leaves its region's metadata group before its storage
	// closes (its heartbeats stop; the group's other nodes fence it).
	s.region.close()
	// Stream workers stop before the collections and streams they write.
	if err := s.workers.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.spot.close(); err != nil {
		errs = append(errs, err)
	}
	// The shell closes first: it applies what it journaled, collection
	// ops included, while the collections are still open; the domains of
	// pinned fabrics before it (it owns the transport).
	if err := s.geoFabrics.close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Repl.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.cols.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Node.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// startKafka starts the Kafka listener on addr, with SASL logins when
// sec is on, TLS when tlsCfg is set and the per-address connection bound.
func startKafka(node *broker.Node, addr string, logger *zap.Logger, sec *auth.Service, lm *limits.Metrics, tlsCfg *tls.Config,
	topics *kafka.TopicMeta) (*kafka.Server, error) {
	k, err := kafka.New(node, kafka.Config{MaxRequestBytes: node.Config().MaxKafkaRequestBytes}, logger)
	if err != nil {
		return nil, err
	}
	k.SetTopicMeta(topics)
	k.SetAuth(sec)
	k.SetLimitMetrics(lm)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kafka: listen %s: %w", addr, err)
	}
	k.ListenOn(guardListener(ln, node.Config().Limits.MaxConnsPerIP, lm, tlsCfg))
	return k, nil
}

// KafkaAddr is the address the Kafka protocol is served on ("" when off).
func (s *Server) KafkaAddr() string {
	if s.Kafka == nil {
		return ""
	}
	return s.Kafka.Addr()
}

// openSecurity opens the authentication service over the node's metadata
// store and loads (or, in dev mode, generates) the TLS configuration.
func openSecurity(node *broker.Node, logger *zap.Logger) (*auth.Service, *tls.Config, error) {
	cfg := node.Config()
	sec, err := auth.New(cfg.Auth, node.MetaKV("auth"), auth.Options{Logger: logger, MaxHTTPBodyBytes: cfg.Limits.MaxHTTPBodyBytes})
	if err != nil {
		return nil, nil, err
	}
	tlsCfg, err := cfg.TLS.Server(cfg.DataDir, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return sec, tlsCfg, nil
}

// guardListener bounds ln's connections per client address and adds TLS
// when tlsCfg is set.
func guardListener(ln net.Listener, perIP int, m *limits.Metrics, tlsCfg *tls.Config) net.Listener {
	ln = limits.NewListener(ln, perIP, m)
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return ln
}
