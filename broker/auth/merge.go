package auth

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The merge rules of fabric-wide keys: what a region knows of one key id
// (KeyState) and how a replicated event changes it (Merge). Pure: every
// region applies the same events, in whatever order they reach it, and
// ends in the same state.
//
//	event            | nothing known     | key known                          | key revoked
//	create or grants | the key, as sent  | its permissions if the event's     | ignored: a
//	                 |                   | stamp is higher, else unchanged    | revocation is
//	                 |                   | (another key under the id: refused)| permanent
//	revoke           | tombstone         | tombstone (the key is dropped)     | the tombstone of the
//	                 |                   |                                    | lower stamp is kept
//
// A create and a grant change both carry the whole key record (the
// stored hash, never the key), so a grant change that overtakes the
// creation creates the key with its permissions, and the creation that
// follows changes nothing. Concurrent grant changes resolve by stamp: the
// higher (HLC, region) wins; an event's HLC is higher than that of every
// event its region had applied when it was made, so a change made after
// another was seen wins over it everywhere.

// Stamp orders the events of a key: a hybrid logical clock reading of the
// region that made the event, then the region's name.
type Stamp struct {
	// Wall is the HLC's wall component (Unix nanoseconds) and Logical its
	// counter.
	Wall    int64  `json:"wall"`
	Logical uint32 `json:"logical,omitempty"`
	Region  string `json:"region"`
}

// Compare orders stamps by wall, logical counter, then region (-1, 0, +1).
func (s Stamp) Compare(o Stamp) int {
	if c := cmp.Compare(s.Wall, o.Wall); c != 0 {
		return c
	}
	if c := cmp.Compare(s.Logical, o.Logical); c != 0 {
		return c
	}
	return strings.Compare(s.Region, o.Region)
}

func (s Stamp) String() string { return fmt.Sprintf("%d.%d@%s", s.Wall, s.Logical, s.Region) }

// Tombstone is what remains of a revoked key: it is kept for good, so
// that no late or concurrent event of the key brings it back.
type Tombstone struct {
	Tenant string `json:"tenant"`
	// At is when the key was revoked (Unix ms at the revoking region).
	At    int64 `json:"at"`
	Stamp Stamp `json:"stamp"`
}

// KeyState is what a region knows of one key id: nothing, the key
// (Record), or its revocation (Tomb). Record and Tomb are never both set.
type KeyState struct {
	Record *KeyRecord
	Tomb   *Tombstone
}

// Revoked reports whether the state is a tombstone.
func (st KeyState) Revoked() bool { return st.Tomb != nil }

// Equal reports whether two states are the same.
func (st KeyState) Equal(o KeyState) bool {
	switch {
	case (st.Tomb == nil) != (o.Tomb == nil) || (st.Record == nil) != (o.Record == nil):
		return false
	case st.Tomb != nil && *st.Tomb != *o.Tomb:
		return false
	case st.Record != nil:
		a, b := st.Record, o.Record
		return sameKey(*a, *b) && slices.Equal(a.Permissions, b.Permissions) && stampOf(a) == stampOf(b)
	}
	return true
}

// Merge returns the state after ev (see the table above). It refuses,
// leaving st as it is, an event that does not fit the event format
// (ErrBadEvent), a revocation of a key of another tenant (ErrBadEvent),
// and a record that differs from the key known under its id in more than
// its permissions (ErrKeyConflict).
func Merge(st KeyState, ev Event) (KeyState, error) {
	switch ev.Type {
	case EventCreate, EventGrants:
		return mergeRecord(st, ev)
	case EventRevoke:
		return mergeRevoke(st, ev)
	}
	return st, fmt.Errorf("%w: event type %q", ErrBadEvent, ev.Type)
}

func mergeRecord(st KeyState, ev Event) (KeyState, error) {
	if ev.Record == nil || ev.Record.ID != ev.Key || ev.Record.Tenant != ev.Tenant {
		return st, fmt.Errorf("%w: %s of key %s without its record", ErrBadEvent, ev.Type, ev.Key)
	}
	if st.Tomb != nil {
		return st, nil
	}
	rec := *ev.Record
	rec.Permissions = slices.Clone(rec.Permissions)
	stamp := ev.Stamp
	rec.Stamp = &stamp
	cur := st.Record
	switch {
	case cur == nil:
		return KeyState{Record: &rec}, nil
	case !sameKey(*cur, rec):
		return st, fmt.Errorf("%w: key %s: the %s event carries another key than the one known here", ErrKeyConflict, ev.Key, ev.Type)
	case stampOf(cur).Compare(stamp) >= 0:
		return st, nil
	}
	return KeyState{Record: &rec}, nil
}

func mergeRevoke(st KeyState, ev Event) (KeyState, error) {
	if ev.Record != nil {
		return st, fmt.Errorf("%w: revocation of key %s with a record", ErrBadEvent, ev.Key)
	}
	if st.Record != nil && st.Record.Tenant != ev.Tenant {
		return st, fmt.Errorf("%w: revocation of key %s in tenant %s, the key is another tenant's", ErrBadEvent, ev.Key, ev.Tenant)
	}
	t := Tombstone{Tenant: ev.Tenant, At: ev.At, Stamp: ev.Stamp}
	if st.Tomb != nil && st.Tomb.Stamp.Compare(t.Stamp) <= 0 {
		return st, nil
	}
	return KeyState{Tomb: &t}, nil
}

// stampOf is a record's stamp, the zero stamp for none.
func stampOf(k *KeyRecord) Stamp {
	if k.Stamp == nil {
		return Stamp{}
	}
	return *k.Stamp
}

// sameKey reports whether two records are the same key: equal in every
// field but the permissions and their stamp.
func sameKey(a, b KeyRecord) bool {
	if a.ID != b.ID || a.Tenant != b.Tenant || a.Name != b.Name || a.Hash != b.Hash || a.Superuser != b.Superuser ||
		a.CreatedAt != b.CreatedAt || a.ExpiresAt != b.ExpiresAt || a.CreatedBy != b.CreatedBy || a.Origin != b.Origin {
		return false
	}
	if (a.SCRAM == nil) != (b.SCRAM == nil) {
		return false
	}
	if a.SCRAM == nil {
		return true
	}
	x, y := a.SCRAM, b.SCRAM
	return x.Iters == y.Iters && bytes.Equal(x.Salt, y.Salt) && bytes.Equal(x.StoredKey, y.StoredKey) && bytes.Equal(x.ServerKey, y.ServerKey)
}
