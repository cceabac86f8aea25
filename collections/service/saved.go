package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/store"
)

// maxSavedQueries bounds the saved queries of a fabric.
const maxSavedQueries = 1000

// SaveQuery creates (create set) or replaces a named query of a fabric. The
// text must parse; its collection need not exist yet.
func (s *Service) SaveQuery(tenant, fabric string, q store.SavedQuery, create bool) (store.SavedQuery, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return store.SavedQuery{}, err
	}
	if err := collections.ValidateCollectionName(q.Name); err != nil {
		return store.SavedQuery{}, fmt.Errorf("%w: saved query name: %w", ErrBadRequest, err)
	}
	used, err := queryParamNames(q.Value)
	if err != nil {
		return store.SavedQuery{}, err
	}
	for name, v := range q.Parameter {
		if !slices.Contains(used, name) {
			return store.SavedQuery{}, fmt.Errorf("%w: @%s", query.ErrBindUnused, name)
		}
		n, ok := query.NormalizeValue(v)
		if !ok {
			return store.SavedQuery{}, fmt.Errorf("%w: parameter %s", ErrBadRequest, name)
		}
		q.Parameter[name] = n
	}
	s.queryMu.Lock()
	defer s.queryMu.Unlock()
	old, err := s.savedQuery(tenant, fabric, q.Name)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.SavedQuery{}, err
	}
	now := s.opts.Now().UnixMilli()
	switch {
	case create && exists:
		return store.SavedQuery{}, fmt.Errorf("%w: %s", ErrQueryExists, q.Name)
	case !create && !exists:
		return store.SavedQuery{}, fmt.Errorf("%w: %s", ErrQueryNotFound, q.Name)
	case create:
		all, err := s.savedQueries(tenant, fabric)
		if err != nil {
			return store.SavedQuery{}, err
		}
		if len(all) >= maxSavedQueries {
			return store.SavedQuery{}, fmt.Errorf("%w: a fabric has at most %d saved queries", ErrBadRequest, maxSavedQueries)
		}
		q.CreatedAt = now
	default:
		q.CreatedAt = old.CreatedAt
	}
	q.UpdatedAt = now
	q.Region = s.region
	if r := s.replication(); r != nil {
		if s.clustered() {
			// Refused here rather than by every region's apply.
			b, err := json.Marshal(q)
			if err == nil {
				err = checkQueryFits(b)
			}
			if err != nil {
				return store.SavedQuery{}, err
			}
		}
		s.queryMu.Unlock()
		err := s.replicateMeta(r, &MetaEvent{Type: MetaSaveQuery, Tenant: tenant, Fabric: fabric, Query: &q})
		s.queryMu.Lock()
		if err != nil {
			return store.SavedQuery{}, err
		}
		return q, nil
	}
	if s.clustered() {
		err = s.clusterPutQuery(tenant, fabric, q)
	} else {
		err = s.store.PutSavedQuery(tenant, fabric, q)
	}
	if err != nil {
		return store.SavedQuery{}, err
	}
	return q, nil
}

// savedQuery reads a saved query from where they are kept: the region's
// catalog in a region of several nodes, else the node's store.
// store.ErrNotFound when there is none.
func (s *Service) savedQuery(tenant, fabric, name string) (store.SavedQuery, error) {
	if s.clustered() {
		return s.clusterSavedQuery(tenant, fabric, name)
	}
	return s.store.SavedQuery(tenant, fabric, name)
}

// savedQueries lists a fabric's saved queries by name (see savedQuery).
func (s *Service) savedQueries(tenant, fabric string) ([]store.SavedQuery, error) {
	if s.clustered() {
		return s.clusterSavedQueries(tenant, fabric)
	}
	return s.store.SavedQueries(tenant, fabric)
}

// putSavedQuery applies a replicated save: of concurrent changes the one
// with the highest (UpdatedAt, Region) stays.
func (s *Service) putSavedQuery(tenant, fabric string, q store.SavedQuery) error {
	s.queryMu.Lock()
	defer s.queryMu.Unlock()
	old, err := s.savedQuery(tenant, fabric, q.Name)
	if err == nil && (old.UpdatedAt > q.UpdatedAt || (old.UpdatedAt == q.UpdatedAt && old.Region > q.Region)) {
		return nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if s.clustered() {
		return s.clusterPutQuery(tenant, fabric, q)
	}
	return s.store.PutSavedQuery(tenant, fabric, q)
}

// SavedQueries lists a fabric's saved queries.
func (s *Service) SavedQueries(tenant, fabric string) ([]store.SavedQuery, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return nil, err
	}
	return s.savedQueries(tenant, fabric)
}

// DeleteSavedQuery deletes a saved query.
func (s *Service) DeleteSavedQuery(tenant, fabric, name string) error {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return err
	}
	if r := s.replication(); r != nil {
		if _, err := s.savedQuery(tenant, fabric, name); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrQueryNotFound, name)
		} else if err != nil {
			return err
		}
		return s.replicateMeta(r, &MetaEvent{Type: MetaDeleteQuery, Tenant: tenant, Fabric: fabric, QueryName: name})
	}
	return s.deleteSavedQuery(tenant, fabric, name)
}

func (s *Service) deleteSavedQuery(tenant, fabric, name string) error {
	s.queryMu.Lock()
	defer s.queryMu.Unlock()
	var err error
	if s.clustered() {
		err = s.clusterDeleteQuery(tenant, fabric, name)
	} else {
		err = s.store.DeleteSavedQuery(tenant, fabric, name)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrQueryNotFound, name)
	}
	return err
}

// RunSavedQuery runs a saved query: its stored parameter values are
// defaults, the given ones win.
func (s *Service) RunSavedQuery(tenant, fabric, name string, params query.Params, batchSize int) (Batch, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return Batch{}, err
	}
	q, err := s.savedQuery(tenant, fabric, name)
	if errors.Is(err, store.ErrNotFound) {
		return Batch{}, fmt.Errorf("%w: %s", ErrQueryNotFound, name)
	}
	if err != nil {
		return Batch{}, err
	}
	named := make(map[string]any, len(q.Parameter)+len(params.Named))
	for k, v := range q.Parameter {
		named[k] = v
	}
	for k, v := range params.Named {
		named[k] = v
	}
	params.Named = named
	return s.Query(tenant, fabric, QueryRequest{Query: q.Value, Params: params, BatchSize: batchSize})
}
