package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/fabric"
	"github.com/causeway/causeway/replicator/shell"
)

// fabricEvent is a version of a pinned fabric's list, as it travels (in
// every region's domain, from the fabric's home).
type fabricEvent struct {
	Tenant  string   `json:"tenant"`
	Fabric  string   `json:"fabric"`
	Regions []string `json:"regions"`
	Home    string   `json:"home"`
	// Version numbers the lists from 1 (0: 1, as events before list
	// changes).
	Version uint64 `json:"version,omitempty"`
}

// maxFabricEventBytes bounds an event's payload.
const maxFabricEventBytes = 64 << 10

// maxFabricVersion bounds a version number (a sanity bound on input).
const maxFabricVersion = 1 << 32

// errBadFabricEvent refuses a malformed event.
var errBadFabricEvent = errors.New("geofabrics: malformed fabric event")

// decodeFabricEvent reads a fabric event, checked against the
// deployment's regions: a fabric and tenant name, a valid list, its home
// in it, a version.
func decodeFabricEvent(payload []byte, deployment []string) (fabricEvent, error) {
	if len(payload) > maxFabricEventBytes {
		return fabricEvent{}, fmt.Errorf("%w: %d bytes", errBadFabricEvent, len(payload))
	}
	var ev fabricEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return fabricEvent{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	if dec.More() {
		return fabricEvent{}, fmt.Errorf("%w: more than one JSON value", errBadFabricEvent)
	}
	if err := naming.Validate("tenant", ev.Tenant); err != nil {
		return fabricEvent{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	if err := naming.Validate("fabric", ev.Fabric); err != nil {
		return fabricEvent{}, fmt.Errorf("%w: %v", errBadFabricEvent, err)
	}
	m, err := fabric.Create(ev.Fabric, ev.Home, ev.Regions, deployment)
	if err != nil || ev.Home == "" {
		return fabricEvent{}, fmt.Errorf("%w: %v (home %q)", errBadFabricEvent, err, ev.Home)
	}
	if ev.Version > maxFabricVersion {
		return fabricEvent{}, fmt.Errorf("%w: version %d", errBadFabricEvent, ev.Version)
	}
	ev.Regions, ev.Version = m.Regions, max(ev.Version, 1)
	return ev, nil
}

// apply is shell.KindFabricMeta's apply function (the node's shell): it
// records a version of a fabric's list (idempotent; versions come in
// order, all from the fabric's home) and wakes the reconciler.
func (g *geoFabrics) apply(_ string, _ uint64, payload []byte) error {
	ev, err := decodeFabricEvent(payload, g.node.Config().Regions())
	if err != nil {
		return err
	}
	key := fabricKey(ev.Tenant, ev.Fabric)
	g.mu.Lock()
	r := g.recs[key]
	if r == nil {
		r = &fabricRecord{Tenant: ev.Tenant, Fabric: ev.Fabric, Home: ev.Home}
	}
	switch {
	case ev.Version <= r.latest():
		g.mu.Unlock()
		return nil
	case ev.Version != r.latest()+1:
		g.mu.Unlock()
		return fmt.Errorf("%w: fabric %s version %d after %d", errBadFabricEvent, key, ev.Version, r.latest())
	case ev.Home != r.Home:
		g.mu.Unlock()
		return fmt.Errorf("%w: fabric %s version %d from home %s, its home is %s", errBadFabricEvent, key, ev.Version, ev.Home, r.Home)
	}
	// The node answers for the fabric by its latest list first (a
	// region added serves it before its backfill can arrive; a publish
	// routed after this goes to the new domain), then the record and the
	// router follow.
	fi := broker.FabricInfo{Tenant: ev.Tenant, Name: ev.Fabric, Regions: ev.Regions, Pinned: true, Home: ev.Home, Version: ev.Version}
	if ev.Version > 1 && slices.Contains(ev.Regions, g.self) && !r.member(ev.Version-1, g.self) {
		// Added: requests wait for the copy (reconcile clears it).
		g.node.SetFabricCopying(ev.Tenant, ev.Fabric, true)
	}
	if err := g.node.RecordFabric(fi); err != nil {
		g.mu.Unlock()
		return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
	}
	next := r.clone()
	next.Versions = append(next.Versions, ev.Regions)
	if err := g.records.save(&next); err != nil {
		g.mu.Unlock()
		return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
	}
	*r = next
	g.recs[key] = r
	if err := g.router.Learn(r.membership(r.latest())); err != nil {
		g.log.Error("router refuses a recorded version", zap.String("fabric", key), zap.Error(err))
	}
	g.router.Actions()
	if r.member(r.latest(), g.self) && g.base != nil {
		// The new version's domain runs here at once (the reconciler would
		// start it a moment later): the region that makes a version starts
		// it before any other, so no peer's frame of it is refused there.
		if _, err := g.dataShellLocked(r, r.latest()); err != nil {
			g.log.Warn("start the fabric's domain", zap.String("fabric", key), zap.Error(err))
		}
	}
	g.mu.Unlock()
	g.log.Info("fabric list version learnt", zap.String("fabric", key), zap.Uint64("version", ev.Version),
		zap.Strings("regions", ev.Regions), zap.Bool("member", slices.Contains(ev.Regions, g.self)))
	g.wake()
	return nil
}

// placeTimeout bounds the wait for a fabric event to apply here.
const placeTimeout = 10 * time.Second

// publishEvent sends a fabric event to every region and waits until it
// applied here.
func (g *geoFabrics) publishEvent(ev fabricEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	g.baseShell().PublishOp(shell.KindFabricMeta, payload, func(_ replicator.Dot, err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("geofabrics: fabric %s version %d: %w", ev.Fabric, ev.Version, err)
		}
		return nil
	case <-time.After(placeTimeout):
		return fmt.Errorf("%w: fabric %s version %d: replication did not answer within %s", broker.ErrClosed, ev.Fabric, ev.Version, placeTimeout)
	}
}

// PlaceFabric implements broker.FabricPlacer: the fabric's first list
// goes to every region; it returns once recorded here.
func (g *geoFabrics) PlaceFabric(fi broker.FabricInfo) error {
	return g.publishEvent(fabricEvent{Tenant: fi.Tenant, Fabric: fi.Name, Regions: fi.Regions, Home: fi.Home, Version: 1})
}

// ChangeFabric implements broker.FabricPlacer (at the fabric's home): the
// next version of the list goes to every region, once the previous change
// completed here; it returns once recorded here (the change then proceeds
// by itself: GET /_api/replication/domains shows where it is).
func (g *geoFabrics) ChangeFabric(ctx context.Context, fi broker.FabricInfo, regions []string) (broker.FabricInfo, error) {
	key := fabricKey(fi.Tenant, fi.Name)
	g.mu.Lock()
	r := g.recs[key]
	if r == nil {
		g.mu.Unlock()
		return broker.FabricInfo{}, fmt.Errorf("%w: fabric %s is not set up here yet", broker.ErrClosed, fi.Name)
	}
	st := g.router.Status(key)
	cur := r.membership(r.latest())
	pendingBackfill := r.latest() > 1 && len(r.added(r.latest())) > 0 && !slices.Contains(r.BackfillsSent, r.latest())
	g.mu.Unlock()
	if st.Applying != st.Latest || pendingBackfill {
		return broker.FabricInfo{}, fmt.Errorf("%w: version %d (%v) is not in effect at the home yet (applying %d); retry once it is",
			broker.ErrFabricChanging, cur.Version, cur.Regions, st.Applying)
	}
	cur.Fabric = fi.Name
	var removed []string
	for _, r := range cur.Regions {
		if !slices.Contains(regions, r) {
			removed = append(removed, r)
		}
	}
	spotHomes, err := g.spotHomes(ctx, fi.Tenant, fi.Name, removed)
	if err != nil {
		return broker.FabricInfo{}, err
	}
	next, err := fabric.Change(cur, regions, g.node.Config().Regions(), spotHomes)
	if err != nil {
		return broker.FabricInfo{}, fmt.Errorf("%w: %w", broker.ErrBadRequest, err)
	}
	if err := g.publishEvent(fabricEvent{Tenant: fi.Tenant, Fabric: fi.Name, Regions: next.Regions, Home: fi.Home, Version: next.Version}); err != nil {
		return broker.FabricInfo{}, err
	}
	out, _ := g.node.Fabric(fi.Tenant, fi.Name)
	return out, nil
}

// cutEvent is a region's cut of a fabric's list version: the end of its
// ops under version-1, published last in version-1's domain.
type cutEvent struct {
	Tenant  string `json:"tenant"`
	Fabric  string `json:"fabric"`
	Version uint64 `json:"version"`
	Region  string `json:"region"`
}

// applyCut is shell.KindFabricCut's apply function (a fabric's domain):
// it records the cut, durably, and wakes the reconciler.
func (g *geoFabrics) applyCut(origin string, _ uint64, payload []byte) error {
	var ev cutEvent
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return fmt.Errorf("%w: cut: %v", errBadFabricEvent, err)
	}
	if naming.Validate("tenant", ev.Tenant) != nil || naming.Validate("fabric", ev.Fabric) != nil ||
		ev.Version < 2 || ev.Version > maxFabricVersion || ev.Region != origin {
		return fmt.Errorf("%w: cut %+v from %s", errBadFabricEvent, ev, origin)
	}
	key := fabricKey(ev.Tenant, ev.Fabric)
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.recs[key]
	if r == nil {
		// A cut travels in a domain of the fabric, which this region runs
		// only once it recorded the fabric.
		return fmt.Errorf("%w: cut of unknown fabric %s", errBadFabricEvent, key)
	}
	next := r.clone()
	if !next.addCut(ev.Version, ev.Region) {
		return nil
	}
	if err := g.records.save(&next); err != nil {
		return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
	}
	*r = next
	g.router.DeliverCut(fabric.Tag{Fabric: key, Version: ev.Version}, ev.Region)
	g.router.Actions()
	g.log.Info("cut applied", zap.String("fabric", key), zap.Uint64("version", ev.Version), zap.String("region", ev.Region),
		zap.Uint64("applying", g.router.Status(key).Applying))
	g.wake()
	return nil
}

// wake asks the reconciler for a pass.
func (g *geoFabrics) wake() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// reconcileInterval is the reconciler's pass when nothing wakes it (a
// step that failed is retried).
const reconcileInterval = time.Second

// reconciler makes each fabric's state here follow its record (one
// goroutine: never an apply function's, which must not wait for routeMu).
func (g *geoFabrics) reconciler() {
	defer g.wg.Done()
	t := time.NewTicker(reconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-g.kick:
		case <-t.C:
		}
		g.reconcileAll()
	}
}

// reconcileAll reconciles every fabric.
func (g *geoFabrics) reconcileAll() {
	g.mu.Lock()
	keys := slices.Sorted(maps.Keys(g.recs))
	g.mu.Unlock()
	for _, k := range keys {
		if err := g.reconcile(k); err != nil {
			g.log.Warn("reconcile fabric", zap.String("fabric", k), zap.Error(err))
		}
	}
}

// reconcile does, for one fabric, what its record asks of this region:
// the domains of its versions run here (a version this region does not
// apply yet paused, resumed once it does), its cuts are published, the
// home takes and sends a version's backfill, a region that left deletes
// the fabric's data and, once nothing can arrive, its domains. It decides
// under g.mu and acts after (a shell's completer may wait for g.mu in an
// apply function: nothing waits for a shell while holding it).
func (g *geoFabrics) reconcile(key string) error {
	// Cuts are queued under the write lock: after every publish routed to
	// the old domain (route holds it for reading).
	g.routeMu.Lock()
	defer g.routeMu.Unlock()
	p, err := g.plan(key)
	for _, e := range p.evict {
		if eerr := e.sh.Evict(e.region); eerr != nil {
			err = errors.Join(err, eerr)
		}
	}
	for _, sh := range p.resume {
		sh.Resume()
	}
	for _, c := range p.cuts {
		g.publishCut(c.sh, key, c.version, c.payload)
	}
	if p.deleteW != 0 {
		err = errors.Join(err, g.deleteDomains(key, p.deleteW, p.closeShells, p.removeDirs))
	}
	return err
}

// reconcilePlan is what reconcile does after deciding.
type reconcilePlan struct {
	// evict: regions the operator evicted, in the fabric's domains.
	evict  []plannedEvict
	resume []*shell.Shell
	cuts   []plannedCut
	// deleteW: version w's removal completes: close closeShells, remove
	// removeDirs.
	deleteW     uint64
	closeShells []*shell.Shell
	removeDirs  []string
}

type plannedEvict struct {
	sh     *shell.Shell
	region string
}

type plannedCut struct {
	sh      *shell.Shell
	version uint64
	payload []byte
}

func (g *geoFabrics) plan(key string) (reconcilePlan, error) {
	var p reconcilePlan
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.recs[key]
	if r == nil || g.closed || g.base == nil {
		return p, nil
	}
	var errs []error
	// A region the operator evicted (POST
	// /_api/replication/regions/{region}/evict, every other region) no
	// longer holds a change: its missing cuts count as delivered (its ops
	// not delivered here yet are given up, as eviction does), and it is
	// evicted in the fabric's domains too.
	evicted := g.base.Evicted()
	if err := g.cutEvictedLocked(r, evicted); err != nil {
		errs = append(errs, err)
	}
	st := g.router.Status(key)
	latestMember := r.member(r.latest(), g.self)
	g.node.SetFabricCopying(r.Tenant, r.Fabric, latestMember && st.Backfill != 0)
	for v := r.lastDeleted() + 1; v <= r.latest(); v++ {
		if !r.member(v, g.self) {
			continue
		}
		// The home copies the fabric for the regions version v added
		// before it applies anything of v.
		if v >= 2 && g.self == r.Home && st.Applying >= v && len(r.added(v)) > 0 && !slices.Contains(r.BackfillsSent, v) {
			if err := g.startBackfillLocked(r, v); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		sh, err := g.dataShellLocked(r, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, x := range evicted {
			if r.member(v, x) && !slices.Contains(sh.Evicted(), x) {
				p.evict = append(p.evict, plannedEvict{sh: sh, region: x})
			}
		}
		if sh.Paused() && (v <= st.Applying || !latestMember) {
			p.resume = append(p.resume, sh)
			g.log.Info("fabric version applies here", zap.String("fabric", key), zap.Uint64("version", v))
		}
	}
	// Cuts: this region's end of each version it was in, in that
	// version's domain.
	for v := max(r.lastDeleted()+1, 2); v <= r.latest(); v++ {
		ck := fmt.Sprintf("%s#cut%d", key, v)
		if !r.member(v-1, g.self) || slices.Contains(r.CutsSent, v) || g.running[ck] {
			continue
		}
		sh, err := g.dataShellLocked(r, v-1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		payload, err := json.Marshal(cutEvent{Tenant: r.Tenant, Fabric: r.Fabric, Version: v, Region: g.self})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.running[ck] = true
		p.cuts = append(p.cuts, plannedCut{sh: sh, version: v, payload: payload})
	}
	// A new region waits for the home's copy in the backfill domain.
	if st.Backfill != 0 {
		if _, err := g.backfillShellLocked(r, st.Backfill); err != nil {
			errs = append(errs, err)
		}
	}
	// A region the list left deletes the fabric's data, and once every
	// old member's cut applied here (nothing more can arrive), its
	// domains.
	if w := r.removedAt(g.self); w != 0 && !latestMember {
		switch {
		case !slices.Contains(r.Forgotten, w):
			g.startForgetLocked(r, w)
		case st.Deleting == 0 && !slices.Contains(r.Deleted, w):
			p.deleteW = w
			for v := uint64(1); v < w; v++ {
				names := []string{dataDomain(r.Tenant, r.Fabric, v, r.regions(v))}
				if added := r.added(v); len(added) > 0 {
					names = append(names, backfillDomain(r.Tenant, r.Fabric, v, append(added, r.Home)))
				}
				for _, name := range names {
					if sh := g.shells[name]; sh != nil {
						p.closeShells = append(p.closeShells, sh)
						delete(g.shells, name)
					}
					p.removeDirs = append(p.removeDirs, filepath.Join(g.node.Config().DataDir, "repl", shell.DomainDir(name)))
				}
			}
		}
	}
	return p, errors.Join(errs...)
}

// cutEvictedLocked records the missing cuts of evicted regions.
func (g *geoFabrics) cutEvictedLocked(r *fabricRecord, evicted []string) error {
	if len(evicted) == 0 {
		return nil
	}
	next := r.clone()
	type cut struct {
		version uint64
		region  string
	}
	var added []cut
	for v := uint64(2); v <= r.latest(); v++ {
		for _, x := range evicted {
			if x != g.self && r.member(v-1, x) && next.addCut(v, x) {
				added = append(added, cut{v, x})
			}
		}
	}
	if len(added) == 0 {
		return nil
	}
	if err := g.records.save(&next); err != nil {
		return err
	}
	*r = next
	for _, c := range added {
		g.router.DeliverCut(fabric.Tag{Fabric: r.key(), Version: c.version}, c.region)
		g.log.Warn("cut of an evicted region taken as delivered", zap.String("fabric", r.key()), zap.Uint64("version", c.version), zap.String("region", c.region))
	}
	g.router.Actions()
	return nil
}

// publishCut queues this region's cut for version v in sh (v-1's domain)
// and records it sent once it applied here.
func (g *geoFabrics) publishCut(sh *shell.Shell, key string, v uint64, payload []byte) {
	ck := fmt.Sprintf("%s#cut%d", key, v)
	sh.PublishOp(shell.KindFabricCut, payload, func(_ replicator.Dot, err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.running, ck)
		r := g.recs[key]
		if err != nil || r == nil {
			g.log.Warn("publish cut", zap.String("fabric", key), zap.Uint64("version", v), zap.Error(err))
			return
		}
		next := r.clone()
		if addVersion(&next.CutsSent, v) {
			if err := g.records.save(&next); err != nil {
				g.log.Warn("record cut sent", zap.String("fabric", key), zap.Error(err))
				return
			}
			*r = next
		}
		g.log.Info("cut published", zap.String("fabric", key), zap.Uint64("version", v))
	})
}

// startForgetLocked deletes the fabric's streams and collections here in
// the background (version w removed this region).
func (g *geoFabrics) startForgetLocked(r *fabricRecord, w uint64) {
	k := fmt.Sprintf("%s#forget%d", r.key(), w)
	if g.running[k] {
		return
	}
	g.running[k] = true
	tenant, name, key := r.Tenant, r.Fabric, r.key()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		started := time.Now()
		cols, errC := g.cols.ForgetFabric(tenant, name)
		streams, errS := g.node.ForgetFabricStreams(tenant, name)
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.running, k)
		if err := errors.Join(errC, errS); err != nil {
			g.log.Warn("delete the fabric's data", zap.String("fabric", key), zap.Error(err))
			return
		}
		r := g.recs[key]
		if r == nil {
			return
		}
		next := r.clone()
		addVersion(&next.Forgotten, w)
		if err := g.records.save(&next); err != nil {
			g.log.Warn("record the fabric's data deleted", zap.String("fabric", key), zap.Error(err))
			return
		}
		*r = next
		g.log.Info("the fabric left this region: its data here is deleted", zap.String("fabric", key), zap.Uint64("version", w),
			zap.Int("collections", cols), zap.Int("streams", streams), zap.Duration("took", time.Since(started)))
		g.wake()
	}()
}

// deleteDomains closes and removes every domain of the fabric here (their
// journals hold its ops) and records version w's removal complete.
func (g *geoFabrics) deleteDomains(key string, w uint64, shells []*shell.Shell, dirs []string) error {
	var errs []error
	for _, sh := range shells {
		errs = append(errs, sh.Close())
	}
	for _, d := range dirs {
		errs = append(errs, os.RemoveAll(d))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("geofabrics: remove the domains of %s: %w", key, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.recs[key]
	if r == nil {
		return nil
	}
	next := r.clone()
	addVersion(&next.Deleted, w)
	if err := g.records.save(&next); err != nil {
		return err
	}
	*r = next
	g.log.Info("fabric deletion complete: nothing of it can reach this region any more", zap.String("fabric", key), zap.Uint64("version", w))
	return nil
}

// fabricStatus is one pinned fabric at this region, in
// GET /_api/replication/domains.
type fabricStatus struct {
	broker.FabricInfo
	// Versions are every version's list.
	Versions [][]string `json:"versions"`
	// Applying is the version whose ops apply here (0: none); Backfill
	// the version waiting for the home's copy here; Deleting the version
	// that removed this region while its deletion is not complete.
	Applying uint64 `json:"applying"`
	Backfill uint64 `json:"backfill,omitempty"`
	Deleting uint64 `json:"deleting,omitempty"`
	// Deleted are the versions whose removal of this region is complete
	// here; BackfillsSent (the home) those whose copy was sent whole.
	Deleted       []uint64 `json:"deleted,omitempty"`
	BackfillsSent []uint64 `json:"backfillsSent,omitempty"`
}

// domainsStatus is GET /_api/replication/domains's answer.
type domainsStatus struct {
	// Domains are the pinned fabrics' domains this region runs, each with
	// its shell's status.
	Domains []shell.Status `json:"domains"`
	// Fabrics are the pinned fabrics known here, served here or not.
	Fabrics []fabricStatus `json:"fabrics"`
	// RefusedFrames counts peer frames of a domain not running here.
	RefusedFrames uint64 `json:"refusedFrames"`
}

func (g *geoFabrics) serveDomains(w http.ResponseWriter, _ *http.Request) {
	out := domainsStatus{Domains: []shell.Status{}, Fabrics: []fabricStatus{}, RefusedFrames: g.mux.Refused()}
	for _, fi := range g.node.PinnedFabrics() {
		fs := fabricStatus{FabricInfo: fi}
		g.mu.Lock()
		if r := g.recs[fabricKey(fi.Tenant, fi.Name)]; r != nil {
			st := g.router.Status(r.key())
			fs.Versions, fs.Applying, fs.Backfill, fs.Deleting = r.Versions, st.Applying, st.Backfill, st.Deleting
			fs.Deleted, fs.BackfillsSent = slices.Clone(r.Deleted), slices.Clone(r.BackfillsSent)
		}
		g.mu.Unlock()
		out.Fabrics = append(out.Fabrics, fs)
	}
	g.mu.Lock()
	shells := make([]*shell.Shell, 0, len(g.shells))
	for _, name := range slices.Sorted(maps.Keys(g.shells)) {
		shells = append(shells, g.shells[name])
	}
	g.mu.Unlock()
	for _, sh := range shells {
		st, err := sh.Status()
		if errors.Is(err, shell.ErrClosed) {
			continue // a domain removed meanwhile
		}
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
