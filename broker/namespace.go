package broker

import (
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
)

// Tenants and fabrics are created only by asking for them (the HTTP API's
// POST /_api/tenant/{tenant} and POST /_fabric/{fabric}/_api/fabric, or
// ArangoDB's POST /_api/database); a stream is created by use, as
// Pulsar's allowAutoTopicCreation does, but only inside a tenant and
// fabric that exist. A producer, consumer, reader or Kafka client naming
// an unknown one (a typo such as _sytsem) is refused with
// ErrTenantNotFound or ErrFabricNotFound and creates nothing. The one
// exception is what arrives from another region of the fabric (a
// replicated stream, a Kafka topic's event): its fabric exists there, and
// is recorded here as it arrives.

// checkNamespace is the rule over a node's registry: nil when tenant and
// fabric exist, otherwise the error naming the missing one and how to
// create it. It is pure.
func checkNamespace(tenants map[string]bool, fabrics map[fabricKey]FabricInfo, self, tenant, fabric string) error {
	if !tenants[tenant] {
		return fmt.Errorf("%w: %q (tenants are not created by use: a superuser creates one with POST /_api/tenant/%s)",
			ErrTenantNotFound, tenant, tenant)
	}
	fi, ok := fabrics[fabricKey{tenant, fabric}]
	if !ok {
		path := "/_fabric/" + fabric + "/_api/fabric"
		if tenant != naming.DefaultTenant {
			path = "/_tenant/" + tenant + path
		}
		return fmt.Errorf("%w: %q in tenant %q (fabrics are not created by use: create it with POST %s)",
			ErrFabricNotFound, fabric, tenant, path)
	}
	if !fi.ServedIn(self) {
		return &FabricElsewhereError{Tenant: tenant, Fabric: fabric, Region: self, Regions: slices.Clone(fi.Regions)}
	}
	return nil
}

// CheckNamespace returns nil when tenant and fabric exist, and otherwise
// ErrTenantNotFound or ErrFabricNotFound naming the missing one. Every
// front end's path that may create a stream goes through it (CreateStream,
// StreamForUse); front ends call it too to refuse a request before
// anything else (a WebSocket handshake, a Kafka topic's creation). In a
// region of several nodes a tenant or fabric created through another node
// is found in the region's map and recorded on this one.
func (n *Node) CheckNamespace(tenant, fabric string) error {
	if err := naming.Validate("tenant", tenant); err != nil {
		return err
	}
	if err := naming.Validate("fabric", fabric); err != nil {
		return err
	}
	n.mu.RLock()
	err := checkNamespace(n.tenants, n.fabrics, n.cfg.Region, tenant, fabric)
	n.mu.RUnlock()
	if err == nil || n.sharedKV() == nil || errors.Is(err, ErrFabricElsewhere) {
		return err
	}
	tenantFound, fabricFound, lerr := n.regionNamespace(tenant, fabric)
	if lerr != nil {
		return lerr
	}
	if !fabricFound {
		if tenantFound && errors.Is(err, ErrTenantNotFound) {
			n.mu.Lock()
			terr := n.ensureTenantLocked(tenant)
			n.mu.Unlock()
			if terr != nil {
				return terr
			}
			return checkNamespace(map[string]bool{tenant: true}, nil, n.cfg.Region, tenant, fabric)
		}
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, aerr := n.ensureFabricLocked(tenant, fabric); aerr != nil {
		return aerr
	}
	n.log.Info("fabric of the region recorded on this node", zap.String("tenant", tenant), zap.String("fabric", fabric))
	return nil
}

// regionNamespace reports whether the region's map holds the tenant and
// the fabric (created through another node of the region).
func (n *Node) regionNamespace(tenant, fabric string) (tenantFound, fabricFound bool, err error) {
	if _, fabricFound, err = n.getShared(fabricMetaKey(tenant, fabric)); err != nil {
		return false, false, fmt.Errorf("broker: look up fabric %s/%s: %w", tenant, fabric, err)
	}
	if fabricFound {
		return true, true, nil
	}
	if _, tenantFound, err = n.getShared(tenantKey(tenant)); err != nil {
		return false, false, fmt.Errorf("broker: look up tenant %s: %w", tenant, err)
	}
	return tenantFound, false, nil
}

// shareNamespace records a tenant (fabric "" ) or a fabric in the region's
// map, so the region's other nodes find it (CheckNamespace). A region of
// one node has nothing to do.
func (n *Node) shareNamespace(tenant, fabric string) error {
	if n.sharedKV() == nil {
		return nil
	}
	if err := n.saveShared(tenantKey(tenant), struct{}{}); err != nil {
		return err
	}
	if fabric == "" {
		return nil
	}
	return n.saveShared(fabricMetaKey(tenant, fabric), FabricInfo{Tenant: tenant, Name: fabric, Regions: n.cfg.Regions()})
}

// adoptNamespaceLocked records the tenant and fabric of a stream that
// exists elsewhere (the region's, or another region's through
// replication): they exist there, so they exist. n.mu is held.
func (n *Node) adoptNamespaceLocked(name naming.Stream) {
	if _, ok := n.fabrics[fabricKey{name.Tenant, name.Fabric}]; ok {
		return
	}
	if _, err := n.ensureFabricLocked(name.Tenant, name.Fabric); err != nil {
		n.log.Warn("recording the fabric of a stream of the region", zap.String("stream", name.String()), zap.Error(err))
	}
}
