package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/store"
	"github.com/causeway/causeway/replicator/shell"
)

// A geo-replicated region of several nodes (Options.Cluster and
// AttachReplication together; the package comment, "A geo-replicated
// region of several nodes", says what each piece of state becomes when a
// collection's lead moves). The region's replication runs on one node,
// the one leading the co-location group of its journals, and every
// collection's streams are in that group, so that node serves every
// collection too but for moments of failover. Metadata changes are
// replicated through it (other nodes send their requests there, or answer
// 503 while it moves), and the region's catalog is written where they are
// applied.

// Keys of the region's map in this mode.
const (
	// shippedPrefix + tenant/fabric/name: "id:offset", the op-log position
	// shipped so far, so that a new leader does not re-ship the whole log.
	shippedPrefix = "collections/s/"
	// metaAppliedPrefix + origin: the highest replicator seq of origin
	// whose metadata event (other than an ack) the region applied.
	metaAppliedPrefix = "collections/m/"
)

// shipSaveInterval spaces the saves of a collection's shipped position to
// the region's map (one Raft commit each); shipSaveTimeout bounds one (the
// shipper, or a node shutting down, waits no longer for a region without
// quorum: the position is only a shortcut).
const (
	shipSaveInterval = time.Second
	shipSaveTimeout  = 2 * time.Second
)

// geoClustered reports whether the service runs in a geo-replicated region
// of several nodes.
func (s *Service) geoClustered() bool { return s.clustered() && s.geo != nil }

func shippedKey(ref Ref) string {
	return shippedPrefix + ref.Tenant + "/" + ref.Fabric + "/" + ref.Collection
}

// LocateReplication says where a change of the region's catalog that must
// reach the other regions (creating a collection, saving or deleting a
// saved query) is served: nil for this node (and in every other mode), an
// *ElsewhereError naming the node running the region's replication, or an
// error wrapping ErrUnavailable while none does.
func (s *Service) LocateReplication() error {
	if !s.geoClustered() || s.replication() == nil {
		return nil
	}
	id, ok := s.cluster.ReplicationNode()
	switch {
	case !ok:
		return fmt.Errorf("%w: no node of the region runs its replication now; retry", ErrUnavailable)
	case id == s.cluster.Self():
		return nil
	}
	url, ok := s.cluster.NodeURL(id)
	if !ok {
		return fmt.Errorf("%w: node %d runs the region's replication but has no address; retry", ErrUnavailable, id)
	}
	return &ElsewhereError{What: "the region's replication", Node: id, URL: url}
}

// createReplicatedInCluster creates a collection in every region from a
// geo-replicated region of several nodes: the creation is published as a
// metadata event (this node must run the region's replication) and
// applied here like everywhere (applyCreateInCluster: the catalog and the
// streams); it returns once a node leads the collection's op log.
func (s *Service) createReplicatedInCluster(r Replication, tenant, fabric string, spec CollectionSpec) (store.CollectionInfo, error) {
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	if _, found, err := s.catalogEntry(ref); err != nil || found {
		if err == nil {
			err = fmt.Errorf("%w: %s", ErrCollectionExists, spec.Name)
		}
		return store.CollectionInfo{}, err
	}
	m := &MetaEvent{Type: MetaCreateCollection, Tenant: tenant, Fabric: fabric, Collection: spec.Name, Spec: &spec, CreatedAt: s.opts.Now().UnixMilli()}
	if err := s.replicateMeta(r, m); err != nil {
		return store.CollectionInfo{}, err
	}
	if err := s.awaitLeader(ref, clusterCreateWait); err != nil {
		return store.CollectionInfo{}, err
	}
	s.kickCluster()
	info, found, err := s.catalogEntry(ref)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s was dropped meanwhile", ErrCollectionNotFound, spec.Name)
	}
	return info, err
}

// applyCreateInCluster applies a replicated creation in a region of
// several nodes: the collection's description goes to the catalog unless
// it holds one (the creation was applied before, or a concurrent one of
// the same name won), then its streams are created (those that exist are
// kept). The first request waits for a node to lead them.
func (s *Service) applyCreateInCluster(tenant, fabric string, spec CollectionSpec, createdAt int64) error {
	spec, err := checkSpec(spec)
	if err != nil {
		return err
	}
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	info, found, err := s.catalogEntry(ref)
	if err != nil {
		return err
	}
	streams := []naming.Stream{opLogName(ref), changeFeedName(ref)}
	if !found {
		for _, sn := range streams {
			if _, err := s.node.Stream(sn); err == nil {
				return fmt.Errorf("%w: the streams of an earlier collection named %s are still being deleted", ErrUnavailable, spec.Name)
			}
		}
		info = store.CollectionInfo{
			ID: catalogID(), Tenant: tenant, Fabric: fabric, Name: spec.Name, Type: spec.Type,
			KeyValue: spec.KeyValue, DefaultTTLSeconds: spec.TTLSeconds,
			CreatedAt: createdAt, NextIndexID: 1, Catalog: true,
		}
		if err := s.putCatalog(info); err != nil {
			return err
		}
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	if err := s.cluster.CreateStreams(ctx, streams, broker.StreamInfo{CreatedAt: info.CreatedAt}); err != nil {
		return fmt.Errorf("%w: create the streams of %s: %w", ErrUnavailable, ref, err)
	}
	s.kickCluster()
	if !found {
		s.log.Info("collection created in the region", zap.Stringer("collection", ref), zap.Uint64("id", info.ID), zap.Bool("keyValue", spec.KeyValue))
	}
	return nil
}

// metaApplied reports whether the region applied origin's metadata event
// seq already (a node that ran the region's replication before this one
// applied it, and the shell's watermark had not moved past it): applied
// again, a drop could delete a collection created after it.
func (s *Service) metaApplied(origin string, seq uint64) (bool, error) {
	ctx, cancel := clusterCtx()
	defer cancel()
	v, found, err := s.cluster.KVRead(ctx, metaAppliedPrefix+origin)
	if err != nil || !found {
		return false, clusterErr("read the applied metadata events", err)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.rate.Warn(s.log, "meta applied", "a corrupt mark of applied metadata events ignored", zap.String("origin", origin), zap.String("value", v))
		return false, nil
	}
	return seq <= n, nil
}

// markMetaApplied records that the region applied origin's metadata event
// seq (and every earlier one: each origin's events are applied in order).
func (s *Service) markMetaApplied(origin string, seq uint64) error {
	ctx, cancel := clusterCtx()
	defer cancel()
	return clusterErr("record an applied metadata event", s.cluster.KVPut(ctx, metaAppliedPrefix+origin, strconv.FormatUint(seq, 10)))
}

// applyMetaInCluster applies a metadata event other than an ack in a
// geo-replicated region of several nodes, once in the region.
func (s *Service) applyMetaInCluster(origin string, seq uint64, m *MetaEvent) error {
	done, err := s.metaApplied(origin, seq)
	if err != nil || done {
		return err
	}
	if err := s.applyMeta(origin, m); err != nil {
		return err
	}
	return s.markMetaApplied(origin, seq)
}

// regionShipped returns the op-log position of collection info shipped
// so far by any node of the region (0 when none is known).
func (s *Service) regionShipped(info *store.CollectionInfo) uint64 {
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	ctx, cancel := clusterCtx()
	defer cancel()
	v, found, err := s.cluster.KVRead(ctx, shippedKey(ref))
	if err != nil || !found {
		if err != nil {
			s.rate.Warn(s.log, "shipped "+ref.String(), "reading the shipped position from the region (shipping from this node's)", zap.Error(err))
		}
		return 0
	}
	id, off, ok := strings.Cut(v, ":")
	if !ok || id != strconv.FormatUint(info.ID, 10) {
		return 0 // an earlier collection's
	}
	n, err := strconv.ParseUint(off, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// saveRegionShipped records the shipped position in the region's map.
func (s *Service) saveRegionShipped(info *store.CollectionInfo, pos uint64) error {
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	ctx, cancel := context.WithTimeout(context.Background(), shipSaveTimeout)
	defer cancel()
	return s.cluster.KVPut(ctx, shippedKey(ref), strconv.FormatUint(info.ID, 10)+":"+strconv.FormatUint(pos, 10))
}

// deleteRegionShipped forgets a dropped collection's shipped position.
func (s *Service) deleteRegionShipped(ref Ref) {
	ctx, cancel := clusterCtx()
	defer cancel()
	if err := s.cluster.KVDelete(ctx, shippedKey(ref)); err != nil {
		s.log.Debug("forgetting the shipped position of a dropped collection", zap.Stringer("collection", ref), zap.Error(err))
	}
}

// applyLater marks an apply error the shell must retry: the op is not
// applied here now (the collection opens on this node, is served by
// another for a moment, or the region's map did not answer), and the
// shell applies it again from its journal (shell.ErrApplyLater).
func applyLater(err error) error {
	if err == nil || !errors.Is(err, ErrUnavailable) || errors.Is(err, shell.ErrApplyLater) {
		return err
	}
	return fmt.Errorf("%w: %w", shell.ErrApplyLater, err)
}

// regionJoined reports whether the region's replication is attached and
// joined (its own ops of a previous life, if any, are back).
func (s *Service) regionJoined() bool {
	r := s.replication()
	return r != nil && r.Joined()
}
