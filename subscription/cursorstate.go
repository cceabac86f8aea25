package subscription

import (
	"encoding/binary"
	"fmt"
)

// CursorState is the durable part of a subscription: every offset below
// MarkDelete is acknowledged, and so is every offset in Acked (sorted,
// disjoint, non-adjacent half-open ranges, all above MarkDelete). Read
// positions, redelivery counts and consumers are not durable: after a restart
// delivery resumes at MarkDelete, skipping the Acked ranges.
type CursorState struct {
	MarkDelete uint64
	Acked      []Range
}

// MaxStoredAckRanges bounds the individually acknowledged ranges that
// MarshalBinary writes (Pulsar's managedLedgerMaxUnackedRangesToPersist).
// Past the cap the ranges nearest the mark-delete position are kept and the
// rest are dropped: after a restart the messages in the dropped ranges are
// delivered again (a duplicate, never a loss). An encoded state is therefore
// at most 1+10+5+MaxStoredAckRanges*20 bytes.
const MaxStoredAckRanges = 10_000

// cursorVersion1 is the only encoding so far:
//
//	byte    version (1)
//	uvarint markDelete
//	uvarint number of ranges n (<= MaxStoredAckRanges)
//	n times: uvarint gap (From - previous end; previous end starts at
//	         markDelete; gap >= 1), uvarint length (To - From; >= 1)
//
// The encoding is canonical: a state has exactly one valid encoding.
const cursorVersion1 = 1

// MarshalBinary encodes the state (truncating Acked to MaxStoredAckRanges).
// It fails only if the state is not well formed (see Validate).
func (st CursorState) MarshalBinary() ([]byte, error) {
	if err := st.Validate(); err != nil {
		return nil, err
	}
	rs := st.Acked
	if len(rs) > MaxStoredAckRanges {
		rs = rs[:MaxStoredAckRanges]
	}
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(rs)*6)
	b = append(b, cursorVersion1)
	b = binary.AppendUvarint(b, st.MarkDelete)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	prev := st.MarkDelete
	for _, r := range rs {
		b = binary.AppendUvarint(b, r.From-prev)
		b = binary.AppendUvarint(b, r.To-r.From)
		prev = r.To
	}
	return b, nil
}

// Validate reports whether the ranges are sorted, disjoint, non-adjacent,
// non-empty and above MarkDelete.
func (st CursorState) Validate() error {
	prev := st.MarkDelete
	for i, r := range st.Acked {
		if r.From <= prev || r.To <= r.From {
			return fmt.Errorf("%w: acked range %d [%d,%d) after %d is empty, unsorted or adjacent", ErrCorruptCursor, i, r.From, r.To, prev)
		}
		prev = r.To
	}
	return nil
}

// UnmarshalBinary decodes a state written by MarshalBinary. Any malformed,
// truncated, oversized or trailing input is rejected with ErrCorruptCursor
// and leaves st unchanged.
func (st *CursorState) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrCorruptCursor)
	}
	if b[0] != cursorVersion1 {
		return fmt.Errorf("%w: unknown version %d", ErrCorruptCursor, b[0])
	}
	p := 1
	next := func(what string) (uint64, error) {
		v, n := binary.Uvarint(b[p:])
		if n <= 0 {
			return 0, fmt.Errorf("%w: bad %s at byte %d", ErrCorruptCursor, what, p)
		}
		// Reject non-minimal varints so the encoding stays canonical.
		if n > 1 && b[p+n-1] == 0 {
			return 0, fmt.Errorf("%w: non-minimal %s at byte %d", ErrCorruptCursor, what, p)
		}
		p += n
		return v, nil
	}
	md, err := next("mark-delete")
	if err != nil {
		return err
	}
	n, err := next("range count")
	if err != nil {
		return err
	}
	if n > MaxStoredAckRanges {
		return fmt.Errorf("%w: %d ranges exceed the cap of %d", ErrCorruptCursor, n, MaxStoredAckRanges)
	}
	// Each range takes at least two bytes; refuse counts the input cannot hold
	// before allocating.
	if n > uint64(len(b)-p)/2 {
		return fmt.Errorf("%w: %d ranges in %d bytes", ErrCorruptCursor, n, len(b)-p)
	}
	var rs []Range
	if n > 0 {
		rs = make([]Range, 0, n)
	}
	prev := md
	for i := uint64(0); i < n; i++ {
		gap, err := next("range gap")
		if err != nil {
			return err
		}
		length, err := next("range length")
		if err != nil {
			return err
		}
		if gap == 0 || length == 0 {
			return fmt.Errorf("%w: range %d has zero gap or length", ErrCorruptCursor, i)
		}
		from := prev + gap
		to := from + length
		if from < prev || to < from {
			return fmt.Errorf("%w: range %d overflows", ErrCorruptCursor, i)
		}
		rs = append(rs, Range{From: from, To: to})
		prev = to
	}
	if p != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorruptCursor, len(b)-p)
	}
	*st = CursorState{MarkDelete: md, Acked: rs}
	return nil
}
