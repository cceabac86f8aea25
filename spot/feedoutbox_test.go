package spot

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"
)

// eventLog records what a state machine hands to its feed, one line per
// event: index/collection/key/op.
type eventLog struct{ lines []string }

func (l *eventLog) add(changes []Change) {
	for _, c := range changes {
		l.lines = append(l.lines, fmt.Sprintf("%d/%s/%s/%s", c.Index, c.Collection.Collection, c.Key, c.Op))
	}
}

func openSMFeed(t *testing.T, dir string, l *eventLog) *stateMachine {
	t.Helper()
	m := newStateMachine(dir, "us", zap.NewNop(), l.add)
	if _, err := m.Open(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestFeedOutboxAfterRestart: a replica that applied entries and stopped
// (its feed had not published them: the node lost the stream's lead while
// stopping) hands their events to the feed again when it opens, in order,
// with the same indexes (so the same sequence ids), and a replica
// restored from a snapshot hands over the snapshot's last entries' events,
// which it never applied. Without it the node leading the stream next
// publishes later entries first and the missing ones, kept by the other
// members, are refused as duplicates when they publish them.
func TestFeedOutboxAfterRestart(t *testing.T) {
	dir := t.TempDir()
	var first eventLog
	m := openSMFeed(t, dir, &first)
	apply(t, m,
		entry(t, 1, createCmd("c")),
		entry(t, 2, createCmd("d")),
		entry(t, 3, txnCmd("r1", put("c", "a", `{"n":1}`), put("d", "x", `{}`), put("c", "b", `{"n":2}`))),
		entry(t, 4, txnCmd("r2", put("d", "y", `{}`))),
	)
	apply(t, m, entry(t, 5, txnCmd("r3", Op{Kind: Delete, Collection: "c", Key: "a"})))
	want := []string{"3/c/a/replace", "3/d/x/replace", "3/c/b/replace", "4/d/y/replace", "5/c/a/delete"}
	if !slices.Equal(first.lines, want) {
		t.Fatalf("events applied: %v, want %v", first.lines, want)
	}
	snap, err := m.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.SaveSnapshot(snap, &buf, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()

	var reopened eventLog
	openSMFeed(t, dir, &reopened)
	if !slices.Equal(reopened.lines, want) {
		t.Fatalf("events handed to the feed again on reopen: %v, want %v", reopened.lines, want)
	}

	var restored eventLog
	dst := openSMFeed(t, t.TempDir(), &restored)
	if err := dst.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restored.lines, want) {
		t.Fatalf("events handed to the feed after a snapshot restore: %v, want %v", restored.lines, want)
	}
}

// TestFeedOutboxWindow: the outbox keeps the last feedOutboxEntries
// entries' events and forgets older ones as entries apply.
func TestFeedOutboxWindow(t *testing.T) {
	dir := t.TempDir()
	var l eventLog
	m := openSMFeed(t, dir, &l)
	apply(t, m,
		entry(t, 1, createCmd("c")),
		entry(t, 2, txnCmd("r1", put("c", "old", `{}`))),
		entry(t, 3, txnCmd("r2", put("c", "kept", `{}`))),
	)
	apply(t, m, sm.Entry{Index: 2 + feedOutboxEntries, Cmd: []byte("not a command")})
	m.Close()
	var again eventLog
	openSMFeed(t, dir, &again)
	if want := []string{"3/c/kept/replace"}; !slices.Equal(again.lines, want) {
		t.Fatalf("events kept past the window: %v, want %v", again.lines, want)
	}
}

// TestFeedOutboxDecode: stored events decode with their index and
// collection; a damaged record is an error, not a panic.
func TestFeedOutboxDecode(t *testing.T) {
	c := Change{Key: "k", Op: "update", Rev: "r", Collection: Ref{Tenant: "t", Fabric: "f", Collection: "c"}, Index: 7}
	b, err := encodeOutbox([]Change{c})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeOutbox(7, b)
	if err != nil || len(got) != 1 || got[0].Collection != c.Collection || got[0].Index != 7 || got[0].Key != "k" || got[0].Rev != "r" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for _, bad := range []string{"", "{", `{"ref":1}`, `[{"ref":"x"}]`} {
		if _, err := decodeOutbox(1, []byte(bad)); err == nil {
			t.Fatalf("%q decoded", bad)
		}
	}
}
