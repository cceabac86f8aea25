package server

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
)

// regionAuth makes the node's API keys, revocations and token secret its
// region's (broker/auth regionkeys.go) when the node serves the region's
// streams: a request proxied to a stream's leader carries the client's
// credentials, so every node must accept the same ones. Its token secret
// is the region's from the start (useAuth); its keys follow once the
// region's group runs (start), written to and read from the group's
// key-value map. In a geo-replicated region of several nodes the keys
// created over the API are the fabric's too: their events go through the
// region's replication (authrepl.Attach gives the service the standby)
// and are kept in the same map (broker/auth regionfabric.go). Nil (every
// method a no-op) for a region of one node and a metadata-only node,
// whose keys stay as before.
type regionAuth struct {
	sec *auth.Service

	mu     sync.Mutex
	detach func()
}

// useAuth gives sec the region's token secret, before the node serves, and
// keeps it for start.
func (rt *regionRuntime) useAuth(sec *auth.Service) error {
	if rt == nil || rt.streams == nil {
		return nil
	}
	if err := sec.UseRegion(rt.cfg.Region, rt.cfg.Secret); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	rt.auth = &regionAuth{sec: sec}
	return nil
}

// start attaches the keys to the running group.
func (a *regionAuth) start(g *meta.Group) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.detach == nil {
		a.detach = a.sec.AttachRegion(authMap{g: g})
	}
}

// stop stops watching the group (the node leaves it).
func (a *regionAuth) stop() {
	if a == nil {
		return
	}
	a.mu.Lock()
	detach := a.detach
	a.mu.Unlock()
	if detach != nil {
		detach()
	}
}

// authMap is the group's key-value map as auth.RegionMap, with the map's
// errors as auth's: an entry over the map's bound or otherwise invalid is
// ErrBadRequest (400), anything else (no quorum, a full map, a closed
// group) ErrUnavailable (503: retry).
type authMap struct{ g *meta.Group }

var _ auth.RegionMap = authMap{}

func (m authMap) Get(key string) (string, bool) { return m.g.Get(key) }

func (m authMap) Changed() <-chan struct{} { return m.g.Changed() }

func (m authMap) Scan(ctx context.Context, prefix string) (map[string]string, error) {
	out, err := m.g.Scan(ctx, prefix)
	return out, authMapError(err)
}

func (m authMap) Put(ctx context.Context, key, value string) error {
	if n := region.KVEntryBytes(key, value); n > region.MaxKVEntryBytes {
		return fmt.Errorf("%w: the entry %s takes %d bytes, the region's map holds at most %d (fewer or shorter permissions)",
			auth.ErrBadRequest, key, n, region.MaxKVEntryBytes)
	}
	return authMapError(m.g.Put(ctx, key, value))
}

func (m authMap) Delete(ctx context.Context, key string) error {
	return authMapError(m.g.Delete(ctx, key))
}

func authMapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, region.ErrInvalid):
		return fmt.Errorf("%w: %w", auth.ErrBadRequest, err)
	}
	return fmt.Errorf("%w: the region's metadata group: %w", auth.ErrUnavailable, err)
}
