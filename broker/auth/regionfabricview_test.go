package auth

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// entryOf is ev as the auth/fkey entry ApplyReplicated writes.
func entryOf(t *testing.T, ev Event) (string, string) {
	t.Helper()
	b, err := AppendEvent(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	return fabricEntryKey(ev), string(b)
}

func entriesOf(t *testing.T, evs ...Event) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ev := range evs {
		k, v := entryOf(t, ev)
		out[k] = v
	}
	return out
}

// TestFoldFabric: the state of a key's entries is the merge of its events
// (expected, merge_test.go) whatever they are; the entries to delete are
// all but the one that decides it.
func TestFoldFabric(t *testing.T) {
	for _, tc := range []struct {
		name string
		evs  []Event
		keep Event
	}{
		{"create", []Event{mCreate}, mCreate},
		{"create and grant changes", []Event{mCreate, mG1, mG2}, mG1},
		{"concurrent grants: the higher stamp", []Event{mG1, mG3, mCreate}, mG3},
		{"a grant change before its creation", []Event{mG2}, mG2},
		{"revoked", []Event{mCreate, mG1, mR1}, mR1},
		{"two revocations: the lower stamp", []Event{mR1, mCreate, mR2, mG3}, mR2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, drop, bad := foldFabric(mkID, entriesOf(t, tc.evs...))
			if len(bad) != 0 {
				t.Fatalf("bad: %v", bad)
			}
			if want := expected(tc.evs); !st.Equal(want) {
				t.Fatalf("state %+v, want %+v", st, want)
			}
			var wantDrop []string
			for _, ev := range tc.evs {
				if ev.Stamp != tc.keep.Stamp {
					wantDrop = append(wantDrop, fabricEntryKey(ev))
				}
			}
			slices.Sort(wantDrop)
			if !slices.Equal(drop, wantDrop) {
				t.Fatalf("drop %v, want %v", drop, wantDrop)
			}
			for _, ev := range tc.evs {
				if ok, err := absorbs(st, ev); !ok || err != nil {
					t.Fatalf("the state does not absorb %s: %v", eventName(ev), err)
				}
			}
		})
	}
}

// TestFoldFabricBadEntries: entries that do not decode, that sit under
// another key than their event's, or that Merge refuses change nothing
// and are reported, never deleted.
func TestFoldFabricBadEntries(t *testing.T) {
	other := mkBase
	other.Hash = HashKey("another key")
	conflict := Event{Type: EventGrants, Key: mkID, Tenant: "acme", Stamp: Stamp{Wall: 500, Region: "eu-west"}, Record: &other}
	k, v := entryOf(t, mG1)
	for _, tc := range []struct {
		name    string
		entries map[string]string
	}{
		{"not an event", map[string]string{fabricPrefixOf(mkID) + "x": "garbage"}},
		{"under another stamp", map[string]string{fabricPrefixOf(mkID) + "00000000000000000001.0000000000.us-east": v}},
		{"of another key", map[string]string{strings.Replace(k, mkID, "ffffffffffffffff", 1): v}},
		{"another key under the id", entriesOf(t, conflict)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := entriesOf(t, mCreate)
			for k, v := range tc.entries {
				entries[k] = v
			}
			st, drop, bad := foldFabric(mkID, entries)
			if len(bad) != 1 {
				t.Fatalf("bad: %v, want one", bad)
			}
			if want := expected([]Event{mCreate}); !st.Equal(want) {
				t.Fatalf("state %+v, want the creation's", st)
			}
			if len(drop) != 0 {
				t.Fatalf("drop %v", drop)
			}
		})
	}
	if _, err := absorbs(expected([]Event{mCreate}), conflict); !errors.Is(err, ErrKeyConflict) {
		t.Fatalf("absorbs a conflicting record: %v", err)
	}
}

// TestFabricCompactionKeepsTheDecidingEntry: writers add a key's events
// and delete what they see absorbed, each from its own, possibly stale,
// read of the map (two runners at once, one behind): whatever the
// interleaving, the map's state ends as the merge of every event written.
func TestFabricCompactionKeepsTheDecidingEntry(t *testing.T) {
	all := []Event{mCreate, mG1, mG2, mG3, mR1, mR2}
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 7))
		m := map[string]string{}
		var written []Event
		var reads []map[string]string // stale reads writers act on
		for range 12 {
			switch rng.IntN(3) {
			case 0: // a writer writes an event (applied)
				ev := all[rng.IntN(len(all))]
				k, v := entryOf(t, ev)
				m[k] = v
				written = append(written, ev)
			case 1: // a writer reads the map now, acts later
				reads = append(reads, clone(m))
			case 2: // a writer deletes what its (old) read showed absorbed
				if len(reads) == 0 {
					continue
				}
				i := rng.IntN(len(reads))
				_, drop, _ := foldFabric(mkID, reads[i])
				for _, k := range drop {
					delete(m, k)
				}
				reads = slices.Delete(reads, i, i+1)
			}
		}
		st, _, bad := foldFabric(mkID, m)
		if len(bad) != 0 {
			t.Fatal(bad)
		}
		if want := expected(written); !st.Equal(want) {
			t.Fatalf("seed %d: state %+v after %d events, want %+v", seed, st, len(written), want)
		}
	}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestRegionViewOfFabricKeys: the region's view holds a fabric-wide key's
// record (with its stamp), or, revoked, decides it as revoked; outbox
// entries are read as events; a bad outbox entry is reported.
func TestRegionViewOfFabricKeys(t *testing.T) {
	revokedID := "0123456789abcdef"
	rc := mkBase
	rc.ID, rc.Tenant = revokedID, "beta"
	rCreate := Event{Type: EventCreate, Key: revokedID, Tenant: "beta", Stamp: Stamp{Wall: 10, Region: "eu-west"}, Record: &rc}
	rRevoke := Event{Type: EventRevoke, Key: revokedID, Tenant: "beta", Stamp: Stamp{Wall: 20, Region: "us-east"}, At: 5}
	entries := entriesOf(t, mCreate, mG1, rCreate, rRevoke)
	ob, err := AppendEvent(nil, mG3)
	if err != nil {
		t.Fatal(err)
	}
	entries[outboxKey(mG3)] = string(ob)
	entries[regionOutboxPrefix+"junk"] = string(ob)
	entries[regionFabricPrefix+"not-an-id/1"] = "x"
	v, bad := buildRegionView(entries)
	if len(bad) != 2 {
		t.Fatalf("bad: %v, want the junk outbox entry and the bad id", bad)
	}
	k, ok := v.get(mkID)
	if !ok || !slices.Equal(k.Permissions, mG1.Record.Permissions) || k.Stamp == nil || *k.Stamp != mG1.Stamp {
		t.Fatalf("the key's record: %+v %v", k, ok)
	}
	if !v.decides(revokedID) || !v.isRevoked(revokedID) {
		t.Fatal("the revoked key is not decided revoked")
	}
	if _, ok := v.get(revokedID); ok {
		t.Fatal("the revoked key has a record")
	}
	if ev, ok := v.outbox[outboxKey(mG3)]; len(v.outbox) != 1 || !ok || ev.Stamp != mG3.Stamp {
		t.Fatalf("outbox %+v", v.outbox)
	}
	if ok, _ := absorbs(v.fabState(mkID), mG3); ok {
		t.Fatal("the view absorbs an event waiting in the outbox")
	}
}
