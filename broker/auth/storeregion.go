package auth

import (
	"fmt"
	"sort"
)

// This file holds the store's side of a region of several nodes: the
// region's view (regionview.go) swapped in after every read of the
// region's map, and the node's own keys handed over to the region.

// kvRegionMember marks, in the node's own KV, a node whose keys are its
// region's: it generates no superuser key at start (the region holds its
// superusers; they authenticate once the region's group runs).
const kvRegionMember = "region-member"

// setRegion makes v the region's keys and returns, sorted, the ids that
// authenticated through the previous view and authenticate no more
// (revoked or deleted in the region): their connections are to end.
func (s *store) setRegion(v *regionView) []string {
	old := s.region.Swap(v)
	var out []string
	for _, id := range old.gone(v) {
		if _, ok := s.get(id); !ok {
			out = append(out, id)
		}
	}
	return out
}

// ownKeys returns the node's own records, by id.
func (s *store) ownKeys() []KeyRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]KeyRecord, 0, len(s.byID))
	for _, k := range s.byID {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// dropOwn forgets the node's own record of id (it is the region's now, or
// the region revoked it), without remembering a revocation.
func (s *store) dropOwn(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil
	}
	if err := s.kv.Delete(kvKeyPrefix + id); err != nil {
		return fmt.Errorf("auth: drop key %s handed to the region: %w", id, err)
	}
	s.dropLocked(k)
	return nil
}

// ownHas reports whether the node holds its own record of id.
func (s *store) ownHas(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.byID[id]
	return ok
}

// ownTombs returns the tombstones of keys revoked fabric-wide this node
// holds, by id.
func (s *store) ownTombs() map[string]Tombstone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]Tombstone, len(s.tombs))
	for id, t := range s.tombs {
		out[id] = t
	}
	return out
}
