package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/limits"
)

// Server is the Kafka listener of one node.
type Server struct {
	cfg    Config
	node   *broker.Node
	log    *zap.Logger
	topics topics
	dec    *decoders
	pids   *producerIDs
	// fetchBufs are fetched record batches' buffers, reused (fetchbufs.go).
	fetchBufs fetchBufs
	groups    *coordinator
	// cluster is the node's region of several nodes, nil for a region of
	// one node (cluster.go).
	cluster *clusterRegion
	sasl    saslConfig      // SetAuth (sasl.go)
	limits  *limits.Metrics // SetLimitMetrics (throttle.go)
	// autoCreate holds back auto-creation in a fabric of several regions.
	autoCreate *autoCreateGate

	mu     sync.Mutex
	ln     net.Listener
	conns  map[*conn]struct{}
	closed bool
	stop   chan struct{} // closed by Shutdown: long polls answer at once
	wg     sync.WaitGroup
}

// New returns a server for node; Serve or Listen starts it.
func New(node *broker.Node, cfg Config, logger *zap.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	dec, err := newDecoders()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		node:    node,
		log:     logger.Named("kafka"),
		topics:  topics{node: node, meta: NewTopicMeta(node, logger), tenant: cfg.Tenant, fabric: cfg.Fabric},
		dec:     dec,
		pids:    newProducerIDs(time.Now()),
		cluster: clusterOf(node),
		conns:   map[*conn]struct{}{},
		stop:    make(chan struct{}),
		limits:  &limits.Metrics{},
		// autoCreate only applies once a replication is attached.
		autoCreate: newAutoCreateGate(cfg.AutoCreateWait),
	}
	s.groups = newCoordinator(s, cfg, s.log.Named("groups"))
	return s, nil
}

// SetTopicMeta makes the server keep its topics in m (the node's topic
// metadata, made fabric-wide by the node's assembly) instead of its own
// single-region one. Call it before serving.
func (s *Server) SetTopicMeta(m *TopicMeta) {
	if m != nil {
		s.topics.meta = m
	}
}

// Listen starts serving on addr (port 0 picks one; Addr tells which).
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("kafka: listen %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.Serve(ln); err != nil {
			s.log.Error("kafka listener stopped", zap.Error(err))
		}
	}()
	return nil
}

// Serve accepts connections on ln until Shutdown; it returns nil then.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	s.log.Info("kafka listening", zap.String("addr", ln.Addr().String()),
		zap.String("tenant", s.cfg.Tenant), zap.String("fabric", s.cfg.Fabric))
	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return fmt.Errorf("kafka: accept: %w", err)
		}
		tempDelay = 0
		s.serveConn(nc)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) serveConn(nc net.Conn) {
	s.mu.Lock()
	if s.closed || len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.log.Warn("connection refused", zap.String("remote", nc.RemoteAddr().String()), zap.Int("limit", s.cfg.MaxConnections))
		_ = nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Addr is the listening address ("" before Serve).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting, stops reading requests, answers what was read
// (produce acks of durable messages included) and closes every connection,
// then stops the group coordinator. It waits until ctx is done at most.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	if s.ln != nil {
		_ = s.ln.Close()
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		err = fmt.Errorf("kafka: shutdown: %w", ctx.Err())
	}
	s.groups.close()
	s.dec.close()
	return err
}

// advertised returns the host and port clients should connect to.
func (s *Server) advertised(local net.Addr) (string, int32) {
	addr := s.cfg.AdvertisedAddr
	if addr == "" && local != nil {
		addr = local.String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1", 9092
	}
	var p int32
	_, _ = fmt.Sscan(port, &p)
	return host, p
}
