package service

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/store"
)

// The catalog of a region of several nodes: collections (their
// descriptions with indexes, as store.CollectionInfo) and saved queries,
// one key of the region's map each. A collection's description is written
// by the node creating it and then only by the node serving it (index
// changes), one at a time; it carries an ID drawn at creation, the same on
// every node, so that a node whose view belongs to an earlier collection
// of the same name drops it.

// catalogEntry reads ref's description from the catalog.
func (s *Service) catalogEntry(ref Ref) (store.CollectionInfo, bool, error) {
	ctx, cancel := clusterCtx()
	defer cancel()
	v, found, err := s.cluster.KVRead(ctx, catalogKey(ref))
	if err != nil || !found {
		return store.CollectionInfo{}, false, clusterErr("read the catalog", err)
	}
	info, err := decodeCatalog(v)
	return info, err == nil, err
}

// decodeCatalog decodes a catalog entry.
func decodeCatalog(v string) (store.CollectionInfo, error) {
	var info store.CollectionInfo
	if err := json.Unmarshal([]byte(v), &info); err != nil || !info.Catalog || info.ID == 0 {
		return store.CollectionInfo{}, fmt.Errorf("%w: a catalog entry that is not a collection's description", store.ErrCorrupt)
	}
	return info, nil
}

// catalogScan lists the collections of the catalog under prefix.
func (s *Service) catalogScan(prefix string) ([]store.CollectionInfo, error) {
	ctx, cancel := clusterCtx()
	defer cancel()
	m, err := s.cluster.KVScan(ctx, prefix)
	if err != nil {
		return nil, clusterErr("read the catalog", err)
	}
	out := make([]store.CollectionInfo, 0, len(m))
	for k, v := range m {
		info, err := decodeCatalog(v)
		if err != nil {
			s.log.Warn("catalog entry ignored", zap.String("key", k), zap.Error(err))
			continue
		}
		out = append(out, info)
	}
	sortInfos(out)
	return out, nil
}

// putCatalog writes a collection's description to the catalog.
func (s *Service) putCatalog(info store.CollectionInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("collections: encode %s for the catalog: %w", info.Name, err)
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	return clusterErr("save "+ref.String(), s.cluster.KVPut(ctx, catalogKey(ref), string(b)))
}

// catalogID draws a collection id for the catalog: random, with bit 62
// set so that it never meets an id a node allocated itself.
func catalogID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return 1<<62 | binary.BigEndian.Uint64(b[:])&(1<<62-1)
}

// createInCluster creates a collection in the region: its description in
// the catalog, then its two streams (placed together); it returns once a
// node leads the op log (the first request waits there while the
// collection opens).
func (s *Service) createInCluster(tenant, fabric string, spec CollectionSpec) (store.CollectionInfo, error) {
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	if _, found, err := s.catalogEntry(ref); err != nil || found {
		if err == nil {
			err = fmt.Errorf("%w: %s", ErrCollectionExists, spec.Name)
		}
		return store.CollectionInfo{}, err
	}
	streams := []naming.Stream{opLogName(ref), changeFeedName(ref)}
	for _, sn := range streams {
		if _, err := s.node.Stream(sn); err == nil {
			return store.CollectionInfo{}, fmt.Errorf("%w: the streams of an earlier collection named %s are still being deleted; retry", ErrUnavailable, spec.Name)
		}
	}
	info := store.CollectionInfo{
		ID: catalogID(), Tenant: tenant, Fabric: fabric, Name: spec.Name, Type: spec.Type,
		KeyValue: spec.KeyValue, DefaultTTLSeconds: spec.TTLSeconds,
		CreatedAt: s.opts.Now().UnixMilli(), NextIndexID: 1, Catalog: true,
	}
	if err := s.putCatalog(info); err != nil {
		return store.CollectionInfo{}, err
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	if err := s.cluster.CreateStreams(ctx, streams, broker.StreamInfo{CreatedAt: info.CreatedAt}); err != nil {
		return store.CollectionInfo{}, fmt.Errorf("%w: create the streams of %s (drop it and create it again): %w", ErrUnavailable, ref, err)
	}
	if err := s.awaitLeader(ref, clusterCreateWait); err != nil {
		return store.CollectionInfo{}, err
	}
	s.kickCluster()
	s.log.Info("collection created in the region", zap.Stringer("collection", ref), zap.Uint64("id", info.ID), zap.Bool("keyValue", spec.KeyValue))
	return info, nil
}

// awaitLeader waits until this node sees a leader of ref's op log.
func (s *Service) awaitLeader(ref Ref, wait time.Duration) error {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := s.cluster.Changed()
		if st, err := s.node.Stream(opLogName(ref)); err == nil {
			if l, local := st.Leader(); local || l.ID != 0 {
				return nil
			}
		}
		select {
		case <-changed:
		case <-time.After(clusterPoll):
		case <-deadline.C:
			return fmt.Errorf("%w: %s was created but no node of the region leads its op log after %s; retry", ErrUnavailable, ref, wait)
		case <-s.stop:
			return fmt.Errorf("%w: shutting down", ErrUnavailable)
		}
	}
}

// dropInCluster drops a collection from the region: its streams (their
// replicas delete them), then its description. The node serving it (the
// HTTP front end sends the request there) stops at once; every other
// node's loop deletes its view.
func (s *Service) dropInCluster(ref Ref) error {
	info, found, err := s.catalogEntry(ref)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
	}
	for _, sn := range []naming.Stream{opLogName(ref), changeFeedName(ref)} {
		if err := s.node.DeleteInternalStream(sn); err != nil && !errors.Is(err, broker.ErrStreamNotFound) {
			return fmt.Errorf("%w: drop %s: %w", ErrUnavailable, ref, err)
		}
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	if err := s.cluster.KVDelete(ctx, catalogKey(ref)); err != nil {
		return clusterErr("drop "+ref.String(), err)
	}
	if s.geoClustered() {
		s.deleteRegionShipped(ref)
	}
	s.forgetServed(ref)
	s.kickCluster()
	s.log.Info("collection dropped in the region", zap.Stringer("collection", ref), zap.Uint64("id", info.ID))
	return nil
}

// Saved queries in a region of several nodes: one key each.

// checkQueryFits refuses a saved query too large for the region's map.
func checkQueryFits(b []byte) error {
	if len(b) > maxClusterQueryBytes {
		return fmt.Errorf("%w: a saved query of %d bytes; in a region of several nodes the limit is %d", ErrTooLarge, len(b), maxClusterQueryBytes)
	}
	return nil
}

// maxClusterQueryBytes bounds a saved query's JSON in the region's map
// (an entry of the map is bounded by one metadata command, ~16 KiB).
const maxClusterQueryBytes = 12 << 10

func (s *Service) clusterSavedQuery(tenant, fabric, name string) (store.SavedQuery, error) {
	ctx, cancel := clusterCtx()
	defer cancel()
	v, found, err := s.cluster.KVRead(ctx, queryKey(tenant, fabric, name))
	if err != nil {
		return store.SavedQuery{}, clusterErr("read saved query "+name, err)
	}
	if !found {
		return store.SavedQuery{}, fmt.Errorf("%w: saved query %s", store.ErrNotFound, name)
	}
	var q store.SavedQuery
	if err := json.Unmarshal([]byte(v), &q); err != nil {
		return store.SavedQuery{}, fmt.Errorf("%w: saved query %s: %w", store.ErrCorrupt, name, err)
	}
	return q, nil
}

func (s *Service) clusterSavedQueries(tenant, fabric string) ([]store.SavedQuery, error) {
	ctx, cancel := clusterCtx()
	defer cancel()
	m, err := s.cluster.KVScan(ctx, queryKey(tenant, fabric, ""))
	if err != nil {
		return nil, clusterErr("list saved queries", err)
	}
	out := make([]store.SavedQuery, 0, len(m))
	for k, v := range m {
		var q store.SavedQuery
		if err := json.Unmarshal([]byte(v), &q); err != nil {
			return nil, fmt.Errorf("%w: saved query %q: %w", store.ErrCorrupt, k, err)
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b store.SavedQuery) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *Service) clusterPutQuery(tenant, fabric string, q store.SavedQuery) error {
	b, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("collections: encode saved query %s: %w", q.Name, err)
	}
	if err := checkQueryFits(b); err != nil {
		return err
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	return clusterErr("save query "+q.Name, s.cluster.KVPut(ctx, queryKey(tenant, fabric, q.Name), string(b)))
}

func (s *Service) clusterDeleteQuery(tenant, fabric, name string) error {
	if _, err := s.clusterSavedQuery(tenant, fabric, name); err != nil {
		return err
	}
	ctx, cancel := clusterCtx()
	defer cancel()
	return clusterErr("delete saved query "+name, s.cluster.KVDelete(ctx, queryKey(tenant, fabric, name)))
}

// describeInCluster returns a collection's description: the served one
// when this node serves it, else the catalog's.
func (s *Service) describeInCluster(ref Ref) (store.CollectionInfo, error) {
	if err := s.checkFabric(ref.Tenant, ref.Fabric); err != nil {
		return store.CollectionInfo{}, err
	}
	s.mu.RLock()
	c := s.cols[ref]
	s.mu.RUnlock()
	if c != nil {
		return *c.info.Load(), nil
	}
	info, found, err := s.catalogEntry(ref)
	if err != nil {
		return store.CollectionInfo{}, err
	}
	if !found {
		return store.CollectionInfo{}, fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
	}
	return info, nil
}

// forgetServed stops serving a dropped collection here and deletes its
// view (unless a pass of the loop is opening or closing it: the loop then
// does).
func (s *Service) forgetServed(ref Ref) {
	s.mu.Lock()
	c := s.cols[ref]
	if c == nil || s.busy[ref] {
		s.mu.Unlock()
		return
	}
	delete(s.cols, ref)
	s.busy[ref] = true
	s.notifyServedLocked()
	s.mu.Unlock()
	c.close()
	if err := s.store.DropCollection(*c.info.Load()); err != nil {
		c.log.Warn("deleting the view of the dropped collection (the loop tries again)", zap.Error(err))
	}
	s.seq.Forget(ref)
	s.mu.Lock()
	delete(s.busy, ref)
	s.mu.Unlock()
}
