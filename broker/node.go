package broker

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/pebblekv"
	"github.com/causeway/causeway/subscription"
)

// Node is one Causeway broker: the registry of tenants, fabrics and streams
// and everything attached to them. It owns its data directory.
type Node struct {
	cfg     Config
	log     *zap.Logger
	fs      vfs.FS
	meta    *pebblekv.DB
	cursors subscription.Store
	metrics *Metrics

	mu      sync.RWMutex
	tenants map[string]bool
	fabrics map[fabricKey]FabricInfo
	// placer carries pinned fabrics to every region (fabricregions.go).
	placer FabricPlacer
	// copying: pinned fabrics this region was added to and is still
	// copying from the fabric's home (fabricregions.go).
	copying map[fabricKey]bool
	streams map[naming.Stream]*Stream
	closed  bool
	repl    replSlot // geo-replication (replication.go)
	// payloads owns the payloads of derived streams' records stored by
	// reference (replication.go).
	payloads atomic.Pointer[payloadBox]

	stop chan struct{}
	wg   sync.WaitGroup
}

type fabricKey struct{ tenant, fabric string }

// Open starts a node on cfg.DataDir, recovering every persistent stream.
func Open(cfg Config, logger *zap.Logger) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	n := &Node{
		cfg:     cfg,
		log:     logger.With(zap.String("region", cfg.Region)),
		fs:      nodeFS(cfg),
		metrics: newMetrics(),
		tenants: map[string]bool{},
		fabrics: map[fabricKey]FabricInfo{},
		streams: map[naming.Stream]*Stream{},
		stop:    make(chan struct{}),
	}
	if err := n.fs.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: create data dir: %w", err)
	}
	db, err := pebblekv.Open(filepath.Join(cfg.DataDir, "meta"), pebblekv.Options{Name: "meta",
		Pebble: pebbleOptions(cfg), Logger: n.log, ReserveBytes: cfg.StoreReserveBytes})
	if err != nil {
		return nil, fmt.Errorf("broker: open metadata store: %w", err)
	}
	n.meta = db
	n.cursors = subscription.NewPebbleStore(db)
	if cfg.Cluster != nil && cfg.Cluster.Cursors() != nil {
		n.cursors = cfg.Cluster.Cursors()
	}
	if err := n.loadRegistry(); err != nil {
		_ = db.Close()
		return nil, err
	}
	n.wg.Add(1)
	go n.retentionLoop()
	if cfg.Cluster != nil {
		n.wg.Add(1)
		go n.clusterLoop()
	}
	n.log.Info("node started", zap.String("data", cfg.DataDir), zap.Int("streams", len(n.streams)))
	return n, nil
}

// Config returns the effective configuration.
func (n *Node) Config() Config { return n.cfg }

// Logger returns the node's logger.
func (n *Node) Logger() *zap.Logger { return n.log }

// Metrics returns the node's live metrics.
func (n *Node) Metrics() *Metrics { return n.metrics }

// Close stops every stream, flushing logs and cursors, then the metadata
// store. Nothing acknowledged is lost.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	streams := make([]*Stream, 0, len(n.streams))
	for _, s := range n.streams {
		streams = append(streams, s)
	}
	n.mu.Unlock()
	close(n.stop)
	n.wg.Wait()
	var errs []error
	for _, s := range streams {
		if err := s.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := n.meta.Close(); err != nil {
		errs = append(errs, fmt.Errorf("broker: close metadata store: %w", err))
	}
	n.log.Info("node stopped")
	return errors.Join(errs...)
}

// EnsureTenant creates a tenant if missing (in a region of several nodes,
// in the region's map too, where its other nodes find it).
func (n *Node) EnsureTenant(tenant string) error {
	if err := naming.Validate("tenant", tenant); err != nil {
		return err
	}
	if err := n.shareNamespace(tenant, ""); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ensureTenantLocked(tenant)
}

func (n *Node) ensureTenantLocked(tenant string) error {
	if n.tenants[tenant] {
		return nil
	}
	if err := n.meta.Set(tenantKey(tenant), []byte("{}"), pebble.Sync); err != nil {
		return fmt.Errorf("broker: save tenant %s: %w", tenant, err)
	}
	n.tenants[tenant] = true
	return nil
}

// Tenants lists tenant names.
func (n *Node) Tenants() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.tenants))
	for t := range n.tenants {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// FabricInfo describes a fabric.
type FabricInfo struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	// Regions are the regions that serve the fabric: every region of the
	// deployment, or, when Pinned, the fabric's list (fabricregions.go).
	Regions []string `json:"regions"`
	Pinned  bool     `json:"pinned,omitempty"`
	// Home is the region that orders a pinned fabric's list changes.
	Home string `json:"home,omitempty"`
	// Version numbers a pinned fabric's lists from 1 (ChangeFabricRegions
	// makes the next).
	Version uint64 `json:"version,omitempty"`
}

// EnsureFabric creates a fabric if missing (in a region of several nodes,
// in the region's map too). Its tenant must exist: ErrTenantNotFound
// otherwise (tenants are created with EnsureTenant).
func (n *Node) EnsureFabric(tenant, fabric string) (FabricInfo, error) {
	err := n.CheckNamespace(tenant, fabric)
	if err == nil {
		fi, _ := n.Fabric(tenant, fabric)
		return fi, nil
	}
	if !errors.Is(err, ErrFabricNotFound) {
		return FabricInfo{}, err
	}
	if err := n.shareNamespace(tenant, fabric); err != nil {
		return FabricInfo{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ensureFabricLocked(tenant, fabric)
}

func (n *Node) ensureFabricLocked(tenant, fabric string) (FabricInfo, error) {
	if n.closed {
		return FabricInfo{}, ErrClosed
	}
	if fi, ok := n.fabrics[fabricKey{tenant, fabric}]; ok {
		return fi, nil
	}
	if err := n.ensureTenantLocked(tenant); err != nil {
		return FabricInfo{}, err
	}
	fi := FabricInfo{Tenant: tenant, Name: fabric, Regions: n.cfg.Regions()}
	if err := n.saveJSON(fabricMetaKey(tenant, fabric), fi); err != nil {
		return FabricInfo{}, err
	}
	n.fabrics[fabricKey{tenant, fabric}] = fi
	return fi, nil
}

// Fabric returns a fabric's description.
func (n *Node) Fabric(tenant, fabric string) (FabricInfo, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	fi, ok := n.fabrics[fabricKey{tenant, fabric}]
	return fi, ok
}

// Fabrics lists a tenant's fabrics.
func (n *Node) Fabrics(tenant string) []FabricInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []FabricInfo
	for k, fi := range n.fabrics {
		if k.tenant == tenant {
			out = append(out, fi)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (n *Node) retentionLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case now := <-t.C:
			n.EnforceRetention(now)
		}
	}
}

// EnforceRetention applies size and age retention to every persistent stream.
func (n *Node) EnforceRetention(now time.Time) {
	for _, s := range n.Streams("", "") {
		s.enforceRetention(now)
	}
}
