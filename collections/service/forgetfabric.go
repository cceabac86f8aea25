package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ForgetFabric deletes, in this region only, every collection of a fabric
// (system ones included) and its saved queries, and compacts their keys
// out of the view's files: the fabric's region list left this region
// (README "Geo-fabrics"). Replicated payloads of the fabric are no longer
// applied here (servesPayload), so nothing brings them back. It returns
// how many collections it dropped.
func (s *Service) ForgetFabric(tenant, fabric string) (int, error) {
	if s.clustered() {
		return 0, fmt.Errorf("%w: geo-fabric list changes in a region of several nodes", ErrNotImplemented)
	}
	s.mu.RLock()
	var refs []Ref
	open := map[Ref]*collection{}
	for ref, c := range s.cols {
		if ref.Tenant == tenant && ref.Fabric == fabric {
			refs = append(refs, ref)
			open[ref] = c
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(refs, func(a, b Ref) int { return strings.Compare(a.Collection, b.Collection) })
	var errs []error
	for _, ref := range refs {
		if err := s.dropOpen(ref, open[ref]); err != nil && !errors.Is(err, ErrCollectionNotFound) {
			errs = append(errs, err)
		}
	}
	queries, err := s.store.SavedQueries(tenant, fabric)
	errs = append(errs, err)
	for _, q := range queries {
		if err := s.deleteSavedQuery(tenant, fabric, q.Name); err != nil && !errors.Is(err, ErrQueryNotFound) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.store.CompactAll())
	if err := errors.Join(errs...); err != nil {
		return len(refs), fmt.Errorf("collections: forget fabric %s/%s: %w", tenant, fabric, err)
	}
	return len(refs), nil
}
