package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Events of one key for the merge tests: its creation in us-east, grant
// changes (g1 and g3 concurrent with equal HLCs, g2 older than both) and
// two concurrent revocations.
var (
	mkID    = "00112233445566ff"
	mkBase  = KeyRecord{ID: mkID, Tenant: "acme", Name: "ci", Hash: HashKey("k"), CreatedAt: 1, CreatedBy: "key:root", Origin: "us-east"}
	mCreate = upsertEvent(EventCreate, Stamp{Wall: 100, Region: "us-east"}, "read:*")
	mG1     = upsertEvent(EventGrants, Stamp{Wall: 200, Region: "eu-west"}, "write:fabric/f")
	mG2     = upsertEvent(EventGrants, Stamp{Wall: 150, Logical: 3, Region: "ap-south"}, "read:fabric/old")
	mG3     = upsertEvent(EventGrants, Stamp{Wall: 200, Region: "us-east"}, "admin:stream/f/s")
	mR1     = Event{Type: EventRevoke, Key: mkID, Tenant: "acme", Stamp: Stamp{Wall: 300, Region: "ap-south"}, At: 3}
	mR2     = Event{Type: EventRevoke, Key: mkID, Tenant: "acme", Stamp: Stamp{Wall: 250, Region: "eu-west"}, At: 2}
)

func upsertEvent(typ EventType, st Stamp, perms ...string) Event {
	rec := mkBase
	rec.Permissions = perms
	return Event{Type: typ, Key: mkID, Tenant: "acme", Stamp: st, Record: &rec}
}

func eventName(ev Event) string {
	for name, e := range map[string]Event{"C": mCreate, "G1": mG1, "G2": mG2, "G3": mG3, "R1": mR1, "R2": mR2} {
		if e.Type == ev.Type && e.Stamp == ev.Stamp {
			return name
		}
	}
	return fmt.Sprintf("%s@%s", ev.Type, ev.Stamp)
}

// expected is the specification of the merge: any revocation leaves the
// tombstone of the lowest-stamped one; otherwise the key holds the
// permissions of the highest-stamped create or grant change.
func expected(evs []Event) KeyState {
	var tomb *Tombstone
	var best *Event
	for i := range evs {
		ev := &evs[i]
		switch ev.Type {
		case EventRevoke:
			if tomb == nil || ev.Stamp.Compare(tomb.Stamp) < 0 {
				tomb = &Tombstone{Tenant: ev.Tenant, At: ev.At, Stamp: ev.Stamp}
			}
		default:
			if best == nil || ev.Stamp.Compare(best.Stamp) > 0 {
				best = ev
			}
		}
	}
	switch {
	case tomb != nil:
		return KeyState{Tomb: tomb}
	case best != nil:
		rec := *best.Record
		st := best.Stamp
		rec.Stamp = &st
		return KeyState{Record: &rec}
	}
	return KeyState{}
}

func describe(st KeyState) string {
	switch {
	case st.Tomb != nil:
		return "revoked at " + st.Tomb.Stamp.String()
	case st.Record != nil:
		return fmt.Sprintf("key %v at %s", st.Record.Permissions, stampOf(st.Record))
	}
	return "nothing"
}

func mergeAll(t *testing.T, evs []Event) KeyState {
	t.Helper()
	var st KeyState
	for _, ev := range evs {
		next, err := Merge(st, ev)
		if err != nil {
			t.Fatalf("merge %s: %v", eventName(ev), err)
		}
		st = next
	}
	return st
}

// TestMergeRules: named cases of the rule table.
func TestMergeRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []Event
		want   string
	}{
		{"create", []Event{mCreate}, "key [read:*] at 100.0@us-east"},
		{"create then grants", []Event{mCreate, mG1}, "key [write:fabric/f] at 200.0@eu-west"},
		{"grants overtakes create", []Event{mG1, mCreate}, "key [write:fabric/f] at 200.0@eu-west"},
		{"older grants loses", []Event{mCreate, mG1, mG2}, "key [write:fabric/f] at 200.0@eu-west"},
		{"equal HLC: higher region wins", []Event{mCreate, mG3, mG1}, "key [admin:stream/f/s] at 200.0@us-east"},
		{"equal HLC, other order", []Event{mCreate, mG1, mG3}, "key [admin:stream/f/s] at 200.0@us-east"},
		{"revoke", []Event{mCreate, mR1}, "revoked at 300.0@ap-south"},
		{"create after revoke", []Event{mCreate, mR1, mCreate}, "revoked at 300.0@ap-south"},
		{"late grants after revoke", []Event{mCreate, mR1, mG1}, "revoked at 300.0@ap-south"},
		{"revoke of a key never seen", []Event{mR1}, "revoked at 300.0@ap-south"},
		{"revoke before create", []Event{mR1, mCreate, mG1}, "revoked at 300.0@ap-south"},
		{"concurrent revokes keep the lower stamp", []Event{mCreate, mR1, mR2}, "revoked at 250.0@eu-west"},
		{"concurrent revokes, other order", []Event{mCreate, mR2, mR1}, "revoked at 250.0@eu-west"},
		{"duplicates", []Event{mCreate, mCreate, mG1, mG1, mCreate}, "key [write:fabric/f] at 200.0@eu-west"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(mergeAll(t, tc.events)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestMergeEveryOrder applies every subset of the events in every order,
// each event once and then each twice in a row, and checks the outcome
// against the specification: the same whatever the order, idempotent.
func TestMergeEveryOrder(t *testing.T) {
	all := []Event{mCreate, mG1, mG2, mG3, mR1, mR2}
	sequences := 0
	for mask := 1; mask < 1<<len(all); mask++ {
		var set []Event
		for i, ev := range all {
			if mask&(1<<i) != 0 {
				set = append(set, ev)
			}
		}
		want := expected(set)
		permute(set, func(order []Event) {
			sequences++
			twice := make([]Event, 0, 2*len(order))
			for _, ev := range order {
				twice = append(twice, ev, ev)
			}
			for _, seq := range [][]Event{order, twice} {
				if got := mergeAll(t, seq); !got.Equal(want) {
					names := make([]string, len(seq))
					for i, ev := range seq {
						names[i] = eventName(ev)
					}
					t.Fatalf("order %s: got %s, want %s", strings.Join(names, ","), describe(got), describe(want))
				}
			}
		})
	}
	t.Logf("%d orders checked", sequences)
}

// permute calls fn with every permutation of evs (Heap's algorithm).
func permute(evs []Event, fn func([]Event)) {
	a := slices.Clone(evs)
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			fn(a)
			return
		}
		gen(k - 1)
		for i := 0; i < k-1; i++ {
			if k%2 == 0 {
				a[i], a[k-1] = a[k-1], a[i]
			} else {
				a[0], a[k-1] = a[k-1], a[0]
			}
			gen(k - 1)
		}
	}
	gen(len(a))
}

// TestMergeRefuses: events that do not fit leave the state as it was.
func TestMergeRefuses(t *testing.T) {
	created := mergeAll(t, []Event{mCreate})
	otherHash := upsertEvent(EventGrants, Stamp{Wall: 500, Region: "eu-west"}, "read:*")
	otherHash.Record.Hash = HashKey("another key")
	otherTenant := mR1
	otherTenant.Tenant = "evil"
	noRecord := mG1
	noRecord.Record = nil
	wrongID := upsertEvent(EventCreate, Stamp{Wall: 500, Region: "eu-west"}, "read:*")
	wrongID.Key = "ffffffffffffffff"
	withRecord := mR1
	withRecord.Record = mCreate.Record
	unknown := mG1
	unknown.Type = "promote"
	for _, tc := range []struct {
		name string
		ev   Event
		want error
	}{
		{"another key under the id", otherHash, ErrKeyConflict},
		{"revocation from another tenant", otherTenant, ErrBadEvent},
		{"grants without a record", noRecord, ErrBadEvent},
		{"record of another id", wrongID, ErrBadEvent},
		{"revocation with a record", withRecord, ErrBadEvent},
		{"unknown type", unknown, ErrBadEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge(created, tc.ev)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !got.Equal(created) {
				t.Fatalf("state changed to %s", describe(got))
			}
		})
	}
}

// TestMergeDoesNotAlias: the state does not share the event's slices.
func TestMergeDoesNotAlias(t *testing.T) {
	ev := upsertEvent(EventCreate, Stamp{Wall: 1, Region: "r"}, "read:*")
	st, err := Merge(KeyState{}, ev)
	if err != nil {
		t.Fatal(err)
	}
	ev.Record.Permissions[0] = "admin:*"
	if st.Record.Permissions[0] != "read:*" {
		t.Fatal("the merged state aliases the event's permissions")
	}
}
