package replicator

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestKeyframeSchedule(t *testing.T) {
	tests := []struct {
		seq      uint64
		is       bool
		atBefore uint64
	}{
		{0, false, 1}, {1, true, 1}, {2, false, 1}, {64, false, 1}, {65, true, 65}, {66, false, 65}, {129, true, 129},
	}
	for _, tc := range tests {
		if got := IsKeyframe(tc.seq); got != tc.is {
			t.Errorf("IsKeyframe(%d) = %v", tc.seq, got)
		}
		if got := KeyframeAtOrBefore(tc.seq); got != tc.atBefore {
			t.Errorf("KeyframeAtOrBefore(%d) = %d, want %d", tc.seq, got, tc.atBefore)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	for _, d := range []Delivery{
		{Seq: 1, HLC: Timestamp{123, 4}, Keyframe: true, Deps: []Entry{{"a", 1}, {"b", 99}}},
		{Seq: 2, HLC: Timestamp{-1, 0}},
	} {
		b := AppendMeta(nil, d)
		m, err := DecodeMeta(b)
		if err != nil {
			t.Fatal(err)
		}
		want := Meta{HLC: d.HLC, Keyframe: d.Keyframe, Deps: d.Deps}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("got %+v want %+v", m, want)
		}
		for n := range len(b) {
			if _, err := DecodeMeta(b[:n]); err == nil {
				t.Fatalf("truncated meta decoded")
			}
		}
		if _, err := DecodeMeta(append(b, 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
	if _, err := DecodeMeta([]byte{9, 0}); !errors.Is(err, ErrVersion) {
		t.Fatalf("bad version: %v", err)
	}
}

// memJournal is a journal of one origin built from deliveries.
type memJournal map[string][]JournalEntry

func (j memJournal) ReadJournal(origin string, from, to uint64) ([]JournalEntry, error) {
	e := j[origin]
	if to > uint64(len(e)) {
		return nil, fmt.Errorf("short journal")
	}
	return e[from-1 : to], nil
}

func TestBuildBatchesRebuildsFullDeps(t *testing.T) {
	// Origin "o" has 100 ops; op s depends on a:s/2 and b:s/10.
	j := memJournal{}
	var full []Vector
	prev := Vector{}
	for s := uint64(1); s <= 100; s++ {
		deps := Vector{"a": s / 2, "b": s / 10}
		d := Delivery{Origin: "o", Seq: s, HLC: Timestamp{int64(s), 0}, Keyframe: IsKeyframe(s)}
		if d.Keyframe {
			d.Deps = deps.Entries()
		} else {
			d.Deps = Diff(prev, deps)
		}
		j["o"] = append(j["o"], JournalEntry{Seq: s, Meta: AppendMeta(nil, d), Body: []byte(fmt.Sprint(s))})
		full = append(full, deps.Clone())
		prev = deps
	}
	tests := []struct {
		from, to  uint64
		maxBytes  int
		batches   int
		wantFirst uint64
	}{
		{1, 1, 1 << 20, 1, 1},
		{70, 100, 1 << 20, 1, 70},
		{64, 66, 1 << 20, 1, 64},
		{10, 100, 200, 0, 10}, // split by bytes: several batches
	}
	c := testCodec(t)
	for _, tc := range tests {
		bs, err := BuildBatches(j, "me", SendRange{Peer: "p", Origin: "o", From: tc.from, To: tc.to}, tc.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if tc.batches > 0 && len(bs) != tc.batches {
			t.Fatalf("%d..%d: %d batches, want %d", tc.from, tc.to, len(bs), tc.batches)
		}
		if tc.batches == 0 && len(bs) < 2 {
			t.Fatalf("%d..%d: not split (%d batches)", tc.from, tc.to, len(bs))
		}
		next := tc.from
		for _, b := range bs {
			w, err := c.AppendBatch(nil, b)
			if err != nil {
				t.Fatal(err)
			}
			if b, err = c.DecodeBatch(w); err != nil {
				t.Fatal(err)
			}
			running := Vector{}
			for _, op := range b.Ops {
				if op.Seq != next {
					t.Fatalf("seq %d, want %d", op.Seq, next)
				}
				Apply(running, op.Deps)
				if !running.Equal(full[op.Seq-1]) {
					t.Fatalf("op %d deps %v, want %v", op.Seq, running, full[op.Seq-1])
				}
				next++
			}
		}
		if next != tc.to+1 {
			t.Fatalf("ended at %d, want %d", next, tc.to+1)
		}
	}
	if _, err := BuildBatches(j, "me", SendRange{Peer: "p", Origin: "o", From: 5, To: 4}, 1000); err == nil {
		t.Fatal("empty range accepted")
	}
	if _, err := BuildBatches(j, "me", SendRange{Peer: "p", Origin: "o", From: 99, To: 101}, 1000); err == nil {
		t.Fatal("range past the journal accepted")
	}
}

// A builder's cache must not change what it builds: random ranges through
// one builder equal the same ranges built from scratch.
func TestBatchBuilderCacheMatchesUncached(t *testing.T) {
	j := memJournal{}
	prev := Vector{}
	for s := uint64(1); s <= 300; s++ {
		deps := Vector{"a": s / 3, "b": s / 7, "c": s * s / 50}
		d := Delivery{Origin: "o", Seq: s, Keyframe: IsKeyframe(s) || s == 100}
		if d.Keyframe {
			d.Deps = deps.Entries()
		} else {
			d.Deps = Diff(prev, deps)
		}
		j["o"] = append(j["o"], JournalEntry{Seq: s, Meta: AppendMeta(nil, d)})
		prev = deps
	}
	bb := NewBatchBuilder("me", 1<<20)
	from := uint64(1)
	for i := range 200 {
		to := min(from+uint64(i%13), 300)
		s := SendRange{Peer: "p", Origin: "o", From: from, To: to}
		got, err := bb.Build(j, s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := BuildBatches(j, "me", s, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("range %d..%d: cached %+v\nuncached %+v", from, to, got, want)
		}
		// Next: the following range, the same range again, or a jump back.
		switch i % 3 {
		case 0:
			from = to%300 + 1
		case 2:
			from = 1 + uint64(i*37)%300
		}
	}
}

func TestRestoreFromJournals(t *testing.T) {
	j := memJournal{}
	prev := Vector{}
	for s := uint64(1); s <= 70; s++ {
		deps := Vector{"a": s / 3, "b": s / 7}
		d := Delivery{Origin: "o", Seq: s, HLC: Timestamp{int64(s), 1}, Keyframe: IsKeyframe(s)}
		if d.Keyframe {
			d.Deps = deps.Entries()
		} else {
			d.Deps = Diff(prev, deps)
		}
		j["o"] = append(j["o"], JournalEntry{Seq: s, Meta: AppendMeta(nil, d)})
		prev = deps
	}
	for _, end := range []uint64{1, 40, 64, 65, 70} {
		st, err := RestoreFromJournals(j, Vector{"o": end, "a": 0})
		if err != nil {
			t.Fatal(err)
		}
		want := Vector{"a": end / 3, "b": end / 7}
		if !st.LastDeps["o"].Equal(want) || st.LastHLC != (Timestamp{int64(end), 1}) || st.Delivered["o"] != end {
			t.Fatalf("end %d: %+v", end, st)
		}
	}
	if _, err := RestoreFromJournals(j, Vector{"o": 71}); err == nil {
		t.Fatal("restore past the journal end")
	}
}
