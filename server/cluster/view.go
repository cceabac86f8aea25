package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/region"
)

// This file gives the front ends the region as the metadata says
// (broker.ClusterView: nodes and each stream's placement, for Kafka
// Metadata and group coordinators) and the region's key-value map
// (broker.RegionKV: Kafka topic metadata and committed group offsets).

var (
	_ broker.ClusterView = (*Streams)(nil)
	_ broker.RegionKV    = (*Streams)(nil)
)

// kvMetadata is the key-value map of the region's metadata group
// (*meta.Group).
type kvMetadata interface {
	Get(key string) (string, bool)
	Read(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
	DeletePrefix(ctx context.Context, prefix string) error
}

// clusterNode is node n as the broker names it.
func clusterNode(n *region.Node) broker.ClusterNode {
	return broker.ClusterNode{ID: uint64(n.ID), HTTP: n.Addrs.HTTP, Kafka: n.Addrs.Kafka}
}

// SelfID implements broker.ClusterView.
func (s *Streams) SelfID() uint64 {
	rt := s.running.Load()
	if rt == nil {
		return 0
	}
	return uint64(rt.meta.Self().Node)
}

// Nodes implements broker.ClusterView: the members not fenced.
func (s *Streams) Nodes() []broker.ClusterNode {
	rt := s.running.Load()
	if rt == nil {
		return nil
	}
	st := rt.meta.Local()
	var out []broker.ClusterNode
	for _, id := range st.NodeIDs() {
		if n := st.Nodes[id]; n.Status != region.NodeFenced {
			out = append(out, clusterNode(n))
		}
	}
	return out
}

// Placements implements broker.ClusterView.
func (s *Streams) Placements(names []naming.Stream) map[naming.Stream]broker.StreamPlacement {
	out := make(map[naming.Stream]broker.StreamPlacement, len(names))
	rt := s.running.Load()
	if rt == nil {
		return out
	}
	st := rt.meta.Local() // one copy of the metadata for them all
	for _, name := range names {
		u := st.Units[UnitOf(name)]
		if u == nil {
			continue
		}
		p := broker.StreamPlacement{Leader: uint64(u.Leader), Epoch: u.Epoch}
		for _, id := range u.Replicas {
			p.Replicas = append(p.Replicas, uint64(id))
		}
		for _, m := range u.InSync {
			p.InSync = append(p.InSync, uint64(m.Node))
		}
		out[name] = p
	}
	return out
}

// kv returns the running group's key-value map.
func (s *Streams) kv() (kvMetadata, error) {
	rt := s.running.Load()
	if rt == nil {
		return nil, fmt.Errorf("%w: %w", broker.ErrRegionUnavailable, errNotStarted)
	}
	kv, ok := rt.meta.(kvMetadata)
	if !ok {
		return nil, fmt.Errorf("%w: the region's metadata keeps no key-value map", broker.ErrRegionUnavailable)
	}
	return kv, nil
}

// kvError marks an error of the group as the broker's
// ErrRegionUnavailable unless the state refused the command (certainly
// not committed, and retrying will not help): no quorum, a timeout, a
// request canceled as the node stops - the outcome is unknown and a retry
// may succeed.
func kvError(err error) error {
	if err == nil || errors.Is(err, region.ErrRefused) || errors.Is(err, region.ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %w", broker.ErrRegionUnavailable, err)
}

// KVGet implements broker.RegionKV.
func (s *Streams) KVGet(key string) (string, bool, error) {
	kv, err := s.kv()
	if err != nil {
		return "", false, err
	}
	v, ok := kv.Get(key)
	return v, ok, nil
}

// KVRead implements broker.RegionKV.
func (s *Streams) KVRead(ctx context.Context, key string) (string, bool, error) {
	kv, err := s.kv()
	if err != nil {
		return "", false, err
	}
	v, ok, err := kv.Read(ctx, key)
	return v, ok, kvError(err)
}

// KVPut implements broker.RegionKV.
func (s *Streams) KVPut(ctx context.Context, key, value string) error {
	kv, err := s.kv()
	if err != nil {
		return err
	}
	return kvError(kv.Put(ctx, key, value))
}

// KVDelete implements broker.RegionKV.
func (s *Streams) KVDelete(ctx context.Context, key string) error {
	kv, err := s.kv()
	if err != nil {
		return err
	}
	return kvError(kv.Delete(ctx, key))
}

// KVDeletePrefix implements broker.RegionKV.
func (s *Streams) KVDeletePrefix(ctx context.Context, prefix string) error {
	kv, err := s.kv()
	if err != nil {
		return err
	}
	return kvError(kv.DeletePrefix(ctx, prefix))
}
