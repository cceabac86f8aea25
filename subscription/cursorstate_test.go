package subscription

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestCursorStateRoundTrip(t *testing.T) {
	tests := []CursorState{
		{},
		{MarkDelete: 7},
		{MarkDelete: 0, Acked: []Range{{2, 3}, {5, 9}}},
		{MarkDelete: math.MaxUint64 - 10, Acked: []Range{{math.MaxUint64 - 5, math.MaxUint64 - 1}}},
	}
	for _, st := range tests {
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		var got CursorState
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%+v: decode: %v", st, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("round trip %+v -> %x -> %+v", st, b, got)
		}
	}
}

func TestCursorStateCap(t *testing.T) {
	st := CursorState{MarkDelete: 10}
	for i := range MaxStoredAckRanges + 5 {
		from := uint64(12 + 3*i)
		st.Acked = append(st.Acked, Range{from, from + 1})
	}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got CursorState
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if len(got.Acked) != MaxStoredAckRanges || !reflect.DeepEqual(got.Acked, st.Acked[:MaxStoredAckRanges]) {
		t.Errorf("kept %d ranges, want the first %d", len(got.Acked), MaxStoredAckRanges)
	}
	if max := 1 + 10 + 5 + MaxStoredAckRanges*20; len(b) > max {
		t.Errorf("encoded %d bytes, documented bound %d", len(b), max)
	}
}

func TestCursorStateRejects(t *testing.T) {
	valid, _ := CursorState{MarkDelete: 3, Acked: []Range{{5, 6}}}.MarshalBinary()
	tests := map[string][]byte{
		"empty":           {},
		"unknown version": {2, 0, 0},
		"truncated":       valid[:len(valid)-1],
		"trailing":        append(append([]byte(nil), valid...), 0),
		"zero gap":        {1, 3, 1, 0, 1},
		"zero length":     {1, 3, 1, 1, 0},
		"count too big":   {1, 3, 0xff, 0xff, 0x03},
		"non-minimal":     {1, 0x83, 0x00, 0},
		"overflow":        {1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 5, 1},
	}
	for name, b := range tests {
		st := CursorState{MarkDelete: 42}
		err := st.UnmarshalBinary(b)
		if !errors.Is(err, ErrCorruptCursor) {
			t.Errorf("%s: got %v, want ErrCorruptCursor", name, err)
		}
		if st.MarkDelete != 42 || st.Acked != nil {
			t.Errorf("%s: failed decode changed the state to %+v", name, st)
		}
	}
	bad := []CursorState{
		{MarkDelete: 5, Acked: []Range{{5, 6}}},         // adjacent to mark-delete
		{MarkDelete: 0, Acked: []Range{{2, 2}}},         // empty
		{MarkDelete: 0, Acked: []Range{{2, 4}, {4, 5}}}, // adjacent
		{MarkDelete: 0, Acked: []Range{{6, 8}, {2, 4}}}, // unsorted
	}
	for _, st := range bad {
		if _, err := st.MarshalBinary(); !errors.Is(err, ErrCorruptCursor) {
			t.Errorf("%+v: marshal got %v, want ErrCorruptCursor", st, err)
		}
	}
}

// FuzzCursorStateDecode: arbitrary bytes never panic; whatever decodes is
// well formed, bounded, and re-encodes to the same bytes (the encoding is
// canonical).
func FuzzCursorStateDecode(f *testing.F) {
	for _, st := range []CursorState{{}, {MarkDelete: 300, Acked: []Range{{302, 400}, {1000, 1001}}}} {
		b, _ := st.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 0x83, 0x00, 0})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var st CursorState
		if err := st.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrCorruptCursor) {
				t.Fatalf("error %v is not ErrCorruptCursor", err)
			}
			return
		}
		if err := st.Validate(); err != nil {
			t.Fatalf("decoded an invalid state: %v", err)
		}
		if len(st.Acked) > MaxStoredAckRanges {
			t.Fatalf("decoded %d ranges", len(st.Acked))
		}
		again, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
	})
}
