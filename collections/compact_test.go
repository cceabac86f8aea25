package collections

import (
	"bytes"
	"testing"
)

func TestCompact(t *testing.T) {
	t.Run("stable increments fold into one", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		for _, op := range []Op{
			insert("us:1", "", 1, `{"n":10}`),
			incr("us:2", "us:1", "n", 1),
			incr("eu:1", "us:1", "n", 2),
			incr("eu:2", "eu:1", "n", 3),
		} {
			mustApply(t, d, op)
		}
		before := snapshot(t, d)
		if gone := d.Compact(parseCtx("us:2 eu:1")); gone {
			t.Fatal("live document reported gone")
		}
		n := d.root.child("n", false)
		if incs := n.incs.flat(); len(incs) != 2 || incs[0].dot != stableDot || incs[0].delta != 3 || incs[1].dot != parseDot("eu:2") {
			t.Fatalf("increments after compaction: %+v", incs)
		}
		if after := snapshot(t, d); after != before {
			t.Fatalf("view changed:\n%s\n%s", before, after)
		}
		// A later set observes the folded increments like the originals.
		mustApply(t, d, set("us:3", "us:2 eu:2", 1, "n", `0`))
		if got := attrs(t, d); got != `{"n":0}` {
			t.Fatalf("after a set observing everything: %s", got)
		}
	})
	t.Run("stable markers are redundant beside a newer one", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		mustApply(t, d, insert("us:1", "", 1, `{}`))
		mustApply(t, d, set("eu:1", "", 1, "a", `1`))
		if len(d.root.markers) != 2 {
			t.Fatalf("want two concurrent root markers, got %v", d.root.markers)
		}
		d.Compact(parseCtx("us:1"))
		if len(d.root.markers) != 1 || d.root.markers[0] != parseDot("eu:1") {
			t.Fatalf("root markers after compaction: %v", d.root.markers)
		}
		d.Compact(parseCtx("us:1 eu:1"))
		if len(d.root.markers) != 1 || d.root.markers[0] != stableDot {
			t.Fatalf("root markers once all stable: %v", d.root.markers)
		}
		if got := attrs(t, d); got != `{"a":1}` {
			t.Fatalf("document: %s", got)
		}
	})
	t.Run("a deleted document disappears once everything is stable", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		mustApply(t, d, insert("us:1", "", 1, `{"a":{"b":1}}`))
		mustApply(t, d, del("eu:1", "us:1"))
		if d.Compact(parseCtx("us:1")) {
			t.Fatal("gone while the delete is not stable (a duplicate could still come)")
		}
		if !d.Compact(parseCtx("us:1 eu:1")) {
			t.Fatal("not gone once everything is stable")
		}
	})
	t.Run("a live document never disappears", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		mustApply(t, d, insert("us:1", "", 1, `{}`))
		if d.Compact(parseCtx("us:1")) {
			t.Fatal("empty but live document reported gone")
		}
	})
	t.Run("expiry keeps the best stable write, and none when it says none", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		a := insert("us:1", "", 5, `{}`)
		a.ExpiresAt = 100
		b := set("eu:1", "", 9, "x", `1`)
		b.ExpiresAt = 200
		mustApply(t, d, a)
		mustApply(t, d, b)
		d.Compact(parseCtx("us:1 eu:1"))
		if len(d.expiry) != 1 || d.ExpiresAt() != 200 {
			t.Fatalf("expiry after compaction: %+v", d.expiry)
		}
		mustApply(t, d, replace("us:2", "us:1 eu:1", 1, `{}`))
		d.Compact(parseCtx("us:2 eu:1"))
		if len(d.expiry) != 0 || d.ExpiresAt() != 0 {
			t.Fatalf("a stable 'no expiry' should leave nothing: %+v", d.expiry)
		}
	})
	t.Run("compaction is idempotent", func(t *testing.T) {
		d := NewDoc(testCollection, testKey)
		mustApply(t, d, insert("us:1", "", 1, `{"n":1}`))
		mustApply(t, d, incr("eu:1", "us:1", "n", 1))
		d.Compact(parseCtx("us:1 eu:1"))
		once := d.AppendBinary(nil)
		d.Compact(parseCtx("us:1 eu:1"))
		if !bytes.Equal(once, d.AppendBinary(nil)) {
			t.Fatal("second compaction changed the state")
		}
	})
}

// TestRebornDocumentSameRevision: a document inserted and deleted, both
// stable; one replica collects it (Compact says gone), the other keeps it;
// a later insert observed the whole history. Both replicas give the new
// document the same revision, and hold identical states once compacted.
func TestRebornDocumentSameRevision(t *testing.T) {
	history := []Op{
		insert("us:1", "", 1, `{"a":1}`),
		set("eu:1", "us:1", 2, "b", `2`),
		del("us:2", "us:1 eu:1"),
	}
	stable := parseCtx("us:2 eu:1")
	collected, kept := NewDoc(testCollection, testKey), NewDoc(testCollection, testKey)
	for _, op := range history {
		mustApply(t, collected, op)
		mustApply(t, kept, op)
	}
	if !collected.Compact(stable) {
		t.Fatal("a deleted, stable document must be gone")
	}
	collected = NewDoc(testCollection, testKey) // its state was deleted
	reborn := insert("eu:2", "us:2 eu:1", 3, `{"c":3}`)
	mustApply(t, collected, reborn)
	mustApply(t, kept, reborn)
	if collected.Rev() != kept.Rev() {
		t.Fatalf("revisions differ: collected %s, kept %s", collected.Rev(), kept.Rev())
	}
	final := parseCtx("us:2 eu:2")
	collected.Compact(final)
	kept.Compact(final)
	if a, b := collected.AppendBinary(nil), kept.AppendBinary(nil); !bytes.Equal(a, b) {
		t.Fatalf("states differ after compaction:\n%x\n%x", a, b)
	}
}
