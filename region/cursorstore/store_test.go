package cursorstore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/subscription"
)

// memMetadata applies proposals to a region.State in memory (the same
// validation and bounds as the metadata group), and fails on demand.
type memMetadata struct {
	mu                sync.Mutex
	st                *region.State
	failRead, failPut error
	proposals         int
}

var errInjected = errors.New("injected")

func newMemMetadata() *memMetadata { return &memMetadata{st: region.NewState()} }

func (m *memMetadata) Read(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRead != nil {
		return "", false, m.failRead
	}
	v, ok := m.st.KV[key]
	return v, ok, nil
}

func (m *memMetadata) Propose(_ context.Context, c region.Command) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	b, err := c.Encode()
	if err != nil {
		return err
	}
	if c, err = region.DecodeCommand(b); err != nil {
		return err
	}
	m.proposals++
	if err := m.st.Apply(m.st.Applied+1, c); err != nil {
		return errors.Join(region.ErrRefused, err)
	}
	return nil
}

func TestStore(t *testing.T) {
	md := newMemMetadata()
	s := New(md)
	if _, ok, err := s.Load("cursor/t/f/s/a"); ok || err != nil {
		t.Fatalf("missing cursor: ok=%v err=%v", ok, err)
	}
	want := subscription.CursorState{MarkDelete: 10, Acked: []subscription.Range{{From: 12, To: 14}}}
	if err := s.Save("cursor/t/f/s/a", want); err != nil {
		t.Fatal(err)
	}
	if _, ok := md.st.KV["subscription/cursor/t/f/s/a"]; !ok {
		t.Fatalf("stored under another key: %v", md.st.KV)
	}
	got, ok, err := s.Load("cursor/t/f/s/a")
	if !ok || err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v, %v", got, ok, err)
	}
	if err := s.Save("cursor/t/f/s/a", subscription.CursorState{MarkDelete: 5, Acked: []subscription.Range{{From: 4, To: 6}}}); !errors.Is(err, subscription.ErrCorruptCursor) {
		t.Fatalf("saving an invalid state: %v", err)
	}
	if err := s.Delete("cursor/t/f/s/a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("cursor/t/f/s/a"); err != nil {
		t.Fatalf("deleting a missing cursor: %v", err)
	}
	if _, ok, _ := s.Load("cursor/t/f/s/a"); ok {
		t.Fatal("a deleted cursor still loads")
	}

	// bad keys are refused before anything is proposed
	before := md.proposals
	for _, key := range []string{strings.Repeat("k", region.MaxKVKeyBytes), "a\x00b", "a\xffb"} {
		if err := s.Save(key, want); !errors.Is(err, region.ErrInvalid) {
			t.Fatalf("key %.20q: %v, want region.ErrInvalid", key, err)
		}
	}
	if md.proposals != before {
		t.Fatal("a bad key was proposed")
	}

	// failures are errors with context, and change nothing
	md.failPut = errInjected
	if err := s.Save("cursor/t/f/s/b", want); !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "cursor/t/f/s/b") {
		t.Fatalf("a failed proposal: %v", err)
	}
	md.failPut = nil
	md.failRead = errInjected
	if _, _, err := s.Load("cursor/t/f/s/b"); !errors.Is(err, errInjected) {
		t.Fatalf("a failed read: %v", err)
	}
	md.failRead = nil
	if _, ok := md.st.KV["subscription/cursor/t/f/s/b"]; ok {
		t.Fatal("a failed save stored something")
	}

	// a corrupt stored value is a clear error
	for _, v := range []string{"not base64!", "CQk="} {
		md.st.KV["subscription/bad"] = v
		if _, _, err := s.Load("bad"); !errors.Is(err, subscription.ErrCorruptCursor) {
			t.Fatalf("corrupt value %q: %v", v, err)
		}
	}
	if st := s.Stats(); st.Saves != 1 || st.Truncated != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestStoreCapsLargeCursors: a cursor of MaxStoredAckRanges ranges (70 KB
// encoded, with gaps of 2^40) is saved within one metadata command,
// keeping the mark-delete position and the ranges nearest it.
func TestStoreCapsLargeCursors(t *testing.T) {
	md := newMemMetadata()
	s := New(md)
	st := subscription.CursorState{MarkDelete: 1 << 50, Acked: ranges(1<<50, subscription.MaxStoredAckRanges, 1<<40)}
	if b, _ := st.MarshalBinary(); len(b) < 60_000 {
		t.Fatalf("the test cursor encodes to only %d bytes", len(b))
	}
	key := "cursor/" + strings.Repeat("t", 400) + "/f/s/sub"
	if err := s.Save(key, st); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(key)
	if err != nil || !ok {
		t.Fatalf("load: %v %v", ok, err)
	}
	if got.MarkDelete != st.MarkDelete || len(got.Acked) == 0 || !reflect.DeepEqual(got.Acked, st.Acked[:len(got.Acked)]) {
		t.Fatalf("loaded mark-delete %d with %d ranges: not a prefix of the saved ones", got.MarkDelete, len(got.Acked))
	}
	stats := s.Stats()
	if stats.Truncated != 1 || stats.DroppedRanges != uint64(len(st.Acked)-len(got.Acked)) {
		t.Fatalf("stats %+v, kept %d ranges", stats, len(got.Acked))
	}
	t.Logf("kept %d of %d ranges with gaps of 2^40 (a %d-byte key)", len(got.Acked), len(st.Acked), len(KeyPrefix+key))

	// small gaps: more ranges fit
	st = subscription.CursorState{MarkDelete: 10, Acked: ranges(10, subscription.MaxStoredAckRanges, 3)}
	if err := s.Save("cursor/t/f/s/dense", st); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Load("cursor/t/f/s/dense")
	if len(got.Acked) < 5000 {
		t.Fatalf("only %d ranges of two bytes kept", len(got.Acked))
	}
}

func TestStoreDeletePrefix(t *testing.T) {
	md := newMemMetadata()
	s := New(md)
	st := subscription.CursorState{MarkDelete: 3}
	for _, k := range []string{"cursor/t/f/s/a", "cursor/t/f/s/b", "cursor/t/f/s2/a"} {
		if err := s.Save(k, st); err != nil {
			t.Fatal(err)
		}
	}
	md.st.KV["other"] = "x"
	if err := s.DeletePrefix(""); err == nil {
		t.Fatal("an empty prefix was accepted")
	}
	if err := s.DeletePrefix("cursor/t/f/s/"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"cursor/t/f/s/a": false, "cursor/t/f/s/b": false, "cursor/t/f/s2/a": true} {
		if _, ok, err := s.Load(k); ok != want || err != nil {
			t.Fatalf("%s: present %v (%v), want %v", k, ok, err, want)
		}
	}
	if _, ok := md.st.KV["other"]; !ok {
		t.Fatal("a key outside the store's namespace was deleted")
	}
}
