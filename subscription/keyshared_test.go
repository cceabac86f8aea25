package subscription

import (
	"fmt"
	"slices"
	"testing"
)

func TestMurmur3(t *testing.T) {
	for _, tt := range []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0},
		{"", 1, 0x514e28b7},
		{"a", 0, 0x3c2569b2},
		{"hello", 0, 0x248bfa47},
		{"Hello, world!", 1234, 0xfaf6cdb3},
		{"The quick brown fox jumps over the lazy dog", 0, 0x2e4ff723},
	} {
		if got := murmur3([]byte(tt.in), tt.seed); got != tt.want {
			t.Errorf("murmur3(%q, %d) = %#x, want %#x", tt.in, tt.seed, got, tt.want)
		}
	}
	for _, k := range []string{"", "k", "order-17", "\xff\x00"} {
		if h := KeyHash(k); h >= KeyHashRange {
			t.Errorf("KeyHash(%q) = %d, out of range", k, h)
		}
	}
}

// TestKeySharedRing: every consumer owns a fair share of the hash range, the
// choice does not depend on the order consumers attach in, and a joining
// consumer takes hashes only for itself (no hash moves between others).
func TestKeySharedRing(t *testing.T) {
	owners := func(names ...string) (map[uint32]string, map[string]int) {
		d, err := NewDispatcher(DispatcherConfig{Name: "r", Type: KeyShared}, CursorState{}, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if _, err := d.AddConsumer(ConsumerConfig{Name: n, Type: KeyShared}); err != nil {
				t.Fatal(err)
			}
		}
		own, share := map[uint32]string{}, map[string]int{}
		for h := range uint32(KeyHashRange) {
			c := d.owner(h)
			own[h] = fmt.Sprintf("%s#%d", c.cfg.Name, c.nameIndex)
			share[own[h]]++
		}
		return own, share
	}
	three, share := owners("a", "b", "c")
	for n, s := range share {
		if s < KeyHashRange/3/2 || s > KeyHashRange/3*2 {
			t.Errorf("consumer %s owns %d of %d hashes", n, s, KeyHashRange)
		}
	}
	if len(share) != 3 {
		t.Fatalf("shares %v", share)
	}
	reordered, _ := owners("c", "a", "b")
	four, _ := owners("a", "b", "c", "d")
	for h := range uint32(KeyHashRange) {
		if reordered[h] != three[h] {
			t.Fatalf("hash %d: owner %s or %s depending on attach order", h, three[h], reordered[h])
		}
		if four[h] != three[h] && four[h] != "d#0" {
			t.Fatalf("hash %d moved from %s to %s when d joined", h, three[h], four[h])
		}
	}
	// Two consumers of the same name both get a share.
	_, same := owners("x", "x")
	if len(same) != 2 || same["x#0"] == 0 || same["x#1"] == 0 {
		t.Errorf("same-name consumers share %v", same)
	}
}

// TestKeySharedLookaheadBound: messages of a key whose owner cannot take
// them queue up to maxKeySharedLookahead, then reading stops; they go out in
// order once the owner has permits.
func TestKeySharedLookaheadBound(t *testing.T) {
	d, err := NewDispatcher(DispatcherConfig{Name: "l", Type: KeyShared}, CursorState{}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.AddConsumer(ConsumerConfig{Name: "a", Type: KeyShared, Permits: maxPermits})
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.AddConsumer(ConsumerConfig{Name: "b", Type: KeyShared})
	if err != nil {
		t.Fatal(err)
	}
	// A key b owns and one a owns.
	var keyB, keyA string
	for i := 0; keyA == "" || keyB == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		if d.owner(KeyHash(k)).id == b {
			keyB = k
		} else {
			keyA = k
		}
	}
	const n = 3 * maxKeySharedLookahead
	d.LogEnd(n)
	keyOf := func(off uint64) string {
		if off%10 == 0 {
			return keyA
		}
		return keyB
	}
	delivered := 0
	for range 100 {
		as := dispatchWithKeys(d, keyOf, epoch, nil, 1<<20)
		for _, x := range as {
			if x.Consumer != a {
				t.Fatalf("b got %d without permits", x.Offset)
			}
			delivered++
		}
		if len(as) == 0 {
			break
		}
	}
	if d.kReady != maxKeySharedLookahead || d.Stats().RedeliveryQueue != maxKeySharedLookahead {
		t.Fatalf("%d queued, want the bound %d", d.kReady, maxKeySharedLookahead)
	}
	if _, k := d.KeysWanted(100); k != 0 || d.ReadPosition() >= n {
		t.Fatalf("still reading: %d keys wanted, read position %d", k, d.ReadPosition())
	}
	if err := d.AddPermits(b, maxPermits); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for range 100 {
		as := dispatchWithKeys(d, keyOf, epoch, nil, 1<<20)
		for _, x := range as {
			if x.Consumer == b {
				got = append(got, x.Offset)
			}
		}
		if len(as) == 0 {
			break
		}
	}
	if len(got) != n-n/10 || !slices.IsSorted(got) {
		t.Fatalf("b got %d messages (want %d), sorted %v", len(got), n-n/10, slices.IsSorted(got))
	}
	if err := d.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}
