package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// sharedStore is the region's replicated key-value map (region/meta) as
// saveShared needs it; reads are linearizable, writes return once a
// majority committed them. A Cluster that offers it keeps durable
// subscriptions and partition counts there, where every node of the
// region sees them; without it they stay in the node's own store.
type sharedStore interface {
	KVRead(ctx context.Context, key string) (value string, found bool, err error)
	KVPut(ctx context.Context, key, value string) error
	KVDelete(ctx context.Context, key string) error
	KVDeletePrefix(ctx context.Context, prefix string) error
	// KVScan returns every key starting with prefix and its value.
	KVScan(ctx context.Context, prefix string) (map[string]string, error)
}

// sharedPrefix namespaces the broker's keys in the region's map.
const sharedPrefix = "broker/"

// sharedTimeout bounds one read or write of the region's map.
const sharedTimeout = 10 * time.Second

// sharedKV is the region's map in a region of several nodes, nil in a
// region of one (the node's own store holds everything).
func (n *Node) sharedKV() sharedStore {
	if n.cfg.Cluster == nil {
		return nil
	}
	kv, _ := n.cfg.Cluster.(sharedStore)
	return kv
}

// saveShared stores JSON metadata every node of the region must see.
func (n *Node) saveShared(key []byte, v any) error {
	kv := n.sharedKV()
	if kv == nil {
		return n.saveJSON(key, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("broker: encode %s: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := kv.KVPut(ctx, sharedPrefix+string(key), string(b)); err != nil {
		return fmt.Errorf("broker: save %s in the region: %w", key, err)
	}
	return nil
}

// getShared reads metadata saved with saveShared.
func (n *Node) getShared(key []byte) ([]byte, bool, error) {
	kv := n.sharedKV()
	if kv == nil {
		b, closer, err := n.meta.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("broker: read %s: %w", key, err)
		}
		defer closer.Close()
		return append([]byte(nil), b...), true, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	v, ok, err := kv.KVRead(ctx, sharedPrefix+string(key))
	if err != nil {
		return nil, false, fmt.Errorf("broker: read %s in the region: %w", key, err)
	}
	return []byte(v), ok, nil
}

// deleteShared removes metadata saved with saveShared.
func (n *Node) deleteShared(key []byte) error {
	kv := n.sharedKV()
	if kv == nil {
		if err := n.meta.Delete(key, pebble.Sync); err != nil {
			return fmt.Errorf("broker: delete %s: %w", key, err)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := kv.KVDelete(ctx, sharedPrefix+string(key)); err != nil {
		return fmt.Errorf("broker: delete %s in the region: %w", key, err)
	}
	return nil
}

// scanShared calls fn for every key saved with saveShared under prefix,
// in key order, with the key relative to prefix.
func (n *Node) scanShared(prefix string, fn func(key string, val []byte) error) error {
	kv := n.sharedKV()
	if kv == nil {
		return n.scan(prefix, fn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	m, err := kv.KVScan(ctx, sharedPrefix+prefix)
	if err != nil {
		return fmt.Errorf("broker: scan %s in the region: %w", prefix, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(strings.TrimPrefix(k, sharedPrefix+prefix), []byte(m[k])); err != nil {
			return err
		}
	}
	return nil
}
