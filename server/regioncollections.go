package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/region/ship"
	"github.com/causeway/causeway/server/cluster"
)

// collectionsRegion gives the collections service its region of several
// nodes (service.Cluster): the region's key-value map, where the catalog
// of collections lives, its nodes, and streams created on shared replicas.
// It is handed to the service before the region's group runs (the service
// opens first) and serves once start gave it the group.
type collectionsRegion struct {
	running atomic.Pointer[collectionsRunning]
	started chan struct{}
	// group, when set (a geo-replicated region), is the co-location group
	// every collection's streams join (the region's replication, which
	// carries their ops, runs on the node leading it); otherwise each
	// collection's streams form a group of their own.
	unitGroup string
}

type collectionsRunning struct {
	group *meta.Group
	ship  *ship.Manager
}

var _ service.Cluster = (*collectionsRegion)(nil)

func newCollectionsRegion() *collectionsRegion {
	return &collectionsRegion{started: make(chan struct{})}
}

// start gives it the running group and log shipping.
func (c *collectionsRegion) start(g *meta.Group, m *ship.Manager) {
	if c.running.Swap(&collectionsRunning{group: g, ship: m}) == nil {
		close(c.started)
	}
}

// stop detaches them (the node is leaving its group).
func (c *collectionsRegion) stop() {
	if c != nil {
		c.running.Store(nil)
	}
}

var errNotInGroup = errors.New("server: this node is not in its region's metadata group (starting, or stopping)")

func (c *collectionsRegion) group() (*collectionsRunning, error) {
	rt := c.running.Load()
	if rt == nil {
		return nil, errNotInGroup
	}
	return rt, nil
}

// KVRead implements service.Cluster.
func (c *collectionsRegion) KVRead(ctx context.Context, key string) (string, bool, error) {
	rt, err := c.group()
	if err != nil {
		return "", false, err
	}
	return rt.group.Read(ctx, key)
}

// KVScan implements service.Cluster.
func (c *collectionsRegion) KVScan(ctx context.Context, prefix string) (map[string]string, error) {
	rt, err := c.group()
	if err != nil {
		return nil, err
	}
	return rt.group.Scan(ctx, prefix)
}

// KVPut implements service.Cluster.
func (c *collectionsRegion) KVPut(ctx context.Context, key, value string) error {
	rt, err := c.group()
	if err != nil {
		return err
	}
	return rt.group.Put(ctx, key, value)
}

// KVDelete implements service.Cluster.
func (c *collectionsRegion) KVDelete(ctx context.Context, key string) error {
	rt, err := c.group()
	if err != nil {
		return err
	}
	return rt.group.Delete(ctx, key)
}

// Changed implements service.Cluster: the group applied an entry, or a
// replica here started or stopped leading.
func (c *collectionsRegion) Changed() <-chan struct{} {
	rt := c.running.Load()
	if rt == nil {
		return c.started
	}
	changed := make(chan struct{})
	metaCh, shipCh := rt.group.Changed(), rt.ship.Changed()
	go func() {
		select {
		case <-metaCh:
		case <-shipCh:
		}
		close(changed)
	}()
	return changed
}

// Self implements service.Cluster.
func (c *collectionsRegion) Self() uint64 {
	rt := c.running.Load()
	if rt == nil {
		return 0
	}
	return uint64(rt.group.Self().Node)
}

// NodeURL implements service.Cluster.
func (c *collectionsRegion) NodeURL(id uint64) (string, bool) {
	rt := c.running.Load()
	if rt == nil {
		return "", false
	}
	n := rt.group.Local().Nodes[region.NodeID(id)]
	if n == nil || n.Addrs.HTTP == "" {
		return "", false
	}
	return n.Addrs.HTTP, true
}

// CreateStreams implements service.Cluster: every stream a unit of the
// region on the same replicas, in the same order (the first is the
// preferred leader of them all), with the region's default factor.
func (c *collectionsRegion) CreateStreams(ctx context.Context, names []naming.Stream, info broker.StreamInfo) error {
	rt, err := c.group()
	if err != nil {
		return err
	}
	st, err := rt.group.State(ctx)
	if err != nil {
		return err
	}
	if info.Partitions == 0 {
		info.Partitions = 1
	}
	desc, err := broker.MarshalRegionInfo(info)
	if err != nil {
		return err
	}
	active := 0
	for _, n := range st.Nodes {
		if n.Status == region.NodeActive {
			active++
		}
	}
	factor := region.DefaultFactor(active)
	group := c.unitGroup
	if group == "" && len(names) > 0 {
		group = "collection:" + string(cluster.UnitOf(names[0]))
	}
	if ids := st.GroupUnits(group); len(ids) > 0 {
		factor = st.Units[ids[0]].Factor
	}
	replicas, err := region.PlaceIn(st, group, factor)
	if err != nil {
		return fmt.Errorf("server: place the collection's streams: %w", err)
	}
	for _, name := range names {
		unit := cluster.UnitOf(name)
		if st.Units[unit] != nil {
			continue
		}
		err := rt.group.Propose(ctx, region.Command{Kind: region.KindCreateUnit, Unit: unit, Factor: factor, Replicas: replicas, Info: desc, Group: group})
		if errors.Is(err, region.ErrRefused) {
			if now, rerr := rt.group.State(ctx); rerr == nil && now.Units[unit] != nil {
				continue // another node created it first
			}
		}
		if err != nil {
			return fmt.Errorf("server: create %s in the region: %w", name, err)
		}
	}
	return nil
}

// ReplicationNode implements service.Cluster: the node leading the
// region's geo co-location group (regiongeo.go), which runs the region's
// replication.
func (c *collectionsRegion) ReplicationNode() (uint64, bool) {
	rt := c.running.Load()
	if rt == nil || c.unitGroup == "" {
		return 0, false
	}
	leader, _, ok := rt.group.Local().GroupLeader(c.unitGroup)
	return uint64(leader), ok
}
