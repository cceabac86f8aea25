package auth

import (
	"errors"
	"testing"
)

// FuzzDecodeEvent: the decoder of key events from other regions refuses
// every malformed input with ErrBadEvent; what it accepts encodes back to
// an event that decodes the same, and merges without error into a region
// that knows nothing of the key.
func FuzzDecodeEvent(f *testing.F) {
	create := fullEvent(f)
	grants := create
	rec := *create.Record
	rec.Permissions = []string{"admin:*"}
	grants.Type, grants.Record = EventGrants, &rec
	revoke := Event{Type: EventRevoke, Key: create.Key, Tenant: "acme", Stamp: Stamp{Wall: 5, Region: "ap-south"}, At: 7}
	for _, ev := range []Event{create, grants, revoke} {
		b, err := AppendEvent(nil, ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x01{}"))
	f.Add([]byte("\x01null"))
	f.Add([]byte("\x02{\"type\":\"revoke\"}"))
	f.Add([]byte{})
	known, err := Merge(KeyState{}, create)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("DecodeEvent(%q): %v is not ErrBadEvent", b, err)
			}
			return
		}
		again, err := AppendEvent(nil, ev)
		if err != nil {
			t.Fatalf("accepted %q, which does not encode: %v", b, err)
		}
		back, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("accepted %q, re-encoded as %q, refused: %v", b, again, err)
		}
		st1, err1 := Merge(KeyState{}, ev)
		st2, err2 := Merge(KeyState{}, back)
		if err1 != nil || err2 != nil || !st1.Equal(st2) {
			t.Fatalf("accepted %q: merges differ after a round trip (%v, %v)", b, err1, err2)
		}
		if next, err := Merge(known, ev); err != nil && !next.Equal(known) {
			t.Fatalf("a refused merge changed the state: %v", err)
		}
	})
}
