package fabric

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SystemFabric spans every region, always; it carries the region lists.
const SystemFabric = "_system"

// Membership is one version of a fabric's region list.
type Membership struct {
	Fabric  string
	Version uint64
	// Regions is sorted, without duplicates, never empty.
	Regions []string
	// Home is the region that makes the fabric's versions, one of
	// Regions in every version: it applies every op of the fabric, so a
	// region joining the list always has a source for its backfill.
	Home string
}

// Has reports whether region is in the list.
func (m Membership) Has(region string) bool {
	_, ok := slices.BinarySearch(m.Regions, region)
	return ok
}

// Domain is the key of the causal domain the version's ops travel in:
// each version of each fabric has its own (VersionDomain), so a region's
// shell of a version can be paused while it waits for the previous
// version's cuts (or for a backfill) without holding any other fabric's
// ops, and a region that leaves a fabric can remove all of its domains.
func (m Membership) Domain() string { return VersionDomain(m.Fabric, m.Version, m.Regions) }

// VersionDomain names the causal domain of version v of a fabric's list:
// fabric~vN~regions (DomainRegions reads the regions back).
func VersionDomain(fabric string, v uint64, regions []string) string {
	return fmt.Sprintf("%s~v%d~%s", fabric, v, DomainKey(regions))
}

// DomainKey names the causal domain of a region set: the sorted names
// joined by commas (region names never hold a comma).
func DomainKey(regions []string) string {
	s := slices.Clone(regions)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

// DomainRegions is the region set a DomainKey (or VersionDomain) names:
// what follows its last '~'.
func DomainRegions(key string) []string {
	if i := strings.LastIndexByte(key, '~'); i >= 0 {
		key = key[i+1:]
	}
	return strings.Split(key, ",")
}

// Errors of a requested change; each leaves the fabric as it was.
var (
	ErrEmptyList     = errors.New("a fabric needs at least one region")
	ErrUnknownRegion = errors.New("unknown region")
	ErrSpotHome      = errors.New("the region is the home of a SPOT collection of the fabric")
	ErrUnchanged     = errors.New("the list is the fabric's list already")
	ErrSystemFabric  = errors.New("the _system fabric spans every region")
	ErrHomeRemoved   = errors.New("the fabric's home region stays in its list (it orders the list's changes and holds all of its data)")
)

// Create validates a new fabric's region list (version 1) with its home
// (which must be in it; empty: the first region listed). An empty list is
// the caller's "every region".
func Create(fabric, home string, regions, deployment []string) (Membership, error) {
	list, err := normalize(regions, deployment)
	if err != nil {
		return Membership{}, fmt.Errorf("fabric %q: %w", fabric, err)
	}
	if home == "" {
		home = regions[0]
	}
	m := Membership{Fabric: fabric, Version: 1, Regions: list, Home: home}
	if !m.Has(home) {
		return Membership{}, fmt.Errorf("fabric %q: home %q is not in its list %v: %w", fabric, home, list, ErrUnknownRegion)
	}
	return m, nil
}

// Change validates a change of cur's list to regions: every region known
// to the deployment, at least one, the fabric's home and every SPOT home
// kept. It returns the next version. The home makes the change, once it
// applies cur (Router.Status: Applying == Latest).
func Change(cur Membership, regions, deployment, spotHomes []string) (Membership, error) {
	bad := func(err error) (Membership, error) {
		return Membership{}, fmt.Errorf("fabric %q: %w", cur.Fabric, err)
	}
	if cur.Fabric == SystemFabric {
		return bad(ErrSystemFabric)
	}
	list, err := normalize(regions, deployment)
	if err != nil {
		return bad(err)
	}
	if slices.Equal(list, cur.Regions) {
		return bad(ErrUnchanged)
	}
	next := Membership{Fabric: cur.Fabric, Version: cur.Version + 1, Regions: list, Home: cur.Home}
	if !next.Has(cur.Home) {
		return bad(fmt.Errorf("removing %s: %w", cur.Home, ErrHomeRemoved))
	}
	for _, h := range spotHomes {
		if !next.Has(h) {
			return bad(fmt.Errorf("removing %s: %w", h, ErrSpotHome))
		}
	}
	return next, nil
}

// normalize sorts and checks a region list against the deployment's.
func normalize(regions, deployment []string) ([]string, error) {
	list := slices.Clone(regions)
	slices.Sort(list)
	list = slices.Compact(list)
	if len(list) == 0 || (len(list) == 1 && list[0] == "") {
		return nil, ErrEmptyList
	}
	for _, r := range list {
		if !slices.Contains(deployment, r) {
			return nil, fmt.Errorf("%w %q (regions: %s)", ErrUnknownRegion, r, strings.Join(deployment, ", "))
		}
	}
	return list, nil
}
