package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/spot"
)

// geoFabrics runs a single-node region's geo-fabrics (README Architecture,
// "Geo-fabrics"). A pinned fabric's region lists travel as ops of
// shell.KindFabricMeta in the domain of every region (the node's shell),
// so every region knows where the fabric is served; each version of a
// fabric's list has its own causal domain (one shell per domain over the
// node's transport, shell.Mux), so nothing of the fabric reaches a region
// outside the list. A list change (at the fabric's home) is carried out
// by the router of replicator/fabric: every member of the old list
// publishes its cut in the old domain; a member applies the new domain
// (its shell is paused until then) once every old member's cut applied
// here; an added region first imports the home's copy of the fabric
// (backfill, sent in a domain of the home and the added regions), and a
// removed one deletes the fabric's data and says when nothing of it can
// arrive any more. geoFabrics routes the node's replicated publishes (it
// is the node's broker.Replicator) and places and changes pinned fabrics
// (broker.FabricPlacer).
type geoFabrics struct {
	node *broker.Node
	cols *service.Service
	log  *zap.Logger
	mux  *shell.Mux
	// opts are the domain shells' options (the node shell's, with the
	// kinds of the domains: cuts and backfills).
	opts    shell.Options
	self    string
	records fabricRecords

	// routeMu orders a fabric's publishes before this region's cut: a
	// publish holds it for reading from choosing its domain to queuing its
	// op, and a cut is queued under the write lock once the list changed,
	// so it follows every op routed to the old domain.
	routeMu sync.RWMutex

	mu     sync.Mutex
	base   *shell.Shell
	shells map[string]*shell.Shell // by domain name
	router *fabric.Router[struct{}]
	recs   map[string]*fabricRecord // by fabricKey
	// running: background work under way (backfill sends, deletions),
	// by fabricKey and version.
	running map[string]bool
	closed  bool
	// spot is the SPOT service (setSpot; nil: none).
	spot *spot.Service

	kick chan struct{} // wakes the reconciler (geofabricchange.go)
	stop chan struct{}
	wg   sync.WaitGroup
}

// newGeoFabrics loads the fabrics' records and rebuilds the router from
// them: before the node's shell starts, whose first deliveries may be
// fabric events (apply).
func newGeoFabrics(node *broker.Node, cols *service.Service, logger *zap.Logger, opts shell.Options) (*geoFabrics, error) {
	g := &geoFabrics{node: node, cols: cols, log: logger.Named("geofabrics"), mux: shell.NewMux(), self: node.Config().Region,
		records: fabricRecords{fs: node.FS(), dir: filepath.Join(node.Config().DataDir, "geofabrics")},
		shells:  make(map[string]*shell.Shell), router: fabric.NewRouter[struct{}](node.Config().Region),
		recs: make(map[string]*fabricRecord), running: make(map[string]bool),
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	g.opts = opts
	g.opts.Kinds = map[shell.Kind]shell.ApplyFunc{shell.KindFabricCut: g.applyCut, shell.KindFabricBackfill: g.applyBackfill}
	if err := g.load(); err != nil {
		return nil, err
	}
	return g, nil
}

// load reads the records (a fabric the node recorded without one, made
// before lists changed, is version 1) and rebuilds the router.
func (g *geoFabrics) load() error {
	recs, err := g.records.load()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range recs {
		g.recs[r.key()] = r
	}
	for _, fi := range g.node.PinnedFabrics() {
		if g.recs[fabricKey(fi.Tenant, fi.Name)] == nil {
			r := &fabricRecord{Tenant: fi.Tenant, Fabric: fi.Name, Home: fi.Home, Versions: [][]string{slices.Clone(fi.Regions)}}
			if err := g.records.save(r); err != nil {
				return err
			}
			g.recs[r.key()] = r
		}
	}
	for _, r := range g.recs {
		g.rebuildLocked(r)
	}
	return nil
}

// dataDomain names the causal domain of version v of a fabric's list.
func dataDomain(tenant, name string, v uint64, regions []string) string {
	return fabric.VersionDomain(tenant+"~"+name, v, regions)
}

// backfillDomain names the domain a version's backfill travels in: the
// home and the regions the version added.
func backfillDomain(tenant, name string, v uint64, regions []string) string {
	return fmt.Sprintf("%s~%s~b%d~%s", tenant, name, v, fabric.DomainKey(regions))
}

// start takes the node's shell (running) and starts what each fabric
// needs here (the reconciler).
func (g *geoFabrics) start(base *shell.Shell, m shell.Mounter) error {
	m.Handle("GET "+shell.AdminPath+"/domains", http.HandlerFunc(g.serveDomains))
	g.mu.Lock()
	g.base = base
	g.mu.Unlock()
	g.reconcileAll()
	g.wg.Add(1)
	go g.reconciler()
	g.node.SetReplicator(g)
	g.node.SetFabricPlacer(g)
	return nil
}

// rebuildLocked feeds a record to the router (at start).
func (g *geoFabrics) rebuildLocked(r *fabricRecord) {
	for v := uint64(1); v <= r.latest(); v++ {
		if err := g.router.Learn(r.membership(v)); err != nil {
			g.log.Error("record does not rebuild", zap.String("fabric", r.key()), zap.Error(err))
		}
	}
	for _, v := range slices.Sorted(maps.Keys(r.Cuts)) {
		for _, region := range r.Cuts[v] {
			g.router.DeliverCut(fabric.Tag{Fabric: r.key(), Version: v}, region)
		}
	}
	for _, v := range r.Backfilled {
		g.router.Backfilled(fabric.Tag{Fabric: r.key(), Version: v})
	}
	g.router.Actions()
	g.router.Ready()
}

// domainShellLocked returns the shell of a domain, starting it if needed
// (paused as asked; a running shell is never paused again).
func (g *geoFabrics) domainShellLocked(name string, regions []string, originTag string, paused bool) (*shell.Shell, error) {
	if g.closed {
		return nil, shell.ErrClosed
	}
	if sh := g.shells[name]; sh != nil {
		return sh, nil
	}
	opts := g.opts
	opts.Domain = &shell.Domain{Name: name, Regions: regions, Mux: g.mux, OriginTag: originTag, Paused: paused}
	sh, err := shell.StartDomain(g.node, g.log, opts)
	if err != nil {
		return nil, fmt.Errorf("geofabrics: start domain %s: %w", name, err)
	}
	g.shells[name] = sh
	g.log.Info("domain started", zap.String("domain", name), zap.Bool("paused", paused))
	return sh, nil
}

// dataShellLocked returns the shell of version v of a fabric here,
// starting it if needed: paused while this region, a member of the latest
// list, does not apply v yet.
func (g *geoFabrics) dataShellLocked(r *fabricRecord, v uint64) (*shell.Shell, error) {
	tag := ""
	if v > 1 {
		tag = fmt.Sprintf("v%d", v)
	}
	st := g.router.Status(r.key())
	paused := r.member(r.latest(), g.self) && v > st.Applying
	return g.domainShellLocked(dataDomain(r.Tenant, r.Fabric, v, r.regions(v)), r.regions(v), tag, paused)
}

// baseShell is the node's shell (every region's domain).
func (g *geoFabrics) baseShell() *shell.Shell {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.base
}

// route is the shell a fabric's publishes go to: the node's for a fabric
// spanning every region, the latest version's domain for a pinned one
// served here. The caller holds routeMu for reading until it queued its
// op.
func (g *geoFabrics) route(tenant, name string) (*shell.Shell, error) {
	fi, ok := g.node.Fabric(tenant, name)
	if !ok || !fi.Pinned {
		return g.baseShell(), nil
	}
	if err := g.node.FabricServedHere(tenant, name); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.recs[fabricKey(tenant, name)]
	if r == nil {
		return nil, fmt.Errorf("%w: fabric %s is not set up here yet", broker.ErrClosed, name)
	}
	if !r.member(r.latest(), g.self) {
		return nil, &broker.FabricElsewhereError{Tenant: tenant, Fabric: name, Region: g.self, Regions: slices.Clone(r.regions(r.latest()))}
	}
	return g.dataShellLocked(r, r.latest())
}

// PublishStream implements broker.Replicator: the stream's fabric's
// domain carries it.
func (g *geoFabrics) PublishStream(st *broker.Stream, recs []segment.Record, done func(first uint64, err error)) {
	g.routeMu.RLock()
	defer g.routeMu.RUnlock()
	sh, err := g.route(st.Name().Tenant, st.Name().Fabric)
	if err != nil {
		done(0, err)
		return
	}
	sh.PublishStream(st, recs, done)
}

// PublishOp implements collections' service.Replication: a collection's
// ops and metadata events travel in its fabric's domain, other kinds in
// every region's.
func (g *geoFabrics) PublishOp(kind shell.Kind, payload []byte, done func(replicator.Dot, error)) {
	if kind != service.ReplicationKind {
		g.baseShell().PublishOp(kind, payload, done)
		return
	}
	tenant, name, err := service.PayloadFabric(payload)
	if err != nil {
		done(replicator.Dot{}, err)
		return
	}
	g.routeMu.RLock()
	defer g.routeMu.RUnlock()
	sh, err := g.route(tenant, name)
	if err != nil {
		done(replicator.Dot{}, err)
		return
	}
	sh.PublishOp(kind, payload, done)
}

// active is the node's shell and every running domain's.
func (g *geoFabrics) active() []*shell.Shell {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []*shell.Shell{g.base}
	for _, k := range slices.Sorted(maps.Keys(g.shells)) {
		if sh := g.shells[k]; !sh.Paused() {
			out = append(out, sh)
		}
	}
	return out
}

// Joined implements broker.Replicator: every running domain joined (a
// paused one waits for a list change; its fabric's writes wait in it).
func (g *geoFabrics) Joined() bool {
	for _, sh := range g.active() {
		if !sh.Joined() {
			return false
		}
	}
	return true
}

// AwaitJoined implements broker.Replicator.
func (g *geoFabrics) AwaitJoined(ready func(error)) {
	shells := g.active()
	var next func(i int)
	next = func(i int) {
		if i == len(shells) {
			ready(nil)
			return
		}
		shells[i].AwaitJoined(func(err error) {
			if err != nil {
				ready(err)
				return
			}
			next(i + 1)
		})
	}
	next(0)
}

// JoinedC is closed once every running domain joined (the collections'
// writes wait on it while the region joins: collections/service
// joinWaiter).
func (g *geoFabrics) JoinedC() <-chan struct{} {
	c := make(chan struct{})
	g.AwaitJoined(func(err error) {
		if err == nil {
			close(c)
		}
	})
	return c
}

// Status implements collections' service.Replication: every region's
// domain (its members less the evicted are the collections' members; a
// pinned fabric's collections narrow them to its regions).
func (g *geoFabrics) Status() (shell.Status, error) {
	return g.baseShell().Status()
}

// setSpot gives the SPOT service (nil: none) whose collections' homes a
// list change keeps. A nil g does nothing.
func (g *geoFabrics) setSpot(sp *spot.Service) {
	if g == nil || sp == nil {
		return
	}
	g.mu.Lock()
	g.spot = sp
	g.mu.Unlock()
}

// spotHomes returns the regions among candidates that home a SPOT
// collection of the fabric (asking each region's group, with the caller's
// credential from ctx); a region that does not answer makes the change
// wait (an error).
func (g *geoFabrics) spotHomes(ctx context.Context, tenant, name string, candidates []string) ([]string, error) {
	g.mu.Lock()
	sp := g.spot
	g.mu.Unlock()
	if sp == nil {
		return nil, nil
	}
	var homes []string
	for _, r := range candidates {
		rctx, cancel := context.WithTimeout(spot.WithCredential(ctx, broker.CredentialFrom(ctx)), placeTimeout)
		infos, err := sp.Collections(rctx, tenant, name, r)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: cannot tell whether region %s homes SPOT collections of fabric %s (%v); retry when it answers",
				broker.ErrFabricChanging, r, name, err)
		}
		if len(infos) > 0 {
			homes = append(homes, r)
		}
	}
	return homes, nil
}

// close stops the reconciler, the background work and the domains'
// shells (the node's shell is closed by the server, after them: it owns
// the transport).
func (g *geoFabrics) close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	close(g.stop)
	g.mu.Unlock()
	g.wg.Wait()
	g.mu.Lock()
	shells := g.shells
	g.shells = map[string]*shell.Shell{}
	g.mu.Unlock()
	var errs []error
	for _, sh := range shells {
		errs = append(errs, sh.Close())
	}
	return errors.Join(errs...)
}
