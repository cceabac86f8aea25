package cursorstore

import (
	"encoding/binary"
	"fmt"

	"github.com/causeway/causeway/subscription"
)

// Fit returns st with as many of its acknowledged ranges as encode
// (CursorState.MarshalBinary) within maxBytes, those nearest the
// mark-delete position first, and how many ranges it dropped. The
// mark-delete position is always kept; an error if even it does not fit
// or st is not well formed.
func Fit(st subscription.CursorState, maxBytes int) (subscription.CursorState, int, error) {
	if err := st.Validate(); err != nil {
		return st, 0, err
	}
	limit := min(len(st.Acked), subscription.MaxStoredAckRanges)
	header := func(n int) int { return 1 + uvarintLen(st.MarkDelete) + uvarintLen(uint64(n)) }
	if header(0) > maxBytes {
		return st, 0, fmt.Errorf("cursorstore: a cursor needs %d bytes, %d allowed", header(0), maxBytes)
	}
	n, body, prev := 0, 0, st.MarkDelete
	for n < limit {
		r := st.Acked[n]
		size := uvarintLen(r.From-prev) + uvarintLen(r.To-r.From)
		if header(n+1)+body+size > maxBytes {
			break
		}
		body += size
		prev = r.To
		n++
	}
	dropped := len(st.Acked) - n
	if dropped > 0 {
		st.Acked = st.Acked[:n:n]
	}
	return st, dropped, nil
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}
