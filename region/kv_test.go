package region

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
)

func put(k, v string) Command    { return Command{Kind: KindPutKV, Key: k, Value: v} }
func del(k string) Command       { return Command{Kind: KindDeleteKV, Key: k} }
func delPrefix(p string) Command { return Command{Kind: KindDeletePrefix, Key: p} }

func TestKV(t *testing.T) {
	tests := []struct {
		name string
		cmds []Command
		err  error // of the last command
		want map[string]string
	}{
		{name: "put", cmds: []Command{put("a", "1")}, want: map[string]string{"a": "1"}},
		{name: "an empty value is a value", cmds: []Command{put("a", "")}, want: map[string]string{"a": ""}},
		{name: "put replaces", cmds: []Command{put("a", "1"), put("a", "2")}, want: map[string]string{"a": "2"}},
		{name: "delete", cmds: []Command{put("a", "1"), put("b", "2"), del("a")}, want: map[string]string{"b": "2"}},
		{name: "deleting a missing key is no error", cmds: []Command{put("a", "1"), del("x")}, want: map[string]string{"a": "1"}},
		{name: "delete prefix drops only the keys that begin with it",
			cmds: []Command{put("cursor/t/f/s/a", "1"), put("cursor/t/f/s/b", "2"), put("cursor/t/f/s2/a", "3"), put("other", "4"),
				delPrefix("cursor/t/f/s/")},
			want: map[string]string{"cursor/t/f/s2/a": "3", "other": "4"}},
		{name: "delete prefix matching nothing", cmds: []Command{put("a", "1"), delPrefix("b")}, want: map[string]string{"a": "1"}},
		{name: "a key of the maximum length", cmds: []Command{put(strings.Repeat("k", MaxKVKeyBytes), "v")},
			want: map[string]string{strings.Repeat("k", MaxKVKeyBytes): "v"}},
		{name: "an empty key is refused", cmds: []Command{put("a", "1"), put("", "1")}, err: ErrInvalid, want: map[string]string{"a": "1"}},
		{name: "a long key is refused", cmds: []Command{put(strings.Repeat("k", MaxKVKeyBytes+1), "v")}, err: ErrInvalid, want: map[string]string{}},
		{name: "a key with NUL is refused", cmds: []Command{put("a\x00b", "v")}, err: ErrInvalid, want: map[string]string{}},
		{name: "a key that is not UTF-8 is refused", cmds: []Command{put("a\xffb", "v")}, err: ErrInvalid, want: map[string]string{}},
		{name: "a value that is not UTF-8 is refused", cmds: []Command{put("a", "\xc3")}, err: ErrInvalid, want: map[string]string{}},
		{name: "a value too large for a command is refused",
			cmds: []Command{put("a", "1"), put("a", strings.Repeat("v", MaxKVEntryBytes))}, err: ErrInvalid, want: map[string]string{"a": "1"}},
		{name: "a value that escapes past the bound is refused",
			cmds: []Command{put("a", strings.Repeat("<", MaxKVEntryBytes/6+1))}, err: ErrInvalid, want: map[string]string{}},
		{name: "an empty prefix is refused", cmds: []Command{put("a", "1"), delPrefix("")}, err: ErrInvalid, want: map[string]string{"a": "1"}},
		{name: "a delete carrying a value is refused", cmds: []Command{put("a", "1"), {Kind: KindDeleteKV, Key: "a", Value: "x"}},
			err: ErrInvalid, want: map[string]string{"a": "1"}},
		{name: "a put carrying other fields is refused", cmds: []Command{{Kind: KindPutKV, Key: "a", Value: "1", Unit: "u"}},
			err: ErrInvalid, want: map[string]string{}},
		{name: "another command carrying a key is refused", cmds: []Command{{Kind: KindHeartbeat, Member: m(1), Key: "a"}},
			err: ErrInvalid, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := region3(t)
			var err error
			for i, c := range tt.cmds {
				before := s.Clone()
				err = s.Apply(s.Applied+1, c)
				if err != nil && i < len(tt.cmds)-1 {
					t.Fatalf("command %d: %v", i, err)
				}
				if err != nil {
					sameBesidesApplied(t, before, s)
				}
			}
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if !maps.Equal(s.KV, tt.want) {
				t.Fatalf("kv %v, want %v", s.KV, tt.want)
			}
			if got, want := s.kvSize(), recount(s); got != want {
				t.Fatalf("kv size %d, counted again %d", got, want)
			}
		})
	}
}

func sameBesidesApplied(t *testing.T, before, after *State) {
	t.Helper()
	before = before.Clone()
	before.Applied = after.Applied
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) {
		t.Fatalf("a refused command changed the state:\n%s\n%s", a, b)
	}
}

func recount(s *State) int {
	n := 0
	for k, v := range s.KV {
		n += KVEntryBytes(k, v)
	}
	return n
}

// TestKVBounds: the map refuses what would take it past MaxKVEntries or
// MaxKVTotalBytes, and nothing changes; a smaller value still replaces.
func TestKVBounds(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		s := NewState()
		for i := range MaxKVEntries {
			mustApply(t, s, put(fmt.Sprint(i), "v"))
		}
		before := s.Clone()
		if err := s.Apply(s.Applied+1, put("one-more", "v")); !errors.Is(err, ErrKVFull) {
			t.Fatalf("put past MaxKVEntries: %v, want ErrKVFull", err)
		}
		sameBesidesApplied(t, before, s)
		mustApply(t, s, put("0", "replaced"))
		mustApply(t, s, del("1"))
		mustApply(t, s, put("one-more", "v"))
	})
	t.Run("bytes", func(t *testing.T) {
		s := NewState()
		big := strings.Repeat("v", MaxKVEntryBytes-8)
		i := 0
		for ; s.kvSize()+KVEntryBytes("00000000", big) <= MaxKVTotalBytes; i++ {
			mustApply(t, s, put(fmt.Sprintf("%08d", i), big))
		}
		before := s.Clone()
		if err := s.Apply(s.Applied+1, put(fmt.Sprintf("%08d", i), big)); !errors.Is(err, ErrKVFull) {
			t.Fatalf("put past MaxKVTotalBytes: %v, want ErrKVFull", err)
		}
		sameBesidesApplied(t, before, s)
		mustApply(t, s, put("00000000", "small"))
		mustApply(t, s, put(fmt.Sprintf("%08d", i), "small too"))
		if got, want := s.kvSize(), recount(s); got != want || got > MaxKVTotalBytes {
			t.Fatalf("kv size %d, counted again %d", got, want)
		}
	})
}

// TestKVSnapshot: the map survives a snapshot round trip (its size is
// counted again), and a snapshot written before the map existed decodes.
func TestKVSnapshot(t *testing.T) {
	s := region3(t)
	mustApply(t, s, put("a", "1"))
	mustApply(t, s, put("b", "<&>"))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := NewState()
	if err := json.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.KV, s.KV) || got.kvSize() != s.kvSize() {
		t.Fatalf("after a snapshot: kv %v (%d bytes), want %v (%d)", got.KV, got.kvSize(), s.KV, s.kvSize())
	}
	// a state decoded over one that had counted its map counts again
	if err := json.Unmarshal([]byte(`{"applied":3,"nodes":{},"units":{},"kv":{"x":"yy"}}`), got); err != nil {
		t.Fatal(err)
	}
	if got.kvSize() != recount(got) {
		t.Fatalf("kv size %d after decoding over a counted state, want %d", got.kvSize(), recount(got))
	}

	old := NewState()
	if err := json.Unmarshal([]byte(`{"applied":7,"nodes":{},"units":{}}`), old); err != nil {
		t.Fatal(err)
	}
	if old.Applied != 7 || len(old.KV) != 0 {
		t.Fatalf("old snapshot: %+v", old)
	}
	mustApply(t, old, put("a", "1"))
	if old.KV["a"] != "1" {
		t.Fatal("a put after an old snapshot was lost")
	}
	var bare State // decoded with no map at all
	if err := json.Unmarshal([]byte(`{"applied":7,"nodes":{},"units":{}}`), &bare); err != nil {
		t.Fatal(err)
	}
	mustApply(t, &bare, put("a", "1"))
	mustApply(t, &bare, delPrefix("a"))
}

func TestKVClone(t *testing.T) {
	s := NewState()
	mustApply(t, s, put("a", "1"))
	c := s.Clone()
	mustApply(t, c, put("a", "2"))
	mustApply(t, c, put("b", "3"))
	if s.KV["a"] != "1" || len(s.KV) != 1 || s.kvSize() != recount(s) {
		t.Fatalf("a clone's puts changed the original: %v", s.KV)
	}
	s = region3(t)
	mustApply(t, s, put("a", "1"))
	w := s.CloneWithoutKV()
	if w.KV != nil || len(w.Nodes) != 3 || w.Units["u"].Leader != 1 || w.Applied != s.Applied {
		t.Fatalf("clone without kv: %+v", w)
	}
	w.Units["u"].Replicas[0] = 9
	if s.Units["u"].Replicas[0] != 1 {
		t.Fatal("a clone without kv shares the units' replicas")
	}
}

// TestKVEntryBytesBoundsJSON: KVEntryBytes never undercounts what
// encoding/json writes, so a valid put always encodes within
// MaxCommandBytes.
func TestKVEntryBytesBoundsJSON(t *testing.T) {
	alphabet := []string{"a", "\"", "\\", "\n", "\x01", "\b", "<", "&", "é", "\u2028", "😀", "\x7f", "/"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var sb strings.Builder
		for range rng.IntN(64) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := sb.String()
		b, _ := json.Marshal(s)
		if got := jsonStringBytes(s); got < len(b)-2 {
			t.Fatalf("jsonStringBytes(%q) = %d, encoding/json writes %d", s, got, len(b)-2)
		}
	}
	for _, ch := range []string{"v", "<", "\x01", "\u2028", "\""} {
		key := strings.Repeat(ch, MaxKVKeyBytes/len(ch))
		n := (MaxKVEntryBytes - jsonStringBytes(key)) / jsonStringBytes(ch)
		c := put(key, strings.Repeat(ch, n))
		b, err := c.Encode()
		if err != nil {
			t.Fatalf("largest put of %q: %v", ch, err)
		}
		if len(b) > MaxCommandBytes {
			t.Fatalf("largest put of %q encodes to %d bytes", ch, len(b))
		}
		if _, err := DecodeCommand(b); err != nil {
			t.Fatalf("largest put of %q does not decode: %v", ch, err)
		}
		if _, err := put(key, strings.Repeat(ch, n+1)).Encode(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("put of %q past the bound: %v, want ErrInvalid", ch, err)
		}
	}
}
