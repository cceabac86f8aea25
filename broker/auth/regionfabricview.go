package auth

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Fabric-wide keys in a geo-replicated region of several nodes
// (regionfabric.go) live in the region's key-value map beside the region's
// own keys (regionview.go), as key events:
//
//	auth/fkey/{id}/{stamp}    a key event applied in the region (its encoding,
//	                          as journaled): the key's state is the Merge of
//	                          all its entries
//	auth/outbox/{stamp}/{id}  a key event made by a node of this region,
//	                          waiting for the node running the region's
//	                          replication to journal it
//
// One entry per event, never rewritten: two nodes writing at once (an old
// runner still applying, a new one re-applying its journal tails) write
// different keys, or the same key with the same value, and no write is
// lost. Entries another entry absorbs are deleted (compactFabric); the
// entry that decides the state is absorbed by none, so no interleaving of
// such deletions loses it. This file is pure.
const (
	regionFabricPrefix = regionPrefix + "fkey/"
	regionOutboxPrefix = regionPrefix + "outbox/"
)

// stampKey is a stamp as a map key part: its wall and logical parts of
// fixed width, then its region (names hold no '/').
func stampKey(st Stamp) string {
	return fmt.Sprintf("%020d.%010d.%s", st.Wall, st.Logical, st.Region)
}

// fabricPrefixOf is the prefix of the entries of key id.
func fabricPrefixOf(id string) string { return regionFabricPrefix + id + "/" }

// fabricEntryKey is the map key of ev applied.
func fabricEntryKey(ev Event) string { return fabricPrefixOf(ev.Key) + stampKey(ev.Stamp) }

// outboxKey is the map key of ev waiting to be journaled.
func outboxKey(ev Event) string { return regionOutboxPrefix + stampKey(ev.Stamp) + "/" + ev.Key }

// decodeEntry decodes the event of a map entry and checks that it is
// stored under the key it belongs at (name(ev)).
func decodeEntry(key, val string, name func(Event) string) (Event, error) {
	ev, err := DecodeEvent([]byte(val))
	if err == nil && name(ev) != key {
		err = fmt.Errorf("%w: entry holds the %s of key %s stamped %s", ErrBadEvent, ev.Type, ev.Key, ev.Stamp)
	}
	if err != nil {
		return Event{}, fmt.Errorf("auth: region entry %s: %w", key, err)
	}
	return ev, nil
}

// fabricEntry is one decoded auth/fkey entry.
type fabricEntry struct {
	key string
	ev  Event
}

// foldFabric merges the entries of one key id (full map keys; any other
// key is reported bad) in stamp order, so that every node folds them
// alike. It returns the key's state, the entries that state absorbs and
// that do not decide it (safe to delete: drop, sorted), and the entries
// that do not decode or that Merge refuses (bad: they change nothing).
func foldFabric(id string, entries map[string]string) (st KeyState, drop []string, bad []error) {
	var evs []fabricEntry
	for key, val := range entries {
		ev, err := decodeEntry(key, val, fabricEntryKey)
		if err == nil && ev.Key != id {
			err = fmt.Errorf("auth: region entry %s is not of key %s", key, id)
		}
		if err != nil {
			bad = append(bad, err)
			continue
		}
		evs = append(evs, fabricEntry{key: key, ev: ev})
	}
	sort.Slice(evs, func(i, j int) bool {
		if c := evs[i].ev.Stamp.Compare(evs[j].ev.Stamp); c != 0 {
			return c < 0
		}
		return evs[i].key < evs[j].key
	})
	var merged []fabricEntry
	for _, e := range evs {
		next, err := Merge(st, e.ev)
		if err != nil {
			bad = append(bad, fmt.Errorf("auth: region entry %s: %w", e.key, err))
			continue
		}
		st = next
		merged = append(merged, e)
	}
	decided := false
	for _, e := range merged {
		if own, _ := Merge(KeyState{}, e.ev); own.Equal(st) && !decided {
			decided = true // the first entry that is the state on its own stays
			continue
		}
		drop = append(drop, e.key)
	}
	sort.Strings(drop)
	sortErrors(bad)
	return st, drop, bad
}

// absorbs reports whether st already reflects ev (applying ev changes
// nothing); an event Merge refuses is its error.
func absorbs(st KeyState, ev Event) (bool, error) {
	next, err := Merge(st, ev)
	if err != nil {
		return false, err
	}
	return next.Equal(st), nil
}

// buildFabric folds the auth/fkey entries among entries (full keys) per
// key id into v.fab, and decodes the auth/outbox entries into v.outbox;
// it returns the entries it could not use.
func (v *regionView) buildFabric(entries map[string]string) (bad []error) {
	byID := map[string]map[string]string{}
	for key, val := range entries {
		switch {
		case strings.HasPrefix(key, regionFabricPrefix):
			id, _, _ := strings.Cut(strings.TrimPrefix(key, regionFabricPrefix), "/")
			if !validKeyID(id) {
				bad = append(bad, fmt.Errorf("auth: region entry %s: key id %q", key, id))
				continue
			}
			if byID[id] == nil {
				byID[id] = map[string]string{}
			}
			byID[id][key] = val
		case strings.HasPrefix(key, regionOutboxPrefix):
			ev, err := decodeEntry(key, val, outboxKey)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			v.outbox[key] = ev
		}
	}
	for id, es := range byID {
		st, _, b := foldFabric(id, es)
		bad = append(bad, b...)
		if st.Record != nil || st.Tomb != nil {
			v.fab[id] = st
		}
	}
	return bad
}

// fabState is the region's state of the fabric-wide key id.
func (v *regionView) fabState(id string) KeyState {
	if v == nil {
		return KeyState{}
	}
	return v.fab[id]
}

// eventOfRecord is the event that makes a node's own record of a
// fabric-wide key (one with an origin and a stamp: applied from the
// replication) what it is, so that a node that ran as a region of its
// own hands it to the region's map as an entry; false for a record that
// is not the fabric's, or that no event could carry.
func eventOfRecord(k KeyRecord) (Event, bool) {
	if k.Origin == "" || k.Stamp == nil {
		return Event{}, false
	}
	rec := k
	rec.Stamp, rec.Permissions = nil, slices.Clone(k.Permissions)
	ev := Event{Type: EventGrants, Key: k.ID, Tenant: k.Tenant, Stamp: *k.Stamp, Record: &rec}
	return ev, ev.Validate() == nil
}

// eventOfTomb is the revocation that leaves tombstone t of key id.
func eventOfTomb(id string, t Tombstone) (Event, bool) {
	ev := Event{Type: EventRevoke, Key: id, Tenant: t.Tenant, Stamp: t.Stamp, At: t.At}
	return ev, ev.Validate() == nil
}

// sortErrors sorts errs by text.
func sortErrors(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}
