package store

import (
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// SavedQuery is a named query of a fabric, executed by name with
// parameters (Macrometa's "restql").
type SavedQuery struct {
	Name string `json:"name"`
	// Value is the query text.
	Value string `json:"value"`
	// Parameter holds default values of named parameters.
	Parameter map[string]any `json:"parameter,omitempty"`
	CreatedAt int64          `json:"createdAt"`
	UpdatedAt int64          `json:"updatedAt"`
	// Region is where the last change was made: concurrent changes in
	// several regions keep the one with the highest (UpdatedAt, Region).
	Region string `json:"region,omitempty"`
}

// PutSavedQuery creates or replaces a saved query.
func (s *Store) PutSavedQuery(tenant, fabric string, q SavedQuery) error {
	val, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("store: encode saved query %s: %w", q.Name, err)
	}
	if err := s.db.Set(nameKey(prefixSaved, tenant, fabric, q.Name), val, pebble.Sync); err != nil {
		return fmt.Errorf("store: save query %s: %w", q.Name, err)
	}
	return nil
}

// SavedQuery returns a saved query; ErrNotFound when there is none.
func (s *Store) SavedQuery(tenant, fabric, name string) (SavedQuery, error) {
	v, err := get(s.db, nameKey(prefixSaved, tenant, fabric, name))
	if err != nil {
		return SavedQuery{}, fmt.Errorf("store: read saved query %s: %w", name, err)
	}
	if v == nil {
		return SavedQuery{}, fmt.Errorf("%w: saved query %s", ErrNotFound, name)
	}
	var q SavedQuery
	if err := json.Unmarshal(v, &q); err != nil {
		return SavedQuery{}, fmt.Errorf("%w: saved query %s: %w", ErrCorrupt, name, err)
	}
	return q, nil
}

// SavedQueries lists a fabric's saved queries by name.
func (s *Store) SavedQueries(tenant, fabric string) ([]SavedQuery, error) {
	p := fabricPrefix(prefixSaved, tenant, fabric)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: upperBound(p)})
	if err != nil {
		return nil, fmt.Errorf("store: list saved queries: %w", err)
	}
	defer it.Close()
	out := []SavedQuery{}
	for it.First(); it.Valid(); it.Next() {
		var q SavedQuery
		if err := json.Unmarshal(it.Value(), &q); err != nil {
			return nil, fmt.Errorf("%w: saved query %q: %w", ErrCorrupt, it.Key(), err)
		}
		out = append(out, q)
	}
	return out, it.Error()
}

// DeleteSavedQuery deletes a saved query; ErrNotFound when there is none.
func (s *Store) DeleteSavedQuery(tenant, fabric, name string) error {
	if _, err := s.SavedQuery(tenant, fabric, name); err != nil {
		return err
	}
	if err := s.db.Delete(nameKey(prefixSaved, tenant, fabric, name), pebble.Sync); err != nil {
		return fmt.Errorf("store: delete saved query %s: %w", name, err)
	}
	return nil
}
