package ship

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
)

func unit3(leader region.NodeID, epoch uint64, inSync ...region.NodeID) *region.Unit {
	u := &region.Unit{ID: "stream:t/f/s", Factor: 3, Replicas: []region.NodeID{1, 2, 3}, Leader: leader, Epoch: epoch}
	for _, n := range inSync {
		u.InSync = append(u.InSync, member(n))
	}
	return u
}

// TestAppendWaitsForTheInSyncReplicas: an append is acknowledged only once
// every in-sync follower fetched past it, and the followers end with the
// leader's log, record for record.
func TestAppendWaitsForTheInSyncReplicas(t *testing.T) {
	leader := openTestReplica(t, 1, t.TempDir())
	if err := leader.lead(unit3(1, 1, 1, 2, 3), 1); err != nil {
		t.Fatal(err)
	}
	// With no follower fetching, nothing is acknowledged.
	early := make(chan error, 1)
	leader.AppendAsync([]segment.Record{rec("early", 0)}, func(_ uint64, err error) { early <- err })
	select {
	case err := <-early:
		t.Fatalf("settled with no follower holding the record: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	followers := []*Replica{openTestReplica(t, 2, t.TempDir()), openTestReplica(t, 3, t.TempDir())}
	for _, f := range followers {
		f.follow(1, "leader", 1, wireFetch(leader))
	}
	acked := publish(t, leader, 8, 50)
	if err := <-early; err != nil {
		t.Fatalf("the first record: %v", err)
	}
	for p, seqs := range acked {
		if len(seqs) != 50 {
			t.Fatalf("%s: %d acknowledged", p, len(seqs))
		}
	}
	want := payloads(readAll(t, leader))
	if len(want) != 401 {
		t.Fatalf("leader holds %d records", len(want))
	}
	hw, _ := leader.HighWatermark()
	if hw != 401 {
		t.Fatalf("high watermark %d", hw)
	}
	for i, f := range followers {
		eventually(t, "followers caught up", func() bool { return f.Log().EndOffset() == 401 })
		if got := payloads(readAll(t, f)); !slices.Equal(got, want) {
			t.Fatalf("follower %d differs from the leader", i+2)
		}
	}
}

// TestDivergentFollowerTruncates: a follower holding records of an older
// epoch the new leader never had cuts them and takes the leader's.
func TestDivergentFollowerTruncates(t *testing.T) {
	a, b := openTestReplica(t, 1, t.TempDir()), openTestReplica(t, 2, t.TempDir())
	// Epoch 1: node 1 leads alone in sync... its acknowledged records
	// reach node 2, then two more are written that never do.
	u := &region.Unit{ID: "stream:t/f/s", Factor: 2, Replicas: []region.NodeID{1, 2}, Leader: 1, Epoch: 1, InSync: []region.Member{member(1), member(2)}}
	if err := a.lead(u, 1); err != nil {
		t.Fatal(err)
	}
	b.follow(1, "a", 1, wireFetch(a))
	for i := range 5 {
		if _, err := a.Append([]segment.Record{rec("old", i)}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "b caught up", func() bool { return b.Log().EndOffset() == 5 })
	b.stopFollowing()
	unacked := make(chan error, 2)
	for i := 5; i < 7; i++ {
		a.AppendAsync([]segment.Record{rec("old", i)}, func(_ uint64, err error) { unacked <- err })
	}
	eventually(t, "a wrote two more", func() bool { return a.Log().EndOffset() == 7 })
	// Epoch 2: node 2 leads and writes its own records at 5 and on.
	u2 := &region.Unit{ID: u.ID, Factor: 2, Replicas: []region.NodeID{1, 2}, Leader: 2, Epoch: 2, InSync: []region.Member{member(1), member(2)}}
	a.stepDown(2)
	for range 2 {
		if err := <-unacked; !errors.Is(err, ErrNotLeader) {
			t.Fatalf("an append b never had: %v, want ErrNotLeader", err)
		}
	}
	if err := b.lead(u2, 2); err != nil {
		t.Fatal(err)
	}
	a.follow(2, "b", 2, wireFetch(b))
	for i := range 3 {
		if _, err := b.Append([]segment.Record{rec("new", i)}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"old-0", "old-1", "old-2", "old-3", "old-4", "new-0", "new-1", "new-2"}
	if got := payloads(readAll(t, b)); !slices.Equal(got, want) {
		t.Fatalf("leader log %v", got)
	}
	eventually(t, "a converged", func() bool { return a.Log().EndOffset() == 8 })
	if got := payloads(readAll(t, a)); !slices.Equal(got, want) {
		t.Fatalf("a holds %v, want %v", got, want)
	}
	a.mu.Lock()
	epochs := slices.Clone(a.epochs)
	a.mu.Unlock()
	if !slices.Equal(epochs, region.Epochs{{Epoch: 1, Offset: 0}, {Epoch: 2, Offset: 5}}) {
		t.Fatalf("a's epochs %v", epochs)
	}
}

// TestEpochsSurviveRestart: the history is saved beside the log and a
// reopened replica has it (an entry past the log's end is dropped).
func TestEpochsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	r := openTestReplica(t, 1, dir)
	u := &region.Unit{ID: "stream:t/f/s", Factor: 1, Replicas: []region.NodeID{1}, Leader: 1, Epoch: 3, InSync: []region.Member{member(1)}}
	if err := r.lead(u, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Append([]segment.Record{rec("p", 0), rec("p", 1)}); err != nil {
		t.Fatal(err)
	}
	u.Epoch = 4
	r.stepDown(4)
	if err := r.lead(u, 2); err != nil { // epoch 4 starts at 2 and writes nothing
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := openTestReplica(t, 1, dir)
	if !slices.Equal(r2.epochs, region.Epochs{{Epoch: 3, Offset: 0}}) {
		t.Fatalf("epochs after restart %v", r2.epochs)
	}
}

// TestCommittedViewStopsAtTheHighWatermark: consumers read only what every
// in-sync replica holds.
func TestCommittedViewStopsAtTheHighWatermark(t *testing.T) {
	leader := openTestReplica(t, 1, t.TempDir())
	u := &region.Unit{ID: "stream:t/f/s", Factor: 2, Replicas: []region.NodeID{1, 2}, Leader: 1, Epoch: 1, InSync: []region.Member{member(1), member(2)}}
	if err := leader.lead(u, 1); err != nil {
		t.Fatal(err)
	}
	f := openTestReplica(t, 2, t.TempDir())
	f.follow(1, "leader", 1, wireFetch(leader))
	for i := range 3 {
		if _, err := leader.Append([]segment.Record{rec("p", i)}); err != nil {
			t.Fatal(err)
		}
	}
	f.stopFollowing()
	leader.AppendAsync([]segment.Record{rec("p", 3)}, func(uint64, error) {})
	eventually(t, "the fourth record written", func() bool { return leader.Log().EndOffset() == 4 })
	c := leader.Committed()
	if c.EndOffset() != 3 {
		t.Fatalf("committed end %d, want 3", c.EndOffset())
	}
	recs, err := c.Read(0, 100, 1<<20)
	if err != nil || len(recs) != 3 {
		t.Fatalf("read %d records, %v", len(recs), err)
	}
	if recs, err := c.Read(3, 100, 1<<20); err != nil || len(recs) != 0 {
		t.Fatalf("read past the high watermark: %d records, %v", len(recs), err)
	}
	ch := c.Changed()
	f.follow(1, "leader", 1, wireFetch(leader))
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatal("no wake-up when the high watermark moved")
	}
	eventually(t, "the fourth record committed", func() bool { return c.EndOffset() == 4 })
}

// TestFollowerRestartsAtTheLeadersStart: a follower whose log ends before
// the leader's first record (retention removed what it lacks, or its disk
// was wiped) starts its log again at the leader's start and catches up.
func TestFollowerRestartsAtTheLeadersStart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Segment.SegmentMaxBytes = 4096
	cfg.SegmentFor = func(region.UnitID) segment.Options { return cfg.Segment }
	start := time.Now()
	leader, err := openReplica("stream:t/f/s", member(1), cfg.Dir("stream:t/f/s"), cfg, func() time.Duration { return time.Since(start) })
	if err != nil {
		t.Fatal(err)
	}
	defer leader.Close()
	u := &region.Unit{ID: "stream:t/f/s", Factor: 1, Replicas: []region.NodeID{1}, Leader: 1, Epoch: 1, InSync: []region.Member{member(1)}}
	if err := leader.lead(u, 1); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1500)
	for i := range 20 {
		if _, err := leader.Append([]segment.Record{{Payload: big, Producer: "p", SequenceID: int64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := leader.Log().DeleteBelow(10); err != nil {
		t.Fatal(err)
	}
	from := leader.Log().StartOffset()
	if from == 0 {
		t.Fatal("retention removed nothing")
	}
	// A second replica joins (factor 2, not in sync yet) with an empty log.
	u2 := &region.Unit{ID: u.ID, Factor: 2, Replicas: []region.NodeID{1, 2}, Leader: 1, Epoch: 1, InSync: []region.Member{member(1)}}
	leader.metadata(u2, 2)
	f := openTestReplica(t, 2, t.TempDir())
	f.follow(1, "leader", 1, wireFetch(leader))
	eventually(t, "the follower caught up", func() bool { return f.Log().EndOffset() == 20 })
	if f.Log().StartOffset() != from {
		t.Fatalf("the follower starts at %d, the leader at %d", f.Log().StartOffset(), from)
	}
	recs, err := f.Log().Read(from, 100, 1<<30)
	if err != nil || recs[0].SequenceID != int64(from) {
		t.Fatalf("follower's first record %+v, %v", recs[0], err)
	}
}

// TestFollowerForgetsAnEpochItLedWithoutWriting: a replica leads epoch 2
// and writes nothing before it is deposed; its history ends in epoch 2,
// which the new leader (epoch 3) never saw. Asked from its own end with
// last epoch 2, the leader answers that it diverges there: it must forget
// the empty epoch (nothing to truncate) and then catch up - before the
// fix it kept the epoch and asked again forever, never in sync.
func TestFollowerForgetsAnEpochItLedWithoutWriting(t *testing.T) {
	a, b := openTestReplica(t, 1, t.TempDir()), openTestReplica(t, 2, t.TempDir())
	u := &region.Unit{ID: "stream:t/f/s", Factor: 2, Replicas: []region.NodeID{1, 2}, Leader: 1, Epoch: 1, InSync: []region.Member{member(1), member(2)}}
	if err := a.lead(u, 1); err != nil {
		t.Fatal(err)
	}
	b.follow(1, "a", 1, wireFetch(a))
	for i := range 3 {
		if _, err := a.Append([]segment.Record{rec("one", i)}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "b caught up", func() bool { return b.Log().EndOffset() == 3 })
	// Epoch 2: a leads again and writes nothing.
	u2 := &region.Unit{ID: u.ID, Factor: 2, Replicas: u.Replicas, Leader: 1, Epoch: 2, InSync: u.InSync}
	a.stepDown(2)
	if err := a.lead(u2, 2); err != nil {
		t.Fatal(err)
	}
	// Epoch 3: b leads; a follows it with a history ending in epoch 2.
	u3 := &region.Unit{ID: u.ID, Factor: 2, Replicas: u.Replicas, Leader: 2, Epoch: 3, InSync: u.InSync}
	a.stepDown(3)
	b.stopFollowing()
	if err := b.lead(u3, 3); err != nil {
		t.Fatal(err)
	}
	a.follow(2, "b", 3, wireFetch(b))
	if _, err := b.Append([]segment.Record{rec("three", 0)}); err != nil {
		t.Fatalf("an append needing a in sync: %v", err)
	}
	eventually(t, "a converged", func() bool { return a.Log().EndOffset() == 4 })
	a.mu.Lock()
	epochs := slices.Clone(a.epochs)
	a.mu.Unlock()
	if !slices.Equal(epochs, region.Epochs{{Epoch: 1, Offset: 0}, {Epoch: 3, Offset: 3}}) {
		t.Fatalf("a's epochs %v", epochs)
	}
}
