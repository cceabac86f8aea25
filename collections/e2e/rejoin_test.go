package e2e

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/server"
)

// TestGeoWipedRegionRejoins runs three regions that all write, then wipes
// ap-south's disk and restarts it with a snapshot peer: it bootstraps its
// collections from eu-west's snapshot, gets its own earlier ops back from
// its peers (its replicator numbers new ops after them, so no region takes
// them for duplicates), and takes part again: its old documents, its new
// writes and a same-attribute conflict end identical everywhere.
func TestGeoWipedRegionRejoins(t *testing.T) {
	f := newFabric(t, three)
	us, eu, ap := "us-east", "eu-west", "ap-south"
	f.must(http.StatusOK, us, "POST", sys+"collection", map[string]any{"name": "items"})
	for _, r := range three {
		f.eventually(r+" has items", func() bool { return f.do(r, "GET", sys+"collection/items", nil).status == http.StatusOK })
	}
	const perRegion = 30
	for i, r := range three {
		var batch []any
		for j := range perRegion {
			n := i*perRegion + j
			batch = append(batch, map[string]any{"_key": "i" + strconv.Itoa(n), "n": n, "by": r})
		}
		if a := f.do(r, "POST", sys+"document/items", batch); a.status >= 300 {
			t.Fatalf("%s: %d %s", r, a.status, a.raw)
		}
	}
	want := float64(3 * perRegion)
	for _, r := range three {
		f.eventually(r+" has every insert", func() bool {
			return f.must(http.StatusOK, r, "GET", sys+"collection/items/count", nil).body["count"] == want
		})
	}
	// ap's own later writes: patches of its documents and of others'.
	for n := 0; n < 3*perRegion; n += 7 {
		f.must(http.StatusCreated, ap, "PATCH", sys+"document/items/i"+strconv.Itoa(n), map[string]any{"apSaw": n})
	}
	apKey := "i" + strconv.Itoa(slices.Index(three, ap)*perRegion+1) // inserted by ap
	before := f.sameEverywhere("items", apKey, three...)
	f.sameEverywhere("items", "i7", three...)
	// Wipe ap: its whole data directory is gone. What it made and no
	// other region received (its last acks, say) is gone with it.
	f.Stop(ap)
	ownBefore := uint64(0)
	for _, r := range []string{us, eu} {
		st, err := f.Server(r).Repl.Status()
		if err != nil {
			t.Fatal(err)
		}
		ownBefore = max(ownBefore, st.Delivered[ap])
	}
	if err := os.RemoveAll(f.Configs[ap].DataDir); err != nil {
		t.Fatal(err)
	}
	f.Options[ap] = server.Options{Collections: service.Options{BootstrapFrom: []string{f.Server(eu).URL()}}}
	f.Start(ap)
	f.eventually("ap joins the fabric", func() bool {
		st, err := f.Server(ap).Repl.Status()
		return err == nil && st.Joined
	})
	st, err := f.Server(ap).Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine.RecoveredOwnOps != ownBefore {
		t.Fatalf("ap recovered %d of its own ops, its peers held %d", st.Engine.RecoveredOwnOps, ownBefore)
	}
	if c := f.must(http.StatusOK, ap, "GET", sys+"collection/items/count", nil); c.body["count"] != want {
		t.Fatalf("ap after the wipe: %s", c.raw)
	}
	if d := f.sameEverywhere("items", apKey, three...); d["_rev"] != before["_rev"] || d["by"] != ap {
		t.Fatalf("ap's own document after the wipe: %v, before %v", d, before)
	}
	if d := f.sameEverywhere("items", "i7", three...); d["apSaw"] != float64(7) {
		t.Fatalf("ap's patch of us-east's document after the wipe: %v", d)
	}

	// New writes of ap reach everyone (not dropped as duplicates of its
	// previous life's), and theirs reach ap.
	f.must(http.StatusCreated, ap, "PATCH", sys+"document/items/"+apKey, map[string]any{"after": "wipe"})
	f.must(http.StatusCreated, ap, "POST", sys+"document/items", map[string]any{"_key": "fresh", "by": ap})
	f.must(http.StatusCreated, us, "PATCH", sys+"document/items/i3", map[string]any{"after": "us"})
	if d := f.sameEverywhere("items", apKey, three...); d["after"] != "wipe" {
		t.Fatalf("%s: %v", apKey, d)
	}
	if d := f.sameEverywhere("items", "fresh", three...); d == nil || d["by"] != ap {
		t.Fatalf("fresh: %v", d)
	}
	if d := f.sameEverywhere("items", "i3", three...); d["after"] != "us" {
		t.Fatalf("i3: %v", d)
	}

	// A same-attribute conflict between ap and us picks one winner and
	// lists the loser everywhere.
	f.Cut(ap, us, true)
	f.Cut(ap, eu, true)
	f.must(http.StatusCreated, ap, "PATCH", sys+"document/items/i5", map[string]any{"color": "ap"})
	f.must(http.StatusCreated, us, "PATCH", sys+"document/items/i5", map[string]any{"color": "us"})
	f.Cut(ap, us, false)
	f.Cut(ap, eu, false)
	win := f.sameEverywhere("items", "i5", three...)
	if win["color"] != "ap" && win["color"] != "us" {
		t.Fatalf("i5 after the conflict: %v", win)
	}
	loser := map[any]any{"ap": "us", "us": "ap"}[win["color"]]
	for _, r := range three {
		list := conflictList(t, f.must(http.StatusOK, r, "GET", sys+"document/items/i5/conflicts", nil))
		if len(list) != 1 || list[0]["value"] != loser || list[0]["path"] != "color" {
			t.Fatalf("%s: conflicts %v, want color=%v", r, list, loser)
		}
	}
}
