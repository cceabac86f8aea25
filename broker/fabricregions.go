package broker

import (
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
}

func (e *FabricElsewhereError) Error() string {
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

// FabricPlacer makes a pinned fabric known to every region and returns
// once this node recorded it (RecordFabric).
type FabricPlacer interface {
	PlaceFabric(fi FabricInfo) error
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
		return FabricInfo{}, fmt.Errorf("%w: fabric %q exists, served in %s (a fabric's regions do not change after its creation yet)",
			ErrFabricExists, name, strings.Join(fi.Regions, ", "))
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
	if old, ok := n.fabrics[k]; ok && old.Pinned && slices.Equal(old.Regions, fi.Regions) {
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
