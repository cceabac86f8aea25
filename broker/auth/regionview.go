package auth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A region of several nodes keeps its keys in the region's replicated
// key-value map (regionkeys.go), under these keys:
//
//	auth/key/{id}      the key's record (JSON of a KeyRecord)
//	auth/revoked/{id}  its revocation (Unix ms), kept MaxTokenTTL
//	auth/version       a random value written after every change
//	auth/fkey/..., auth/outbox/...  fabric-wide keys in a geo-replicated
//	                   region (regionfabricview.go)
//
// A node reads the whole prefix into a regionView (this file: pure) and
// swaps it into its store; lookups consult it before the node's own keys.
const (
	regionPrefix        = "auth/"
	regionKeyPrefix     = regionPrefix + "key/"
	regionRevokedPrefix = regionPrefix + "revoked/"
	regionVersionKey    = regionPrefix + "version"
)

// regionView is the region's keys and revocations as of one read of the
// map. It is never changed once built.
type regionView struct {
	byID map[string]KeyRecord
	// revoked holds the revoked ids with their revocation time (Unix ms).
	// A revoked id has no record here: a record written concurrently with
	// the revocation (a grant change) is dropped.
	revoked map[string]int64
	// fab is the state of every fabric-wide key of a geo-replicated
	// region (regionfabricview.go), by id: its record is in byID too, a
	// tombstone removes it from there.
	fab map[string]KeyState
	// outbox is the key events waiting for the region's replication, by
	// map key.
	outbox map[string]Event
}

// buildRegionView reads the map's entries under regionPrefix (full keys).
// Entries that do not decode are skipped and reported in bad: they
// authenticate nobody.
func buildRegionView(entries map[string]string) (v *regionView, bad []error) {
	v = &regionView{byID: map[string]KeyRecord{}, revoked: map[string]int64{}, fab: map[string]KeyState{},
		outbox: map[string]Event{}}
	bad = v.buildFabric(entries)
	for key, val := range entries {
		switch {
		case strings.HasPrefix(key, regionFabricPrefix) || strings.HasPrefix(key, regionOutboxPrefix):
		case strings.HasPrefix(key, regionKeyPrefix):
			k, err := DecodeKeyRecord([]byte(val))
			if err == nil && regionKeyPrefix+k.ID != key {
				err = fmt.Errorf("%w: entry %s holds key %s", ErrBadRequest, key, k.ID)
			}
			if err != nil {
				bad = append(bad, fmt.Errorf("auth: region entry %s: %w", key, err))
				continue
			}
			v.byID[k.ID] = k
		case strings.HasPrefix(key, regionRevokedPrefix):
			id := strings.TrimPrefix(key, regionRevokedPrefix)
			at, err := strconv.ParseInt(val, 10, 64)
			if err != nil || !validKeyID(id) || at < 0 {
				bad = append(bad, fmt.Errorf("auth: region entry %s: revocation %q", key, val))
				continue
			}
			v.revoked[id] = at
		case key == regionVersionKey:
		default:
			bad = append(bad, fmt.Errorf("auth: region entry %s: unknown key", key))
		}
	}
	for id, st := range v.fab {
		if st.Record != nil {
			v.byID[id] = *st.Record
		} else {
			delete(v.byID, id)
		}
	}
	for id := range v.revoked {
		delete(v.byID, id)
	}
	sortErrors(bad)
	return v, bad
}

// decides reports whether the region holds a record or a revocation of
// id: then the node's own record of id, if any, does not count.
func (v *regionView) decides(id string) bool {
	if v == nil {
		return false
	}
	_, known := v.byID[id]
	_, revoked := v.revoked[id]
	return known || revoked || v.fab[id].Revoked()
}

// get returns the region's record of id.
func (v *regionView) get(id string) (KeyRecord, bool) {
	if v == nil {
		return KeyRecord{}, false
	}
	k, ok := v.byID[id]
	return k, ok
}

// isRevoked reports whether the region revoked id (or, fabric-wide, a
// region of the fabric did).
func (v *regionView) isRevoked(id string) bool {
	if v == nil {
		return false
	}
	_, ok := v.revoked[id]
	return ok || v.fab[id].Revoked()
}

// gone lists the ids of next's predecessor v that next no longer holds a
// record of (revoked, or deleted), sorted.
func (v *regionView) gone(next *regionView) []string {
	if v == nil {
		return nil
	}
	var out []string
	for id := range v.byID {
		if _, ok := next.byID[id]; !ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// staleRevocations lists, sorted, the revocations older than beforeMs:
// every token issued from their keys has expired (tokens live at most
// MaxTokenTTL), so the region may forget them; at most limit of them.
func (v *regionView) staleRevocations(beforeMs int64, limit int) []string {
	var out []string
	for id, at := range v.revoked {
		if at < beforeMs {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
