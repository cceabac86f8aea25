package broker

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/causeway/causeway/broker/naming"
)

// Metadata keys in the node's Pebble store. Names never contain '/', so the
// '/'-separated keys cannot collide.
const (
	prefixTenant = "meta/tenant/"
	prefixFabric = "meta/fabric/"
	prefixStream = "meta/stream/"
)

func tenantKey(t string) []byte        { return []byte(prefixTenant + t) }
func fabricMetaKey(t, f string) []byte { return []byte(prefixFabric + t + "/" + f) }
func streamMetaKey(s naming.Stream) []byte {
	return []byte(prefixStream + s.Tenant + "/" + s.Fabric + "/" + s.Name)
}

func (n *Node) saveJSON(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("broker: encode %s: %w", key, err)
	}
	if err := n.meta.Set(key, b, pebble.Sync); err != nil {
		return fmt.Errorf("broker: save %s: %w", key, err)
	}
	return nil
}

// loadRegistry restores tenants, fabrics and persistent streams, and makes
// sure the default tenant and the _system fabric exist.
func (n *Node) loadRegistry() error {
	if err := n.scan(prefixTenant, func(key string, _ []byte) error {
		n.tenants[key] = true
		return nil
	}); err != nil {
		return err
	}
	if err := n.scan(prefixFabric, func(key string, val []byte) error {
		var fi FabricInfo
		if err := json.Unmarshal(val, &fi); err != nil {
			return fmt.Errorf("broker: fabric %s: %w", key, err)
		}
		n.fabrics[fabricKey{fi.Tenant, fi.Name}] = fi
		return nil
	}); err != nil {
		return err
	}
	if _, err := n.ensureFabricLocked(naming.DefaultTenant, naming.SystemFabric); err != nil {
		return err
	}
	if n.cfg.Cluster != nil {
		return nil // persistent streams are the region's (clusterLoop)
	}
	return n.scan(prefixStream, func(key string, val []byte) error {
		var info StreamInfo
		if err := json.Unmarshal(val, &info); err != nil {
			return fmt.Errorf("broker: stream %s: %w", key, err)
		}
		parts := strings.Split(key, "/")
		if len(parts) != 3 {
			return fmt.Errorf("broker: bad stream key %q", key)
		}
		name := naming.Stream{Persistent: true, Tenant: parts[0], Fabric: parts[1], Name: parts[2]}
		s, err := n.openStream(name, info)
		if err != nil {
			return err
		}
		n.streams[name] = s
		return nil
	})
}

func (n *Node) scan(prefix string, fn func(key string, val []byte) error) error {
	upper := []byte(prefix)
	upper[len(upper)-1]++
	it, err := n.meta.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: upper})
	if err != nil {
		return fmt.Errorf("broker: scan %s: %w", prefix, err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(strings.TrimPrefix(string(it.Key()), prefix), it.Value()); err != nil {
			_ = it.Close()
			return err
		}
	}
	return it.Close()
}
