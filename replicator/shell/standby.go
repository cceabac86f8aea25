package shell

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/transport"
)

// Standby is a node's replication in a region of several nodes: the
// region's geo-replication runs on one node at a time, the one leading the
// region's journals (replicated logs, Options.Journals). The server
// activates a Shell on that node with the journals it leads and
// deactivates it when the lead moves; Standby stays for the node's life,
// routes the node's global publishes and the services' ops to the running
// Shell, and answers ErrNotLeading (nothing stored) while none runs here.
// Its methods are safe for concurrent use.
type Standby struct {
	node *broker.Node
	log  *zap.Logger
	opts Options
	self string

	mu  sync.RWMutex
	cur *Shell
	gen uint64 // activations so far
	// closedJoin is a closed channel: JoinedC while inactive.
	closedJoin chan struct{}
	// linksDown are the links to peers cut through this node's admin
	// endpoint (an emulated WAN fault): applied to the running Shell and
	// to every Shell activated here later, so a cut outlives a move of
	// the region's replication to this node.
	linksDown map[string]bool
}

// NewStandby makes node's replication standby (nil, nil when its
// configuration has no peers) and routes the node's global publishes to
// it. opts.Journals and opts.State are given to each Activate.
func NewStandby(node *broker.Node, logger *zap.Logger, opts Options) (*Standby, error) {
	cfg := node.Config()
	if !cfg.Replicated() {
		return nil, nil
	}
	if _, err := replicator.NewCodec([]byte(cfg.FabricSecret)); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	b := &Standby{node: node, log: logger, opts: opts, self: cfg.Region, closedJoin: make(chan struct{}), linksDown: map[string]bool{}}
	close(b.closedJoin)
	node.SetReplicator(b)
	return b, nil
}

// Activate starts the region's replication on this node over journals
// (one per region of the fabric, holding only acknowledged records) and
// state. It is an error while one runs.
func (b *Standby) Activate(journals map[string]Journal, state StateStore) (*Shell, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur != nil {
		return nil, errors.New("shell: replication already runs on this node")
	}
	opts := b.opts
	opts.Journals, opts.State = journals, state
	s, err := start(b.node, b.log, opts)
	if err != nil {
		return nil, err
	}
	for peer, down := range b.linksDown {
		if err := s.SetLinkDown(peer, down); err != nil {
			b.log.Warn("restoring a link's state", zap.String("peer", peer), zap.Bool("down", down), zap.Error(err))
		}
	}
	b.cur = s
	b.gen++
	return s, nil
}

// Deactivate stops the replication running on this node, if any: new
// publishes are answered ErrNotLeading at once, the running Shell closes
// (what it journaled and applied stays in the journals and streams for
// the next leader).
func (b *Standby) Deactivate() error {
	b.mu.Lock()
	s := b.cur
	b.cur = nil
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Close()
}

// Active returns the Shell running on this node, nil while none does.
func (b *Standby) Active() *Shell {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.cur
}

// Self is this region's name.
func (b *Standby) Self() string { return b.self }

// PublishStream implements broker.Replicator.
func (b *Standby) PublishStream(st *broker.Stream, recs []segment.Record, done func(first uint64, err error)) {
	if s := b.Active(); s != nil {
		s.PublishStream(st, recs, done)
		return
	}
	done(0, ErrNotLeading)
}

// PublishOp is Shell.PublishOp on the running Shell, ErrNotLeading
// without one.
func (b *Standby) PublishOp(kind Kind, payload []byte, done func(replicator.Dot, error)) {
	if s := b.Active(); s != nil {
		s.PublishOp(kind, payload, done)
		return
	}
	done(replicator.Dot{}, ErrNotLeading)
}

// Publisher is Shell.Publisher over the running Shell.
func (b *Standby) Publisher(kind Kind, unavailable error) func(payload []byte, done func(error)) {
	return publisher(b.PublishOp, kind, unavailable)
}

// Joined implements broker.Replicator: the running Shell's; true while
// none runs (publishes are then refused, not held).
func (b *Standby) Joined() bool {
	if s := b.Active(); s != nil {
		return s.Joined()
	}
	return true
}

// JoinedC is Joined as a channel.
func (b *Standby) JoinedC() <-chan struct{} {
	if s := b.Active(); s != nil {
		return s.JoinedC()
	}
	return b.closedJoin
}

// AwaitJoined implements broker.Replicator.
func (b *Standby) AwaitJoined(ready func(error)) {
	if s := b.Active(); s != nil {
		s.AwaitJoined(ready)
		return
	}
	ready(nil)
}

// Status is the running Shell's status, ErrNotLeading without one.
func (b *Standby) Status() (Status, error) {
	if s := b.Active(); s != nil {
		return s.Status()
	}
	return Status{}, ErrNotLeading
}

// Health is the running Shell's health; healthy while none runs here.
func (b *Standby) Health() Health {
	if s := b.Active(); s != nil {
		return s.Health()
	}
	return Health{OK: true}
}

// Mount registers the admin endpoints (answered by the running Shell, 503
// while none runs here) and a metrics collector over the running Shell.
func (b *Standby) Mount(m Mounter) error {
	if b == nil {
		return nil
	}
	on := func(serve func(*Shell, http.ResponseWriter, *http.Request)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := b.Active()
			if s == nil {
				respond(w, http.StatusServiceUnavailable, nil, ErrNotLeading)
				return
			}
			serve(s, w, r)
		})
	}
	m.Handle("GET "+AdminPath, on(func(s *Shell, w http.ResponseWriter, r *http.Request) { s.serveStatus(w, r) }))
	m.Handle("POST "+AdminPath+"/links/{peer}/{state}", http.HandlerFunc(b.serveLink))
	m.Handle("POST "+AdminPath+"/regions/{region}/evict", on((*Shell).serveEvict))
	return m.Register(newStandbyCollector(b))
}

// serveLink cuts or heals the link to a peer region: on the running
// Shell when there is one here, and on every Shell this node activates
// later (without one the answer says so: 200, "running": false).
func (b *Standby) serveLink(w http.ResponseWriter, r *http.Request) {
	peer, state := r.PathValue("peer"), r.PathValue("state")
	if state != "up" && state != "down" {
		respond(w, http.StatusBadRequest, nil, fmt.Errorf("link state %q: want up or down", state))
		return
	}
	if _, ok := b.node.Config().Peers[peer]; !ok {
		respond(w, http.StatusNotFound, nil, fmt.Errorf("%w: %q", transport.ErrUnknownPeer, peer))
		return
	}
	b.mu.Lock()
	b.linksDown[peer] = state == "down"
	s := b.cur
	b.mu.Unlock()
	if s != nil {
		s.serveLink(w, r)
		return
	}
	respond(w, http.StatusOK, map[string]any{"peer": peer, "down": state == "down", "running": false}, nil)
}

// Close deactivates.
func (b *Standby) Close() error {
	if b == nil {
		return nil
	}
	return b.Deactivate()
}
