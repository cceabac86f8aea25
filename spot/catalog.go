package spot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/causeway/causeway/collections"
)

// CollectionSpec is what creating a SPOT collection takes.
type CollectionSpec struct {
	Name string `json:"name"`
	// Home is the region whose group serves the collection (default: the
	// region creating it). It never changes.
	Home     string `json:"homeRegion,omitempty"`
	KeyValue bool   `json:"keyValue,omitempty"`
}

// CreateCollection creates a SPOT collection in its home region's group
// (forwarding there when it is another region).
func (s *Service) CreateCollection(ctx context.Context, tenant, fabric string, spec CollectionSpec) (CollectionInfo, error) {
	return s.createCollection(ctx, tenant, fabric, spec, "")
}

func (s *Service) createCollection(ctx context.Context, tenant, fabric string, spec CollectionSpec, forwardedFrom string) (CollectionInfo, error) {
	if s.closed.Load() {
		return CollectionInfo{}, ErrClosed
	}
	if spec.Home == "" {
		spec.Home = s.cfg.Region
	}
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	if err := ref.Validate(); err != nil {
		return CollectionInfo{}, err
	}
	if err := validateRegion(spec.Home); err != nil {
		return CollectionInfo{}, err
	}
	if regions := s.fabricRegions(tenant, fabric); regions != nil && !slices.Contains(regions, spec.Home) {
		return CollectionInfo{}, fmt.Errorf("%w: homeRegion %s: fabric %s is served in %s only", ErrBadRequest, spec.Home, fabric, strings.Join(regions, ", "))
	}
	if s.opts.Regular != nil && s.opts.Regular(ref) {
		return CollectionInfo{}, fmt.Errorf("%w: %s (a regular collection has that name)", ErrCollectionExists, spec.Name)
	}
	if spec.Home == s.cfg.Region && s.group == nil && s.opts.RegionNodes == nil {
		return CollectionInfo{}, fmt.Errorf("%w: region %s runs no SPOT replicas: give the collection a homeRegion that does", ErrBadRequest, s.cfg.Region)
	}
	if spec.Home != s.cfg.Region || !s.servesLocally() {
		if forwardedFrom != "" {
			return CollectionInfo{}, fmt.Errorf("%w: request forwarded from %s to %s, which does not serve %s", ErrUnavailable, forwardedFrom, s.cfg.Region, spec.Home)
		}
		info, err := s.fwd.createCollection(ctx, tenant, fabric, spec)
		if err == nil {
			s.remember(info)
		}
		return info, err
	}
	cmd, err := encodeCommand(&command{ID: newRequestID(), NowMs: uint64(s.cfg.Now().UnixMilli()), Tenant: tenant, Fabric: fabric,
		Create: &CollectionInfo{Name: spec.Name, Home: spec.Home, KeyValue: spec.KeyValue}})
	if err != nil {
		return CollectionInfo{}, err
	}
	out, err := s.group.propose(ctx, cmd)
	if err != nil {
		return CollectionInfo{}, err
	}
	if out.Err != nil {
		return CollectionInfo{}, out.Err.err()
	}
	s.remember(*out.Info)
	return *out.Info, nil
}

// DropCollection deletes a SPOT collection and its documents.
func (s *Service) DropCollection(ctx context.Context, ref Ref) error {
	return s.dropCollection(ctx, ref, "")
}

func (s *Service) dropCollection(ctx context.Context, ref Ref, forwardedFrom string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	info, err := s.resolve(ctx, ref, forwardedFrom != "")
	if err != nil {
		return err
	}
	s.forget(ref)
	if info.Home != s.cfg.Region || !s.servesLocally() {
		return s.fwd.dropCollection(ctx, info.Home, ref)
	}
	cmd, err := encodeCommand(&command{ID: newRequestID(), NowMs: uint64(s.cfg.Now().UnixMilli()), Tenant: ref.Tenant, Fabric: ref.Fabric, Drop: ref.Collection})
	if err != nil {
		return err
	}
	out, err := s.group.propose(ctx, cmd)
	if err != nil {
		return err
	}
	if out.Err != nil {
		return out.Err.err()
	}
	return nil
}

// Collection describes a SPOT collection, wherever its home is.
func (s *Service) Collection(ctx context.Context, ref Ref) (CollectionInfo, error) {
	if err := ref.Validate(); err != nil {
		return CollectionInfo{}, err
	}
	return s.resolve(ctx, ref, false)
}

// Collections lists the SPOT collections of a fabric homed in home (""
// for this region).
func (s *Service) Collections(ctx context.Context, tenant, fabric, home string) ([]CollectionInfo, error) {
	if err := validateFabric(tenant, fabric); err != nil {
		return nil, err
	}
	if home == "" {
		home = s.cfg.Region
	}
	if home == s.cfg.Region && s.group == nil && s.opts.RegionNodes == nil {
		// A region of one node without replicas runs no group: it homes
		// no SPOT collection.
		return []CollectionInfo{}, nil
	}
	if home != s.cfg.Region || !s.servesLocally() {
		return s.fwd.collections(ctx, home, tenant, fabric)
	}
	v, err := s.group.read(ctx, collectionsQuery{tenant: tenant, fabric: fabric})
	if err != nil {
		return nil, err
	}
	return v.([]CollectionInfo), nil
}

// IsSpot reports whether ref is a SPOT collection: unless Options.Regular
// knows it as a regular collection, from the cache, this node's own
// replicas, or the other regions (a miss there is remembered for
// missTTL, so requests for unknown names do not ask every region each
// time).
func (s *Service) IsSpot(ctx context.Context, ref Ref) bool {
	if _, ok := s.cached(ref); ok {
		return true
	}
	if ref.Validate() != nil {
		return false
	}
	if s.opts.Regular != nil && s.opts.Regular(ref) {
		return false
	}
	if s.servesLocally() {
		for _, nh := range s.group.hosts() {
			v, err := nh.StaleRead(shardID, collectionsQuery{tenant: ref.Tenant, fabric: ref.Fabric, name: ref.Collection})
			if err != nil {
				continue
			}
			if infos := v.([]CollectionInfo); len(infos) == 1 {
				s.remember(infos[0])
				return true
			}
			break
		}
		if s.opts.RegionNodes != nil && s.knownInRegion(ctx, ref) {
			return true
		}
	}
	if !s.hasOtherRegions() || s.recentMiss(ref) {
		return false
	}
	_, err := s.resolve(ctx, ref, false)
	if errors.Is(err, ErrCollectionNotFound) || errors.Is(err, ErrNotSpot) {
		s.rememberMiss(ref)
	}
	return err == nil
}

// missTTL is how long IsSpot remembers that no region knows a name.
const missTTL = 2 * time.Second

// fabricRegions is Options.FabricRegions (nil: every region).
func (s *Service) fabricRegions(tenant, fabric string) []string {
	if s.opts.FabricRegions == nil {
		return nil
	}
	return s.opts.FabricRegions(tenant, fabric)
}

func (s *Service) hasOtherRegions() bool { return len(s.remoteRegions()) > 0 }

// remoteRegions are the regions resolve asks: the others, and first this
// one when this node is one of several of its region and runs no replica
// (it asks the nodes that do).
func (s *Service) remoteRegions() []string {
	others := s.fwd.otherRegions()
	if s.opts.RegionNodes != nil && !s.servesLocally() {
		return append([]string{s.cfg.Region}, others...)
	}
	return others
}

// knownInRegion looks ref up with a linearizable read of the local group,
// within one attempt's time: in a region of several nodes this node's
// replica may not have applied a collection another node just created.
// An unavailable group answers false (the request then goes on as for an
// unknown name).
func (s *Service) knownInRegion(ctx context.Context, ref Ref) bool {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
	defer cancel()
	v, err := s.group.read(ctx, collectionsQuery{tenant: ref.Tenant, fabric: ref.Fabric, name: ref.Collection})
	if err != nil {
		return false
	}
	if infos := v.([]CollectionInfo); len(infos) == 1 {
		s.remember(infos[0])
		return true
	}
	return false
}

func (s *Service) recentMiss(ref Ref) bool {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	at, ok := s.misses[ref]
	return ok && s.cfg.Now().Sub(at) < missTTL
}

func (s *Service) rememberMiss(ref Ref) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	if len(s.misses) >= maxCachedCollections {
		clear(s.misses)
	}
	s.misses[ref] = s.cfg.Now()
}

// resolve finds a collection's description: the cache, the local group,
// then (unless localOnly) the groups of the other regions in name order.
func (s *Service) resolve(ctx context.Context, ref Ref, localOnly bool) (CollectionInfo, error) {
	if info, ok := s.cached(ref); ok {
		return info, nil
	}
	if s.group != nil && (localOnly || s.servesLocally()) {
		v, err := s.group.read(ctx, collectionsQuery{tenant: ref.Tenant, fabric: ref.Fabric, name: ref.Collection})
		if err != nil {
			// Also the first step of a write: say that nothing was written
			// (the group's error speaks of a read).
			return CollectionInfo{}, fmt.Errorf("looking up collection %s (nothing was written; safe to retry): %w", ref.Collection, err)
		}
		if infos := v.([]CollectionInfo); len(infos) == 1 {
			s.remember(infos[0])
			return infos[0], nil
		}
	}
	if !localOnly {
		var unreachable error
		regions := s.fabricRegions(ref.Tenant, ref.Fabric)
		for _, r := range s.remoteRegions() {
			if regions != nil && !slices.Contains(regions, r) {
				continue // the fabric is not served there
			}
			info, err := s.fwd.collection(ctx, r, ref)
			if err == nil {
				s.remember(info)
				return info, nil
			}
			if !errors.Is(err, ErrCollectionNotFound) {
				unreachable = err
			}
		}
		if unreachable != nil {
			if s.opts.Regular != nil && s.opts.Regular(ref) {
				// Most likely a mistake, not an outage: say what it is.
				return CollectionInfo{}, fmt.Errorf("%w: %s is a regular collection here (transactions take SPOT collections only; a region that might hold a SPOT collection of that name did not answer: %v)", ErrNotSpot, ref.Collection, unreachable)
			}
			return CollectionInfo{}, fmt.Errorf("%w: %s is not a SPOT collection of this region, and a region that might hold it did not answer: %w", ErrUnavailable, ref.Collection, unreachable)
		}
	}
	if s.opts.Regular != nil && s.opts.Regular(ref) {
		return CollectionInfo{}, fmt.Errorf("%w: %s is a regular collection (transactions take SPOT collections only)", ErrNotSpot, ref.Collection)
	}
	return CollectionInfo{}, fmt.Errorf("%w: %s (no SPOT collection of that name in fabric %s)", ErrCollectionNotFound, ref.Collection, ref.Fabric)
}

func (s *Service) cached(ref Ref) (CollectionInfo, bool) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	info, ok := s.catalog[ref]
	return info, ok
}

func (s *Service) remember(info CollectionInfo) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	if len(s.catalog) >= maxCachedCollections {
		clear(s.catalog)
	}
	s.catalog[info.Ref()] = info
	delete(s.misses, info.Ref())
}

func (s *Service) forget(ref Ref) {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	delete(s.catalog, ref)
}

// validKey wraps a key error as a bad request.
func validKey(key string) error {
	if err := collections.ValidateKey(key); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}
