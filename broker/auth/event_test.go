package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fullEvent is a create event with every field of the record set.
func fullEvent(t testing.TB) Event {
	t.Helper()
	id, plain, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := DeriveSCRAM(rand.Reader, id, plain)
	if err != nil {
		t.Fatal(err)
	}
	rec := KeyRecord{ID: id, Tenant: "acme", Name: "ci ☃", Hash: HashKey(plain), Permissions: []string{"read:*", "write:stream/f/s"},
		CreatedAt: 1_700_000_000_000, ExpiresAt: 1_800_000_000_000, CreatedBy: "key:0123456789abcdef", SCRAM: sc, Origin: "us-east"}
	return Event{Type: EventCreate, Key: id, Tenant: "acme", Stamp: Stamp{Wall: 1_700_000_000_000_000_000, Logical: 2, Region: "us-east"}, Record: &rec}
}

func TestEventRoundTrip(t *testing.T) {
	create := fullEvent(t)
	grants := create
	rec := *create.Record
	rec.Permissions = []string{"admin:*"}
	grants.Type, grants.Record, grants.Stamp.Region = EventGrants, &rec, "eu-west"
	revoke := Event{Type: EventRevoke, Key: create.Key, Tenant: "acme", Stamp: Stamp{Wall: 5, Region: "ap-south"}, At: 1_700_000_000_123}
	for _, ev := range []Event{create, grants, revoke} {
		b, err := AppendEvent(nil, ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		back, err := DecodeEvent(b)
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		st1, err1 := Merge(KeyState{}, ev)
		st2, err2 := Merge(KeyState{}, back)
		if err1 != nil || err2 != nil || !st1.Equal(st2) {
			t.Fatalf("%s does not round-trip: %s / %s (%v, %v)", ev.Type, describe(st1), describe(st2), err1, err2)
		}
		if bytes.Contains(b, []byte("cwk_")) {
			t.Fatalf("%s carries a key: %s", ev.Type, b)
		}
	}
}

// TestDecodeEventRefuses: every malformed event is ErrBadEvent.
func TestDecodeEventRefuses(t *testing.T) {
	good := fullEvent(t)
	enc := func(mut func(ev *Event)) []byte {
		ev := good
		rec := *good.Record
		sc := *rec.SCRAM
		rec.SCRAM = &sc
		ev.Record = &rec
		mut(&ev)
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{eventVersion}, j...)
	}
	valid := enc(func(*Event) {})
	if _, err := DecodeEvent(valid); err != nil {
		t.Fatalf("the valid event is refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version only", []byte{eventVersion}},
		{"unknown version", append([]byte{2}, valid[1:]...)},
		{"not JSON", []byte("\x01garbage")},
		{"truncated", valid[:len(valid)/2]},
		{"trailing data", append(append([]byte{}, valid...), `{}`...)},
		{"trailing bracket", append(append([]byte{}, valid...), `]`...)},
		{"unknown field", []byte(strings.Replace(string(valid), `"type"`, `"admin":true,"type"`, 1))},
		{"oversized", append(append([]byte{}, valid...), bytes.Repeat([]byte(" "), maxEventBytes)...)},
		{"unknown type", enc(func(ev *Event) { ev.Type = "promote" })},
		{"bad key id", enc(func(ev *Event) { ev.Key, ev.Record.ID = "XYZ", "XYZ" })},
		{"unknown tenant name", enc(func(ev *Event) { ev.Tenant, ev.Record.Tenant = "../other", "../other" })},
		{"empty tenant", enc(func(ev *Event) { ev.Tenant, ev.Record.Tenant = "", "" })},
		{"record of another tenant", enc(func(ev *Event) { ev.Record.Tenant = "other" })},
		{"record of another key", enc(func(ev *Event) { ev.Record.ID = "0000000000000000" })},
		{"no region", enc(func(ev *Event) { ev.Stamp.Region = "" })},
		{"zero stamp", enc(func(ev *Event) { ev.Stamp.Wall = 0 })},
		{"no record", enc(func(ev *Event) { ev.Record = nil })},
		{"record without origin", enc(func(ev *Event) { ev.Record.Origin = "" })},
		{"record with a stamp", enc(func(ev *Event) { ev.Record.Stamp = &Stamp{Wall: 1, Region: "x"} })},
		{"bad hash", enc(func(ev *Event) { ev.Record.Hash = "cwk_0123" })},
		{"bad grant", enc(func(ev *Event) { ev.Record.Permissions = []string{"root:everything"} })},
		{"too many grants", enc(func(ev *Event) { ev.Record.Permissions = make([]string, maxGrantsPerKey+1) })},
		{"superuser of another tenant", enc(func(ev *Event) { ev.Record.Superuser = true })},
		{"long creator", enc(func(ev *Event) { ev.Record.CreatedBy = strings.Repeat("x", maxCreatedByBytes+1) })},
		{"bad scram", enc(func(ev *Event) { ev.Record.SCRAM.StoredKey = []byte("short") })},
		{"scram iterations", enc(func(ev *Event) { ev.Record.SCRAM.Iters = maxSCRAMIters + 1 })},
		{"revocation with a record", enc(func(ev *Event) { ev.Type = EventRevoke })},
		{"create with a revocation time", enc(func(ev *Event) { ev.At = 5 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeEvent(tc.b); !errors.Is(err, ErrBadEvent) {
				t.Fatalf("DecodeEvent: %v, want ErrBadEvent", err)
			}
		})
	}
}

func TestAppendEventRefusesInvalid(t *testing.T) {
	ev := fullEvent(t)
	ev.Tenant = "no/slash"
	if b, err := AppendEvent([]byte("x"), ev); !errors.Is(err, ErrBadEvent) || string(b) != "x" {
		t.Fatalf("AppendEvent of an invalid event: %q, %v", b, err)
	}
}
