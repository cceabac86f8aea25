package subscription

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestDispatcherCommitTo(t *testing.T) {
	cases := []struct {
		name       string
		markDelete uint64
		acked      []Range
		commit     uint64
		want       uint64
		wantAcked  int
	}{
		{"forward", 2, nil, 5, 5, 0},
		{"forward over acked range", 2, []Range{{From: 6, To: 8}}, 5, 5, 1},
		{"forward into acked range folds it", 2, []Range{{From: 6, To: 8}}, 6, 8, 0},
		{"backward forgets acks above", 5, []Range{{From: 7, To: 8}}, 3, 3, 0},
		{"clamped to end", 0, nil, 99, 10, 0},
		{"clamped to start", 4, nil, 1, 2, 0},
		{"same position", 4, nil, 4, 4, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewDispatcher(DispatcherConfig{Name: "g", Type: Failover}, CursorState{MarkDelete: c.markDelete, Acked: c.acked}, 2, 10)
			if err != nil {
				t.Fatal(err)
			}
			d.CommitTo(c.commit)
			if got := d.MarkDelete(); got != c.want {
				t.Errorf("mark-delete %d, want %d", got, c.want)
			}
			if got := len(d.Cursor().Acked); got != c.wantAcked {
				t.Errorf("%d acked ranges, want %d", got, c.wantAcked)
			}
			if d.ReadPosition() < d.MarkDelete() {
				t.Errorf("read position %d below mark-delete %d", d.ReadPosition(), d.MarkDelete())
			}
		})
	}
}

// A commit without any attached consumer moves the cursor, survives a
// reopen, and a consumer attached afterwards starts there.
func TestCommitWithoutConsumer(t *testing.T) {
	eachSource(t, func(t *testing.T, src testSource) {
		store := NewMemStore()
		src.publish(10)
		s := open(t, Config{Type: Failover, Initial: Earliest}, src, store)
		if at, err := s.Commit(6); err != nil || at != 6 {
			t.Fatalf("commit: %d, %v", at, err)
		}
		if got := s.MarkDelete(); got != 6 {
			t.Fatalf("mark-delete %d, want 6", got)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(7); err == nil {
			t.Fatal("commit on a closed subscription succeeded")
		}
		s2 := open(t, Config{Type: Failover, Initial: Earliest}, src, store)
		if got := s2.MarkDelete(); got != 6 {
			t.Fatalf("after reopen mark-delete %d, want 6", got)
		}
		c := attach(t, s2, ConsumerSpec{Name: "c", Type: Failover})
		got := recvN(t, c, 4)
		if got[0].Record.Offset != 6 {
			t.Fatalf("first delivery %d, want 6", got[0].Record.Offset)
		}
		// Backward commit restarts delivery there.
		if _, err := s2.Commit(2); err != nil {
			t.Fatal(err)
		}
		again := recvN(t, c, 1)
		if again[0].Record.Offset != 2 {
			t.Fatalf("after backward commit first delivery %d, want 2", again[0].Record.Offset)
		}
	})
}

// Acks still in flight when the cursor is moved back settle deliveries
// that no longer exist: they are ignored (the messages are replayed), an
// ack of an offset never dispatched is still refused, and once an offset
// is dispatched again its ack applies.
func TestAckAfterSeekBack(t *testing.T) {
	d, err := NewDispatcher(DispatcherConfig{Name: "s", Type: Exclusive}, CursorState{}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.AddConsumer(ConsumerConfig{Type: Exclusive, Permits: 100})
	if err != nil {
		t.Fatal(err)
	}
	room := func(ConsumerID) int { return 100 }
	if got := len(d.Dispatch(time.Time{}, room, 5)); got != 5 {
		t.Fatalf("dispatched %d, want 5", got)
	}
	d.Seek(2)
	for _, off := range []uint64{2, 3, 4} {
		if err := d.Ack(id, off); err != nil {
			t.Fatalf("stale ack of %d: %v", off, err)
		}
		if d.IsAcked(off) {
			t.Fatalf("a stale ack of %d hid it from the replay", off)
		}
	}
	if err := d.Nack(id, 4, time.Time{}); err != nil {
		t.Fatalf("stale nack: %v", err)
	}
	if err := d.AckCumulative(id, 4); err != nil || d.MarkDelete() != 2 {
		t.Fatalf("stale cumulative ack: %v, mark-delete %d", err, d.MarkDelete())
	}
	if err := d.Ack(id, 7); !errors.Is(err, ErrUnknownMessage) {
		t.Fatalf("ack of an offset never dispatched: %v", err)
	}
	var replay []uint64
	for _, a := range d.Dispatch(time.Time{}, room, 3) {
		replay = append(replay, a.Offset)
	}
	if !slices.Equal(replay, []uint64{2, 3, 4}) {
		t.Fatalf("replayed %v", replay)
	}
	if err := d.Ack(id, 3); err != nil || !d.IsAcked(3) {
		t.Fatalf("ack after the replay: %v, acked %v", err, d.IsAcked(3))
	}
}
