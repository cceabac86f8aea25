package auth

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This file holds the store's side of fabric-wide keys: the tombstones of
// keys revoked fabric-wide (KV "tomb/{id}": JSON of a Tombstone) and the
// application of key events (Merge, then the KV writes).

// loadTombs loads the tombstones and drops the records of the keys they
// revoke (a crash between writing a tombstone and deleting the key leaves
// both). Tombstones that do not decode are reported in bad.
func (s *store) loadTombs(bad []error) ([]error, error) {
	err := s.kv.Scan(kvTombPrefix, func(key string, val []byte) error {
		id := strings.TrimPrefix(key, kvTombPrefix)
		var t Tombstone
		if err := json.Unmarshal(val, &t); err != nil || !validKeyID(id) || t.Tenant == "" {
			bad = append(bad, fmt.Errorf("auth: stored tombstone %s: %q", key, val))
			return nil
		}
		s.tombs[id] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("auth: load tombstones: %w", err)
	}
	for id := range s.tombs {
		if k, ok := s.byID[id]; ok {
			if err := s.kv.Delete(kvKeyPrefix + id); err != nil {
				return nil, fmt.Errorf("auth: delete revoked key %s: %w", id, err)
			}
			s.dropLocked(k)
		}
	}
	return bad, nil
}

// dropLocked forgets the record k in memory (callers hold mu or own s).
func (s *store) dropLocked(k KeyRecord) {
	delete(s.byID, k.ID)
	if s.byTenant[k.Tenant]--; s.byTenant[k.Tenant] <= 0 {
		delete(s.byTenant, k.Tenant)
	}
}

// stateLocked is what the store knows of id (callers hold mu).
func (s *store) stateLocked(id string) KeyState {
	var st KeyState
	if k, ok := s.byID[id]; ok {
		st.Record = &k
	}
	if t, ok := s.tombs[id]; ok {
		st.Tomb = &t
	}
	return st
}

// state is what the store knows of id.
func (s *store) state(id string) KeyState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stateLocked(id)
}

// apply merges ev into the store and writes the change through to the KV;
// it returns the states before and after (equal when ev changed nothing).
// An event Merge refuses changes nothing.
func (s *store) apply(ev Event) (before, after KeyState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before = s.stateLocked(ev.Key)
	after, err = Merge(before, ev)
	if err != nil || after.Equal(before) {
		return before, before, err
	}
	if t := after.Tomb; t != nil {
		// The tombstone first: a crash before the key's deletion leaves
		// both, and openStore drops the key.
		b, err := json.Marshal(t)
		if err != nil {
			return before, before, fmt.Errorf("auth: encode tombstone of %s: %w", ev.Key, err)
		}
		if err := s.kv.Set(kvTombPrefix+ev.Key, b); err != nil {
			return before, before, fmt.Errorf("auth: save tombstone of %s: %w", ev.Key, err)
		}
		s.tombs[ev.Key] = *t
		if k := before.Record; k != nil {
			if err := s.kv.Delete(kvKeyPrefix + ev.Key); err != nil {
				return before, after, fmt.Errorf("auth: delete revoked key %s: %w", ev.Key, err)
			}
			s.dropLocked(*k)
		}
		return before, after, nil
	}
	k := *after.Record
	b, err := json.Marshal(k)
	if err != nil {
		return before, before, fmt.Errorf("auth: encode key %s: %w", k.ID, err)
	}
	if err := s.kv.Set(kvKeyPrefix+k.ID, b); err != nil {
		return before, before, fmt.Errorf("auth: save key %s: %w", k.ID, err)
	}
	s.byID[k.ID] = k
	if before.Record == nil {
		s.byTenant[k.Tenant]++
	}
	return before, after, nil
}

// count is the number of keys of tenant.
func (s *store) count(tenant string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byTenant[tenant]
}

// maxStamp is the highest stamp stored (of a key's permissions or of a
// tombstone): the clock restarts above it.
func (s *store) maxStamp() Stamp {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m Stamp
	for _, k := range s.byID {
		if k.Stamp != nil && k.Stamp.Compare(m) > 0 {
			m = *k.Stamp
		}
	}
	for _, t := range s.tombs {
		if t.Stamp.Compare(m) > 0 {
			m = t.Stamp
		}
	}
	return m
}
