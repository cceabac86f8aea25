package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/store"
	"github.com/causeway/causeway/internal/lograte"
	"github.com/causeway/causeway/internal/pebblekv"
)

// Service runs the collections of one node.
type Service struct {
	node   *broker.Node
	store  *store.Store
	seq    Sequencer
	opts   Options
	log    *zap.Logger
	region string

	mu     sync.RWMutex
	cols   map[Ref]*collection
	closed bool

	cursors *cursors

	// keyCounter generates document keys; it starts at the wall clock's
	// ms << 16, so keys keep growing across restarts.
	keyCounter atomic.Uint64

	// geo is the sequencer of a multi-region node (nil for one region);
	// repl the replication attached to it (AttachReplication).
	geo  *GeoSequencer
	repl atomic.Pointer[replBox]
	// replMu serializes ApplyReplicated with snapshots; replApplied is the
	// highest replicator seq applied per origin (under replMu).
	replMu      sync.Mutex
	replApplied map[string]uint64
	// creating holds the collections whose replicated creation is on its
	// way (under mu).
	creating map[Ref]bool
	// queryMu serializes changes of saved queries.
	queryMu sync.Mutex
	// aqlQueries keeps parsed AQL queries by text (aqlcache.go).
	aqlQueries aqlCache

	stop chan struct{}
	wg   sync.WaitGroup

	// In a region of several nodes (cluster.go, clusterloop.go): the
	// region, the collections being opened or closed (under mu), a channel
	// closed whenever the served ones change (under mu), the loop's wake-up
	// and a rate limit for its repeated warnings.
	cluster Cluster
	busy    map[Ref]bool
	served  chan struct{}
	kick    chan struct{}
	rate    *lograte.Limiter
}

// Open starts the service on node: it opens the view under
// {DataDir}/collections, recovers every collection (re-applying its op-log
// tail) and starts the expiry sweeper.
func Open(node *broker.Node, opts Options) (*Service, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg := node.Config()
	log := node.Logger().Named("collections")
	st, err := store.OpenWith(filepath.Join(cfg.DataDir, "collections"), opts.CacheBytes,
		pebblekv.Options{Logger: log, Pebble: node.PebbleOptions(), ReserveBytes: cfg.StoreReserveBytes})
	if err != nil {
		return nil, err
	}
	if opts.Cluster != nil && cfg.Replicated() && len(opts.BootstrapFrom) > 0 {
		_ = st.Close()
		return nil, fmt.Errorf("collections: bootstrapping from another region's snapshot is not supported in a region of several nodes (each node rebuilds its views from the region's op logs)")
	}
	var geo *GeoSequencer
	if opts.Sequencer == nil {
		if cfg.Replicated() {
			geo = NewGeoSequencer(cfg.Region, cfg.Regions(), opts.Now)
			// A collection of a pinned fabric is stable once its fabric's
			// regions have it (geo-fabrics).
			geo.SetFabricRegions(func(tenant, fabric string) ([]string, bool) {
				fi, ok := node.Fabric(tenant, fabric)
				return fi.Regions, ok && fi.Pinned
			})
			opts.Sequencer = geo
		} else {
			opts.Sequencer = NewLocalSequencer(cfg.Region, opts.Now)
		}
	}
	if err := bootstrapIfNew(st, cfg, opts, log); err != nil {
		_ = st.Close()
		return nil, err
	}
	replApplied, err := st.ReplApplied()
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	s := &Service{
		geo:         geo,
		replApplied: replApplied,
		creating:    map[Ref]bool{},
		node:        node,
		store:       st,
		seq:         opts.Sequencer,
		opts:        opts,
		log:         log,
		region:      cfg.Region,
		cols:        map[Ref]*collection{},
		cursors:     newCursors(opts.MaxCursors),
		stop:        make(chan struct{}),
		cluster:     opts.Cluster,
		busy:        map[Ref]bool{},
		served:      make(chan struct{}),
		kick:        make(chan struct{}, 1),
		rate:        lograte.New(10 * time.Second),
	}
	s.keyCounter.Store(uint64(opts.Now().UnixMilli()) << 16)
	infos, err := st.Collections()
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if s.clustered() {
		// The loop opens the collections this node leads once it is in
		// its region's group.
		infos = nil
		s.wg.Add(1)
		go s.clusterLoop()
	}
	for _, info := range infos {
		c, err := s.openCollection(info)
		if err != nil {
			s.closeCollections()
			_ = st.Close()
			return nil, err
		}
		s.cols[c.ref] = c
	}
	s.wg.Add(1)
	go s.sweepLoop()
	log.Info("collections started", zap.Int("collections", len(infos)))
	return s, nil
}

// Close stops the sweeper, waits for writes in flight (their change events
// included), closes cursors and the view. Call it after the HTTP server
// stopped and before the node closes.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.closeShippers()
	s.wg.Wait()
	s.cursors.closeAll()
	s.closeCollections()
	return s.store.Close()
}

func (s *Service) closeShippers() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.cols {
		c.ship.close()
	}
}

func (s *Service) closeCollections() {
	s.mu.RLock()
	cols := make([]*collection, 0, len(s.cols))
	for _, c := range s.cols {
		cols = append(cols, c)
	}
	s.mu.RUnlock()
	for _, c := range cols {
		c.close()
	}
}

// Now returns the service's wall clock (Options.Now).
func (s *Service) Now() time.Time { return s.opts.Now() }

// now returns the wall clock in Unix ms.
func (s *Service) now() uint64 { return uint64(s.opts.Now().UnixMilli()) }

// newKey generates a document key unique in the fabric: a counter that
// grows across restarts, then the region.
func (s *Service) newKey() string {
	key := strconv.FormatUint(s.keyCounter.Add(1), 10) + "-" + s.region
	if s.clustered() {
		// Nodes of a region take turns serving a collection, each with its
		// own counter.
		key += "-" + strconv.FormatUint(s.cluster.Self(), 10)
	}
	return key
}

// checkFabric reports whether the tenant's fabric exists.
func (s *Service) checkFabric(tenant, fabric string) error {
	if err := naming.Validate("fabric", fabric); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	// The node's check (in a region of several nodes it also finds a
	// fabric created through another node, in the region's map).
	err := s.node.CheckNamespace(tenant, fabric)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, broker.ErrFabricElsewhere):
		return fmt.Errorf("%w: %w", ErrFabricElsewhere, err)
	case errors.Is(err, broker.ErrFabricNotFound), errors.Is(err, broker.ErrTenantNotFound):
		return fmt.Errorf("%w: %s", ErrFabricNotFound, fabric)
	case errors.Is(err, naming.ErrInvalidName):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	default: // the region's map did not answer
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}

// collection returns a running collection: in a region of several nodes
// one served here, waited for while it opens.
func (s *Service) collection(ref Ref) (*collection, error) {
	if err := s.checkFabric(ref.Tenant, ref.Fabric); err != nil {
		return nil, err
	}
	s.mu.RLock()
	closed := s.closed
	c, ok := s.cols[ref]
	s.mu.RUnlock()
	switch {
	case closed:
		return nil, fmt.Errorf("%w: shutting down", ErrUnavailable)
	case ok:
		return c, nil
	case s.clustered():
		return s.awaitServed(ref)
	}
	return nil, fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
}

// stream returns a persistent stream of the collection's fabric, creating
// it when missing.
func (s *Service) stream(tenant, fabric, name string) (*broker.Stream, error) {
	sn := naming.Stream{Persistent: true, Tenant: tenant, Fabric: fabric, Name: name}
	if st, err := s.node.Stream(sn); err == nil {
		return st, nil
	}
	st, err := s.node.CreateStream(sn, broker.StreamInfo{CreatedAt: time.Now().UnixMilli()})
	if errors.Is(err, broker.ErrStreamExists) {
		return s.node.Stream(sn)
	}
	if err != nil {
		return nil, fmt.Errorf("collections: create stream %s: %w", sn, err)
	}
	return st, nil
}
