package region

import (
	"slices"
	"testing"
	"time"
)

// sliceLog is a log of entries from offset 0, as a leader's LogView.
type sliceLog []Entry

func (l sliceLog) Start() uint64 { return 0 }
func (l sliceLog) End() uint64   { return uint64(len(l)) }
func (l sliceLog) Epochs() Epochs {
	var e Epochs
	for _, x := range l {
		e = e.Assign(x.Epoch, x.Offset)
	}
	return e
}
func (l sliceLog) Read(offset uint64, n int) []Entry {
	if offset >= uint64(len(l)) {
		return nil
	}
	return slices.Clone(l[offset:min(uint64(len(l)), offset+uint64(n))])
}

// TestInSyncJoinNeedsTheLeadersStart: a new leader knows a high watermark
// below what its predecessor acknowledged (it learns it from fetch
// answers); a replica that lacks the records between them must not join
// the in-sync set, or it could lead without an acknowledged record
// (simulator seed 237 with co-location groups: offset 15 acknowledged
// twice).
func TestInSyncJoinNeedsTheLeadersStart(t *testing.T) {
	s := region3(t)
	// Node 3 leads at epoch 2, alone in sync; node 1 lacks offset 15.
	mustApply(t, s, Command{Kind: KindAlterInSync, Unit: "u", Epoch: 1, Member: m(1), InSync: []Member{m(1), m(3)}})
	mustApply(t, s, Command{Kind: KindFenceNode, Member: m(1)})
	mustApply(t, s, Command{Kind: KindUnfenceNode, Member: m(1)})
	u := s.Units["u"]
	if u.Leader != 3 || u.Epoch != 2 {
		t.Fatalf("setup: %+v", *u)
	}
	var log sliceLog
	for i := range 16 {
		log = append(log, Entry{Offset: uint64(i), Epoch: 1, Data: []byte{byte(i)}})
	}
	now := time.Duration(0)
	l := NewLeader(LeaderConfig{MaxLag: time.Second}, m(3), u, 15, now)
	l.Appended(log.End())
	fetch := func(offset uint64) {
		resp := l.Fetch(FetchRequest{Unit: "u", From: m(1), Epoch: 2, Offset: offset, LastEpoch: 1}, log, now)
		if resp.Err != FetchOK || resp.Diverging {
			t.Fatalf("fetch from %d: %+v", offset, resp)
		}
	}
	fetch(15)
	if set, ok := l.InSyncChange(log.End(), s.Nodes, now); ok && slices.Contains(set, m(1)) {
		t.Fatalf("node 1 without offset 15 joins: %v", set)
	}
	now += time.Millisecond
	fetch(16)
	set, ok := l.InSyncChange(log.End(), s.Nodes, now)
	if !ok || !slices.Equal(set, []Member{m(1), m(3)}) {
		t.Fatalf("node 1 caught up: %v, %v; want it in", set, ok)
	}
}
