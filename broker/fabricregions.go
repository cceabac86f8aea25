package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator/fabric"
)

// Geo-fabrics: a fabric created with a list of regions (Pinned) is served
// only there, and its data never leaves them (the replication runs one
// causal domain per list: replicator/fabric, replicator/shell's Mux). The
// list is fabric-wide metadata: every region records it, so a request at a
// region outside it is answered with FabricElsewhereError (HTTP 421,
// naming the regions; Kafka: UNKNOWN_TOPIC_OR_PARTITION). The node's
// assembly (server) carries the list to every region (FabricPlacer) and
// records what arrives (RecordFabric).

// FabricElsewhereError refuses a request for a fabric pinned to regions
// this one is not among.
type FabricElsewhereError struct {
	Tenant, Fabric, Region string
	Regions                []string
	// Change: the request changes the fabric's list, which only its home
	// (Regions[0]) does.
	Change bool
}

func (e *FabricElsewhereError) Error() string {
	if e.Change {
		return fmt.Sprintf("fabric %q's region list changes at its home region %s only, not in this region (%s): send the request to a node of %s",
			e.Fabric, e.Regions[0], e.Region, e.Regions[0])
	}
	return fmt.Sprintf("fabric %q is served in %s only, not in this region (%s): send the request to a node of one of them",
		e.Fabric, strings.Join(e.Regions, ", "), e.Region)
}

func (e *FabricElsewhereError) Unwrap() error { return ErrFabricElsewhere }

// ServedIn reports whether region serves the fabric: every region does,
// unless the fabric is pinned to a list without it.
func (fi FabricInfo) ServedIn(region string) bool {
	return !fi.Pinned || slices.Contains(fi.Regions, region)
}

// FabricServedHere returns FabricElsewhereError when fabric exists here
// pinned to regions without this one, nil otherwise (an unknown fabric
// included: the caller's own check answers it).
func (n *Node) FabricServedHere(tenant, fabric string) error {
	fi, found := n.Fabric(tenant, fabric)
	if !found || fi.ServedIn(n.cfg.Region) {
		return nil
	}
	return &FabricElsewhereError{Tenant: tenant, Fabric: fabric, Region: n.cfg.Region, Regions: slices.Clone(fi.Regions)}
}

// SetFabricCopying marks a pinned fabric this region was just added to as
// being copied here from its home (the backfill), or done: until then
// FabricReady answers ErrJoining.
func (n *Node) SetFabricCopying(tenant, fabric string, copying bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := fabricKey{tenant, fabric}
	if !copying {
		delete(n.copying, k)
		return
	}
	if n.copying == nil {
		n.copying = make(map[fabricKey]bool)
	}
	n.copying[k] = true
}

// FabricReady is what front ends check before serving a request of a
// fabric: FabricServedHere, then ErrJoining while the fabric is being
// copied to this region (a client retries; it would see part of the
// fabric's data).
func (n *Node) FabricReady(tenant, fabric string) error {
	if err := n.FabricServedHere(tenant, fabric); err != nil {
		return err
	}
	n.mu.RLock()
	copying := n.copying[fabricKey{tenant, fabric}]
	n.mu.RUnlock()
	if copying {
		return fmt.Errorf("%w: fabric %q was just added to this region's list and is being copied here from its home region; retry", ErrJoining, fabric)
	}
	return nil
}

// FabricPlacer makes a pinned fabric known to every region and returns
// once this node recorded it (RecordFabric); ChangeFabric does the same
// with the next version of its list (at its home).
type FabricPlacer interface {
	PlaceFabric(fi FabricInfo) error
	ChangeFabric(ctx context.Context, fi FabricInfo, regions []string) (FabricInfo, error)
}

// credentialKey carries a caller's Authorization header in a context.
type credentialKey struct{}

// WithCredential returns ctx carrying the caller's Authorization header:
// a fabric change asks other regions on the caller's behalf (whether they
// home SPOT collections of the fabric).
func WithCredential(ctx context.Context, authorization string) context.Context {
	return context.WithValue(ctx, credentialKey{}, authorization)
}

// CredentialFrom is the Authorization header WithCredential put in ctx
// ("" when none).
func CredentialFrom(ctx context.Context) string {
	s, _ := ctx.Value(credentialKey{}).(string)
	return s
}

// ChangeFabricRegions changes a pinned fabric's region list (at its home
// region; FabricElsewhereError names the home elsewhere). Added regions
// are backfilled, removed ones delete the fabric's data (README
// "Geo-fabrics"). A fabric spanning every region keeps doing so.
func (n *Node) ChangeFabricRegions(ctx context.Context, tenant, name string, regions []string) (FabricInfo, error) {
	if err := naming.Validate("fabric", name); err != nil {
		return FabricInfo{}, err
	}
	fi, found := n.Fabric(tenant, name)
	switch {
	case !found:
		return FabricInfo{}, fmt.Errorf("%w: %s", ErrFabricNotFound, name)
	case !fi.Pinned:
		return FabricInfo{}, fmt.Errorf("%w: fabric %q spans every region; its list cannot change (create a fabric with a list to pin one)", ErrBadRequest, name)
	case fi.Home != n.cfg.Region:
		return FabricInfo{}, &FabricElsewhereError{Tenant: tenant, Fabric: name, Region: n.cfg.Region, Regions: []string{fi.Home},
			Change: true}
	}
	n.mu.RLock()
	p := n.placer
	n.mu.RUnlock()
	if p == nil {
		return FabricInfo{}, fmt.Errorf("%w: this node cannot change a fabric's regions", ErrNotSupported)
	}
	return p.ChangeFabric(ctx, fi, regions)
}

// SetFabricPlacer sets what carries pinned fabrics to every region (nil:
// this node cannot create one across regions).
func (n *Node) SetFabricPlacer(p FabricPlacer) {
	n.mu.Lock()
	n.placer = p
	n.mu.Unlock()
}

// CreateFabricIn creates a fabric served by regions only (empty: every
// region, EnsureFabric). The list must name regions of the deployment;
// the region creating it is its home when it is in the list (else the
// first listed). Creating it again with the same list returns it; with
// another list is a conflict (lists do not change after creation yet).
func (n *Node) CreateFabricIn(tenant, name string, regions []string) (FabricInfo, error) {
	if len(regions) == 0 {
		return n.EnsureFabric(tenant, name)
	}
	if err := naming.Validate("fabric", name); err != nil {
		return FabricInfo{}, err
	}
	deployment := n.cfg.Regions()
	home := ""
	if slices.Contains(regions, n.cfg.Region) {
		home = n.cfg.Region
	}
	m, err := fabric.Create(name, home, regions, deployment)
	if err != nil {
		return FabricInfo{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if name == naming.SystemFabric {
		return FabricInfo{}, fmt.Errorf("%w: the %s fabric spans every region", ErrBadRequest, naming.SystemFabric)
	}
	everywhere := slices.Equal(m.Regions, deployment)
	if fi, found := n.Fabric(tenant, name); found {
		if fi.Pinned == !everywhere && slices.Equal(fi.Regions, m.Regions) {
			return fi, nil
		}
		return FabricInfo{}, fmt.Errorf("%w: fabric %q exists, served in %s (change its regions with PUT /_fabric/%s/_api/fabric at its home region)",
			ErrFabricExists, name, strings.Join(fi.Regions, ", "), name)
	}
	if everywhere {
		return n.EnsureFabric(tenant, name)
	}
	want := FabricInfo{Tenant: tenant, Name: name, Regions: m.Regions, Pinned: true, Home: m.Home}
	if err := n.CheckNamespace(tenant, naming.SystemFabric); errors.Is(err, ErrTenantNotFound) {
		return FabricInfo{}, err
	}
	n.mu.RLock()
	p := n.placer
	n.mu.RUnlock()
	if p == nil {
		return FabricInfo{}, fmt.Errorf("%w: this node cannot pin a fabric to regions (a node without peers, or in a region of several nodes: not built yet)",
			ErrNotSupported)
	}
	if err := p.PlaceFabric(want); err != nil {
		return FabricInfo{}, err
	}
	fi, _ := n.Fabric(tenant, name)
	return fi, nil
}

// RecordFabric records a pinned fabric learnt from a region (idempotent;
// its tenant is created if missing).
func (n *Node) RecordFabric(fi FabricInfo) error {
	if !fi.Pinned || len(fi.Regions) == 0 {
		return fmt.Errorf("%w: fabric %q without a region list", ErrBadRequest, fi.Name)
	}
	if err := naming.Validate("tenant", fi.Tenant); err != nil {
		return err
	}
	if err := naming.Validate("fabric", fi.Name); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	k := fabricKey{fi.Tenant, fi.Name}
	fi.Version = max(fi.Version, 1)
	if old, ok := n.fabrics[k]; ok && old.Pinned && max(old.Version, 1) >= fi.Version {
		return nil
	}
	if err := n.ensureTenantLocked(fi.Tenant); err != nil {
		return err
	}
	fi.Regions = slices.Sorted(slices.Values(fi.Regions))
	if err := n.saveJSON(fabricMetaKey(fi.Tenant, fi.Name), fi); err != nil {
		return err
	}
	n.fabrics[k] = fi
	n.log.Info("pinned fabric recorded", zap.String("tenant", fi.Tenant), zap.String("fabric", fi.Name),
		zap.Strings("regions", fi.Regions))
	return nil
}

// PinnedFabrics lists the pinned fabrics of every tenant.
func (n *Node) PinnedFabrics() []FabricInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []FabricInfo
	for _, fi := range n.fabrics {
		if fi.Pinned {
			out = append(out, fi)
		}
	}
	slices.SortFunc(out, func(a, b FabricInfo) int {
		return strings.Compare(a.Tenant+"/"+a.Name, b.Tenant+"/"+b.Name)
	})
	return out
}

// ForgetFabricStreams deletes, in this region only, every stream of a
// fabric, its subscriptions and stored messages with it: the fabric's
// region list left this region (README "Geo-fabrics"). Replicated records
// of the fabric are no longer applied here (ApplyReplicated), so nothing
// brings the streams back. It returns how many it deleted.
func (n *Node) ForgetFabricStreams(tenant, fabric string) (int, error) {
	if n.cfg.Cluster != nil {
		return 0, fmt.Errorf("%w: geo-fabric list changes in a region of several nodes", ErrNotSupported)
	}
	var errs []error
	streams := n.Streams(tenant, fabric)
	for _, s := range streams {
		if err := n.deleteStream(s.Name(), true); err != nil && !errors.Is(err, ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return len(streams), fmt.Errorf("broker: forget the streams of fabric %s/%s: %w", tenant, fabric, err)
	}
	return len(streams), nil
}
