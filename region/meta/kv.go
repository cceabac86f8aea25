package meta

import (
	"context"
	"fmt"

	"github.com/causeway/causeway/region"
)

// The region's key-value map (region.State.KV) through the group: writes
// are proposals (committed on a majority, applied here before they
// return), reads are either local (Get: this node's applied state, cheap,
// possibly behind) or linearizable (Read: reflects every write committed
// before the call). Bounds and refusals are region's (kv.go): a refused
// write returns ErrRefused wrapping the reason, an invalid one
// region.ErrInvalid before anything is proposed.

// Get returns the value of key as applied on this node.
func (g *Group) Get(key string) (string, bool) {
	v, _ := g.sm.Lookup(kvQuery{key: key})
	a := v.(kvAnswer)
	return a.value, a.ok
}

// Read returns the value of key as of a linearizable read; ErrUnavailable
// if no quorum answers in time.
func (g *Group) Read(ctx context.Context, key string) (string, bool, error) {
	v, err := g.read(ctx, kvQuery{key: key})
	if err != nil {
		return "", false, fmt.Errorf("meta: read %q: %w", key, err)
	}
	a := v.(kvAnswer)
	return a.value, a.ok, nil
}

// Scan returns every key beginning with prefix and its value, as of a
// linearizable read.
func (g *Group) Scan(ctx context.Context, prefix string) (map[string]string, error) {
	v, err := g.read(ctx, kvScan{prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("meta: scan %q: %w", prefix, err)
	}
	return v.(map[string]string), nil
}

// Put stores value under key.
func (g *Group) Put(ctx context.Context, key, value string) error {
	return g.proposeKV(ctx, region.Command{Kind: region.KindPutKV, Key: key, Value: value})
}

// Delete removes key (a missing key is not an error).
func (g *Group) Delete(ctx context.Context, key string) error {
	return g.proposeKV(ctx, region.Command{Kind: region.KindDeleteKV, Key: key})
}

// DeletePrefix removes every key that begins with prefix (not empty).
func (g *Group) DeletePrefix(ctx context.Context, prefix string) error {
	return g.proposeKV(ctx, region.Command{Kind: region.KindDeletePrefix, Key: prefix})
}

func (g *Group) proposeKV(ctx context.Context, c region.Command) error {
	if err := g.Propose(ctx, c); err != nil {
		return fmt.Errorf("meta: %s %q: %w", c.Kind, c.Key, err)
	}
	return nil
}
