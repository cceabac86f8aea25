package auth

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// KV is the small key/value store the key store keeps its records in (the
// node's metadata store: broker.Node.MetaKV). Writes must be durable when
// they return.
type KV interface {
	Get(key string) (val []byte, found bool, err error)
	Set(key string, val []byte) error
	Delete(key string) error
	Scan(prefix string, fn func(key string, val []byte) error) error
}

// Keys of the store.
const (
	kvKeyPrefix     = "key/"
	kvRevokedPrefix = "revoked/"
	kvTombPrefix    = "tomb/"
	kvJWTSecret     = "jwt-secret"
)

// store is the API key store: every record in memory, written through to
// the KV.
type store struct {
	kv KV

	mu       sync.RWMutex
	byID     map[string]KeyRecord
	byTenant map[string]int
	// revoked holds the ids of revoked keys with the time of revocation
	// (Unix ms), so that tokens issued from them are refused until they
	// have expired too; a token of a key this node never knew (a key of
	// another region) is accepted on its signature.
	revoked map[string]int64
	// tombs are the keys revoked fabric-wide (storeapply.go): kept for
	// good, so that no late event brings them back.
	tombs map[string]Tombstone
	// region is the region's keys in a region of several nodes
	// (storeregion.go), nil otherwise: it decides every id it holds a
	// record or a revocation of; the maps above are the node's own keys.
	region atomic.Pointer[regionView]
}

// openStore loads every record; records that do not decode are skipped and
// reported in bad (the node still starts; they authenticate nobody).
// Revocations older than forgetBeforeMs are dropped.
func openStore(kv KV, forgetBeforeMs int64) (s *store, bad []error, err error) {
	s = &store{kv: kv, byID: map[string]KeyRecord{}, byTenant: map[string]int{}, revoked: map[string]int64{},
		tombs: map[string]Tombstone{}}
	err = kv.Scan(kvKeyPrefix, func(key string, val []byte) error {
		k, derr := DecodeKeyRecord(val)
		if derr == nil && kvKeyPrefix+k.ID != key {
			derr = fmt.Errorf("%w: record %s holds key %s", ErrBadRequest, key, k.ID)
		}
		if derr != nil {
			bad = append(bad, fmt.Errorf("auth: stored key %s: %w", key, derr))
			return nil
		}
		s.byID[k.ID] = k
		s.byTenant[k.Tenant]++
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("auth: load keys: %w", err)
	}
	var stale []string
	err = kv.Scan(kvRevokedPrefix, func(key string, val []byte) error {
		id := strings.TrimPrefix(key, kvRevokedPrefix)
		at, perr := strconv.ParseInt(string(val), 10, 64)
		switch {
		case perr != nil || !validKeyID(id):
			bad = append(bad, fmt.Errorf("auth: stored revocation %s: %q", key, val))
		case at < forgetBeforeMs:
			stale = append(stale, key)
		default:
			s.revoked[id] = at
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("auth: load revocations: %w", err)
	}
	for _, key := range stale {
		if err := kv.Delete(key); err != nil {
			return nil, nil, fmt.Errorf("auth: forget revocation %s: %w", key, err)
		}
	}
	if bad, err = s.loadTombs(bad); err != nil {
		return nil, nil, err
	}
	return s, bad, nil
}

// isRevoked reports whether id was revoked here, fabric-wide or in the
// region.
func (s *store) isRevoked(id string) bool {
	if s.region.Load().isRevoked(id) {
		return true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.revoked[id]
	if !ok {
		_, ok = s.tombs[id]
	}
	return ok
}

// get returns the record of id: the region's if it decides id, else the
// node's own.
func (s *store) get(id string) (KeyRecord, bool) {
	if v := s.region.Load(); v.decides(id) {
		return v.get(id)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byID[id]
	return k, ok
}

// put stores k (new or replacing the record of the same id); maxPerTenant
// bounds a tenant's keys (0: no bound).
func (s *store) put(k KeyRecord, maxPerTenant int) error {
	if err := k.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("auth: encode key %s: %w", k.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, revoked := s.tombs[k.ID]; revoked {
		return fmt.Errorf("%w: key %s was revoked fabric-wide", ErrKeyConflict, k.ID)
	}
	old, exists := s.byID[k.ID]
	if !exists && maxPerTenant > 0 && s.byTenant[k.Tenant] >= maxPerTenant {
		return fmt.Errorf("%w: the tenant holds %d keys", ErrTooManyKeys, maxPerTenant)
	}
	if err := s.kv.Set(kvKeyPrefix+k.ID, b); err != nil {
		return fmt.Errorf("auth: save key %s: %w", k.ID, err)
	}
	if exists {
		s.byTenant[old.Tenant]--
	}
	s.byID[k.ID] = k
	s.byTenant[k.Tenant]++
	return nil
}

// remove deletes the key id of tenant at nowMs, remembering the
// revocation; another tenant's key is "not found".
func (s *store) remove(tenant, id string, nowMs int64) (KeyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok || k.Tenant != tenant {
		return KeyRecord{}, ErrKeyNotFound
	}
	if err := s.kv.Set(kvRevokedPrefix+id, []byte(strconv.FormatInt(nowMs, 10))); err != nil {
		return KeyRecord{}, fmt.Errorf("auth: revoke key %s: %w", id, err)
	}
	s.revoked[id] = nowMs
	if err := s.kv.Delete(kvKeyPrefix + id); err != nil {
		return KeyRecord{}, fmt.Errorf("auth: delete key %s: %w", id, err)
	}
	delete(s.byID, id)
	if s.byTenant[k.Tenant]--; s.byTenant[k.Tenant] <= 0 {
		delete(s.byTenant, k.Tenant)
	}
	return k, nil
}

// list returns a tenant's keys (the region's and the node's own) by
// creation time.
func (s *store) list(tenant string) []KeyRecord {
	v := s.region.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []KeyRecord
	for _, k := range s.byID {
		if k.Tenant == tenant && !v.decides(k.ID) {
			out = append(out, k)
		}
	}
	if v != nil {
		for _, k := range v.byID {
			if k.Tenant == tenant {
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAt != out[j].CreatedAt {
			return out[i].CreatedAt < out[j].CreatedAt
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// hasSuperuser reports whether any superuser key exists.
func (s *store) hasSuperuser() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.byID {
		if k.Superuser {
			return true
		}
	}
	return false
}
