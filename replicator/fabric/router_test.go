package fabric

import (
	"errors"
	"slices"
	"testing"
)

func mem(v uint64, regions ...string) Membership {
	return Membership{Fabric: "f", Version: v, Regions: regions}
}

func tag(v uint64) Tag { return Tag{Fabric: "f", Version: v} }

func mustDeliver(t *testing.T, r *Router[string], v uint64, op string, want Verdict) {
	t.Helper()
	got, err := r.Deliver(tag(v), op)
	if err != nil || got != want {
		t.Fatalf("deliver %s (version %d): %v %v, want %v", op, v, got, err, want)
	}
}

func TestMemberAppliesAcrossAnAddedRegion(t *testing.T) {
	r := NewRouter[string]("a")
	// An op of version 1 delivered before the list is learnt waits.
	mustDeliver(t, r, 1, "early", Hold)
	if err := r.Learn(mem(1, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := r.Ready(); !slices.Equal(got, []string{"early"}) {
		t.Fatalf("ready %v", got)
	}
	if a := r.Actions(); !slices.Equal(a.StartDomains, []string{"f~v1~a,b"}) {
		t.Fatalf("actions %+v", a)
	}
	mustDeliver(t, r, 1, "x1", Apply)
	if err := r.Learn(mem(2, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	a := r.Actions()
	if !slices.Equal(a.StartDomains, []string{"f~v2~a,b,c"}) || len(a.Cuts) != 1 || a.Cuts[0] != (Cut{Tag: tag(2), Domain: "f~v1~a,b"}) ||
		len(a.Backfills)+len(a.Deletes) != 0 {
		t.Fatalf("actions %+v", a)
	}
	if tg, dom, err := r.PublishTag("f"); err != nil || tg != tag(2) || dom != "f~v2~a,b,c" {
		t.Fatalf("publish tag %v %q %v", tg, dom, err)
	}
	// Version 2's ops wait for every member of version 1 to cut.
	mustDeliver(t, r, 2, "y1", Hold)
	mustDeliver(t, r, 1, "x2", Apply)
	r.DeliverCut(tag(2), "a")
	mustDeliver(t, r, 2, "y2", Hold)
	if got := r.Ready(); len(got) != 0 {
		t.Fatalf("released before b's cut: %v", got)
	}
	r.DeliverCut(tag(2), "b")
	if got := r.Ready(); !slices.Equal(got, []string{"y1", "y2"}) {
		t.Fatalf("ready %v", got)
	}
	mustDeliver(t, r, 2, "y3", Apply)
	if _, err := r.Deliver(tag(1), "late"); !errors.Is(err, ErrLate) {
		t.Fatalf("late op: %v", err)
	}
	if st := r.Status("f"); st != (Status{Latest: 2, Applying: 2}) {
		t.Fatalf("status %+v", st)
	}
}

func TestNewRegionWaitsForItsBackfill(t *testing.T) {
	r := NewRouter[string]("c")
	if err := r.Learn(mem(1, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if a := r.Actions(); !a.IsEmpty() {
		t.Fatalf("a non-member has nothing to do: %+v", a)
	}
	if _, _, err := r.PublishTag("f"); !errors.Is(err, ErrNotMember) || err.Error() != `fabric "f" is served in a, b only` {
		t.Fatalf("publish at a non-member: %v", err)
	}
	if err := r.Learn(mem(3, "a", "b", "c")); !errors.Is(err, ErrVersionGap) {
		t.Fatalf("gap: %v", err)
	}
	if err := r.Learn(mem(2, "b", "c")); err != nil {
		t.Fatal(err)
	}
	a := r.Actions()
	if len(a.Backfills) != 1 || a.Backfills[0].Tag != tag(2) || !slices.Equal(a.Backfills[0].Sources, []string{"b"}) || len(a.Cuts) != 0 {
		t.Fatalf("actions %+v", a)
	}
	mustDeliver(t, r, 2, "z1", Hold)
	// Cuts of version 2 do not release a region that was not in version 1.
	r.DeliverCut(tag(2), "a")
	r.DeliverCut(tag(2), "b")
	if got := r.Ready(); len(got) != 0 {
		t.Fatalf("released without backfill: %v", got)
	}
	r.Backfilled(tag(2))
	if got := r.Ready(); !slices.Equal(got, []string{"z1"}) {
		t.Fatalf("ready %v", got)
	}
	mustDeliver(t, r, 2, "z2", Apply)
}

func TestRemovedRegionDeletesAndReportsCompletion(t *testing.T) {
	r := NewRouter[string]("a")
	for _, m := range []Membership{mem(1, "a", "b", "c")} {
		if err := r.Learn(m); err != nil {
			t.Fatal(err)
		}
	}
	r.Actions()
	if err := r.Learn(mem(2, "b", "c")); err != nil {
		t.Fatal(err)
	}
	a := r.Actions()
	if !slices.Equal(a.Deletes, []string{"f"}) || len(a.Cuts) != 1 || a.Cuts[0].Domain != "f~v1~a,b,c" || len(a.StartDomains) != 0 || len(a.Deleted) != 0 {
		t.Fatalf("actions %+v", a)
	}
	// Ops of version 1 still arriving are dropped: the data is gone here.
	mustDeliver(t, r, 1, "x", Drop)
	r.DeliverCut(tag(2), "a")
	r.DeliverCut(tag(2), "b")
	if a := r.Actions(); len(a.Deleted) != 0 {
		t.Fatalf("deleted before c's cut: %+v", a)
	}
	r.DeliverCut(tag(2), "c")
	if a := r.Actions(); len(a.Deleted) != 1 || a.Deleted[0] != tag(2) {
		t.Fatalf("actions %+v", a)
	}
	if st := r.Status("f"); st.Applying != 0 || st.Deleting != 0 {
		t.Fatalf("status %+v", st)
	}
	// Added back later: a backfill again, old versions still dropped.
	if err := r.Learn(mem(3, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if a := r.Actions(); len(a.Backfills) != 1 || a.Backfills[0].Version != 3 {
		t.Fatalf("actions %+v", a)
	}
	mustDeliver(t, r, 1, "old", Drop)
	mustDeliver(t, r, 3, "new", Hold)
	r.Backfilled(tag(2)) // not the awaited version: ignored
	if got := r.Ready(); len(got) != 0 {
		t.Fatalf("ready %v", got)
	}
	r.Backfilled(tag(3))
	if got := r.Ready(); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("ready %v", got)
	}
}

func TestChainedChangesCloseInOrder(t *testing.T) {
	r := NewRouter[string]("a")
	for _, m := range []Membership{mem(1, "a", "b"), mem(2, "a", "b", "c"), mem(3, "a", "c")} {
		if err := r.Learn(m); err != nil {
			t.Fatal(err)
		}
	}
	mustDeliver(t, r, 3, "v3", Hold)
	mustDeliver(t, r, 2, "v2", Hold)
	// Cuts for 3 arrive first: nothing moves until 2 is closed.
	for _, s := range []string{"a", "b", "c"} {
		r.DeliverCut(tag(3), s)
	}
	if got := r.Ready(); len(got) != 0 {
		t.Fatalf("ready %v", got)
	}
	r.DeliverCut(tag(2), "a")
	r.DeliverCut(tag(2), "b")
	if got := r.Ready(); !slices.Equal(got, []string{"v2", "v3"}) {
		t.Fatalf("ready %v, want version 2's op then version 3's", got)
	}
	if st := r.Status("f"); st.Applying != 3 {
		t.Fatalf("status %+v", st)
	}
}

func TestBackfillAskedThenRemovedInOneGoIsDropped(t *testing.T) {
	r := NewRouter[string]("c")
	for _, m := range []Membership{mem(1, "a", "b"), mem(2, "a", "b", "c"), mem(3, "a", "b")} {
		if err := r.Learn(m); err != nil {
			t.Fatal(err)
		}
	}
	a := r.Actions()
	if len(a.Backfills) != 0 || !slices.Equal(a.Deletes, []string{"f"}) || len(a.Cuts) != 1 || a.Cuts[0].Domain != "f~v2~a,b,c" {
		t.Fatalf("actions %+v: the backfill of version 2 must be gone, the cut into version 2's domain kept", a)
	}
	if st := r.Status("f"); st.Backfill != 0 || st.Deleting != 3 {
		t.Fatalf("status %+v", st)
	}
}
