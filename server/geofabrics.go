package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/httpapi"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
	"github.com/causeway/causeway/replicator/shell"
)

// geoFabrics runs a single-node region's geo-fabrics (README Architecture,
// "Geo-fabrics"): a pinned fabric's region list travels as an op of
// shell.KindFabricMeta in the domain of every region (the node's shell),
// so every region knows where the fabric is served; the fabric's streams
// replicate in the causal domain of its list, one shell per domain over
// the node's transport (shell.Mux), so nothing of them reaches a region
// outside the list. It routes the node's replicated publishes (it is the
// node's broker.Replicator) and places new pinned fabrics
// (broker.FabricPlacer).
type geoFabrics struct {
	node *broker.Node
	log  *zap.Logger
	mux  *shell.Mux
	// opts are the domain shells' options (the node shell's, without its
	// kinds of fabric-wide metadata).
	opts shell.Options
	self string

	mu     sync.Mutex
	base   *shell.Shell
	shells map[string]*shell.Shell
	closed bool
}

func newGeoFabrics(node *broker.Node, logger *zap.Logger, opts shell.Options) *geoFabrics {
	g := &geoFabrics{node: node, log: logger.Named("geofabrics"), mux: shell.NewMux(), self: node.Config().Region,
		shells: make(map[string]*shell.Shell)}
	g.opts = opts
	g.opts.Kinds = nil
	return g
}

// fabricEvent is a pinned fabric's list, as it travels.
type fabricEvent struct {
	Tenant  string   `json:"tenant"`
	Fabric  string   `json:"fabric"`
	Regions []string `json:"regions"`
	Home    string   `json:"home"`
}

// maxFabricEventBytes bounds an event's payload.
const maxFabricEventBytes = 64 << 10

// errBadFabricEvent refuses a malformed event.
var errBadFabricEvent = errors.New("geofabrics: malformed fabric event")

// apply is shell.KindFabricMeta's apply function: it records the fabric
// (idempotent) and starts its domain here once the transport runs.
func (g *geoFabrics) apply(_ string, _ uint64, payload []byte) error {
	fi, err := decodeFabricEvent(payload, g.node.Config().Regions())
	if err != nil {
		return err
	}
	if err := g.node.RecordFabric(fi); err != nil {
		return err
	}
	if g.baseShell() != nil && fi.ServedIn(g.self) {
		if _, err := g.domainShell(fabric.DomainKey(fi.Regions)); err != nil {
			g.log.Warn("start the fabric's domain", zap.String("fabric", fi.Name), zap.Error(err))
		}
	}
	return nil
}

// decodeFabricEvent reads a fabric event, checked against the
// deployment's regions: a fabric and tenant name, a valid list, its home
// in it.
func decodeFabricEvent(payload []byte, deployment []string) (broker.FabricInfo, error) {
	if len(payload) > maxFabricEventBytes {
		return broker.FabricInfo{}, fmt.Errorf("%w: %d bytes", errBadFabricEvent, len(payload))
	}
	var ev fabricEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return broker.FabricInfo{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	if dec.More() {
		return broker.FabricInfo{}, fmt.Errorf("%w: more than one JSON value", errBadFabricEvent)
	}
	if err := naming.Validate("tenant", ev.Tenant); err != nil {
		return broker.FabricInfo{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	if err := naming.Validate("fabric", ev.Fabric); err != nil {
		return broker.FabricInfo{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	m, err := fabric.Create(ev.Fabric, ev.Home, ev.Regions, deployment)
	if err != nil || ev.Home == "" {
		return broker.FabricInfo{}, fmt.Errorf("%w: %v (home %q)", errBadFabricEvent, err, ev.Home)
	}
	return broker.FabricInfo{Tenant: ev.Tenant, Name: ev.Fabric, Regions: m.Regions, Pinned: true, Home: m.Home}, nil
}

// start takes the node's shell (running) and starts the domain of every
// pinned fabric this region serves; GET /_api/replication/domains reports
// each domain's status.
func (g *geoFabrics) start(base *shell.Shell, m shell.Mounter) error {
	m.Handle("GET "+shell.AdminPath+"/domains", http.HandlerFunc(g.serveDomains))
	g.mu.Lock()
	g.base = base
	g.mu.Unlock()
	for _, fi := range g.node.PinnedFabrics() {
		if !fi.ServedIn(g.self) {
			continue
		}
		if _, err := g.domainShell(fabric.DomainKey(fi.Regions)); err != nil {
			return err
		}
	}
	g.node.SetReplicator(g)
	g.node.SetFabricPlacer(g)
	return nil
}

// domainShell returns the shell of domain key, starting it if needed.
func (g *geoFabrics) domainShell(key string) (*shell.Shell, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, shell.ErrClosed
	}
	if sh := g.shells[key]; sh != nil {
		return sh, nil
	}
	opts := g.opts
	opts.Domain = &shell.Domain{Regions: fabric.DomainRegions(key), Mux: g.mux}
	sh, err := shell.StartDomain(g.node, g.log, opts)
	if err != nil {
		return nil, fmt.Errorf("geofabrics: start domain %s: %w", key, err)
	}
	g.shells[key] = sh
	g.log.Info("domain started", zap.String("domain", key))
	return sh, nil
}

// baseShell is the node's shell (every region's domain).
func (g *geoFabrics) baseShell() *shell.Shell {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.base
}

// shellFor is the shell a fabric's streams replicate through.
func (g *geoFabrics) shellFor(tenant, name string) (*shell.Shell, error) {
	fi, ok := g.node.Fabric(tenant, name)
	if !ok || !fi.Pinned {
		return g.baseShell(), nil
	}
	if err := g.node.FabricServedHere(tenant, name); err != nil {
		return nil, err
	}
	return g.domainShell(fabric.DomainKey(fi.Regions))
}

// PublishStream implements broker.Replicator: the stream's fabric's
// domain carries it.
func (g *geoFabrics) PublishStream(st *broker.Stream, recs []segment.Record, done func(first uint64, err error)) {
	sh, err := g.shellFor(st.Name().Tenant, st.Name().Fabric)
	if err != nil {
		done(0, err)
		return
	}
	sh.PublishStream(st, recs, done)
}

// all is the node's shell and every domain's.
func (g *geoFabrics) all() []*shell.Shell {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []*shell.Shell{g.base}
	for _, k := range slices.Sorted(maps.Keys(g.shells)) {
		out = append(out, g.shells[k])
	}
	return out
}

// Joined implements broker.Replicator: every domain joined.
func (g *geoFabrics) Joined() bool {
	for _, sh := range g.all() {
		if !sh.Joined() {
			return false
		}
	}
	return true
}

// AwaitJoined implements broker.Replicator.
func (g *geoFabrics) AwaitJoined(ready func(error)) {
	shells := g.all()
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

// PublishOp implements collections' service.Replication: a collection's
// ops and metadata events travel in its fabric's domain, other kinds in
// every region's.
func (g *geoFabrics) PublishOp(kind shell.Kind, payload []byte, done func(replicator.Dot, error)) {
	sh := g.baseShell()
	if kind == service.ReplicationKind {
		tenant, name, err := service.PayloadFabric(payload)
		if err == nil {
			sh, err = g.shellFor(tenant, name)
		}
		if err != nil {
			done(replicator.Dot{}, err)
			return
		}
	}
	sh.PublishOp(kind, payload, done)
}

// Status implements collections' service.Replication: every region's
// domain (its members less the evicted are the collections' members; a
// pinned fabric's collections narrow them to its regions).
func (g *geoFabrics) Status() (shell.Status, error) {
	return g.baseShell().Status()
}

// guardSpot refuses SPOT collections in a pinned fabric (501): a SPOT
// collection lives in one home region, which the fabric's list would have
// to keep, and its change feed and forwarded requests would have to stay
// in the list; not built yet. A nil g (no geo-fabrics) guards nothing.
func (g *geoFabrics) guardSpot(next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/_fabric/")
		name, path, _ := strings.Cut(rest, "/")
		if ok && r.Method == http.MethodPost && path == "_api/spot/collection" {
			if fi, found := g.node.Fabric(httpapi.TenantOf(r), name); found && fi.Pinned {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotImplemented)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": true, "code": http.StatusNotImplemented,
					"errorNum": http.StatusNotImplemented,
					"errorMessage": fmt.Sprintf("fabric %q is pinned to regions (%s): SPOT collections in it are not built yet",
						name, strings.Join(fi.Regions, ", "))})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// JoinedC is closed once every domain joined (the collections' writes
// wait on it while the region joins: collections/service joinWaiter).
func (g *geoFabrics) JoinedC() <-chan struct{} {
	c := make(chan struct{})
	g.AwaitJoined(func(err error) {
		if err == nil {
			close(c)
		}
	})
	return c
}

// placeTimeout bounds the wait for a new pinned fabric's event to apply
// here.
const placeTimeout = 10 * time.Second

// PlaceFabric implements broker.FabricPlacer: the fabric's list goes to
// every region; it returns once recorded here.
func (g *geoFabrics) PlaceFabric(fi broker.FabricInfo) error {
	payload, err := json.Marshal(fabricEvent{Tenant: fi.Tenant, Fabric: fi.Name, Regions: fi.Regions, Home: fi.Home})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	// The event's local apply (apply) records the fabric and starts its
	// domain here; done runs after it.
	g.baseShell().PublishOp(shell.KindFabricMeta, payload, func(_ replicator.Dot, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("geofabrics: place fabric %s: %w", fi.Name, err)
		}
		return nil
	case <-time.After(placeTimeout):
		return fmt.Errorf("%w: placing fabric %s: replication did not answer within %s", broker.ErrClosed, fi.Name, placeTimeout)
	}
}

// domainsStatus is GET /_api/replication/domains's answer.
type domainsStatus struct {
	// Domains are the pinned fabrics' domains this region runs, each with
	// its shell's status.
	Domains []shell.Status `json:"domains"`
	// Fabrics are the pinned fabrics known here, served here or not.
	Fabrics []broker.FabricInfo `json:"fabrics"`
	// RefusedFrames counts peer frames of a domain not running here.
	RefusedFrames uint64 `json:"refusedFrames"`
}

func (g *geoFabrics) serveDomains(w http.ResponseWriter, _ *http.Request) {
	out := domainsStatus{Domains: []shell.Status{}, Fabrics: g.node.PinnedFabrics(), RefusedFrames: g.mux.Refused()}
	if out.Fabrics == nil {
		out.Fabrics = []broker.FabricInfo{}
	}
	for _, sh := range g.all()[1:] {
		st, err := sh.Status()
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": true, "errorMessage": err.Error()})
			return
		}
		out.Domains = append(out.Domains, st)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// close stops the domains' shells (the node's shell is closed by the
// server, after them: it owns the transport).
func (g *geoFabrics) close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	g.closed = true
	shells := g.shells
	g.shells = map[string]*shell.Shell{}
	g.mu.Unlock()
	var errs []error
	for _, sh := range shells {
		errs = append(errs, sh.Close())
	}
	return errors.Join(errs...)
}
