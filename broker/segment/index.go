package segment

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// Index format: a sequence of fixed 16-byte entries, little endian, one per
// ~IndexIntervalBytes of log, each pointing at the start of a batch:
//
//	off size field
//	0   4    relOffset: the batch's base offset minus the segment's base
//	4   4    position: the batch's byte position in the segment file
//	8   8    maxTimeBefore: the largest PublishTime of every record stored
//	         before the batch in the segment (math.MinInt64 when none)
//
// The first entry of a non-empty segment is always (0, 0, MinInt64). Both
// offsets and positions strictly increase; maxTimeBefore never decreases, so
// it can be binary searched for OffsetAtTime.
const indexEntryBytes = 16

type indexEntry struct {
	relOffset     uint32
	position      uint32
	maxTimeBefore int64
}

// needIndexEntry reports whether a batch starting at pos gets an index
// entry, given the position of the last entry (or -1 when none).
func needIndexEntry(pos, lastEntryPos int64, intervalBytes int) bool {
	return lastEntryPos < 0 || pos-lastEntryPos >= int64(intervalBytes)
}

func appendIndexEntry(dst []byte, e indexEntry) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, e.relOffset)
	dst = binary.LittleEndian.AppendUint32(dst, e.position)
	return binary.LittleEndian.AppendUint64(dst, uint64(e.maxTimeBefore))
}

func encodeIndex(entries []indexEntry) []byte {
	b := make([]byte, 0, len(entries)*indexEntryBytes)
	for _, e := range entries {
		b = appendIndexEntry(b, e)
	}
	return b
}

// decodeIndex decodes and checks an index for a segment file of logBytes
// bytes. Any inconsistency is an ErrCorrupt error: the index must then be
// rebuilt from the log.
func decodeIndex(b []byte, logBytes int64) ([]indexEntry, error) {
	if len(b)%indexEntryBytes != 0 {
		return nil, fmt.Errorf("%w: index of %d bytes is not whole entries", ErrCorrupt, len(b))
	}
	if len(b) == 0 && logBytes > 0 {
		return nil, fmt.Errorf("%w: empty index for a non-empty segment", ErrCorrupt)
	}
	entries := make([]indexEntry, len(b)/indexEntryBytes)
	for i := range entries {
		p := b[i*indexEntryBytes:]
		e := indexEntry{
			relOffset:     binary.LittleEndian.Uint32(p),
			position:      binary.LittleEndian.Uint32(p[4:]),
			maxTimeBefore: int64(binary.LittleEndian.Uint64(p[8:])),
		}
		switch {
		case i == 0 && e != (indexEntry{maxTimeBefore: math.MinInt64}):
			return nil, fmt.Errorf("%w: first index entry %+v", ErrCorrupt, e)
		case int64(e.position)+batchHeaderBytes > logBytes:
			return nil, fmt.Errorf("%w: index entry %d points past the segment end", ErrCorrupt, i)
		case i > 0 && (e.relOffset <= entries[i-1].relOffset || e.position <= entries[i-1].position ||
			e.maxTimeBefore < entries[i-1].maxTimeBefore):
			return nil, fmt.Errorf("%w: index entry %d out of order", ErrCorrupt, i)
		}
		entries[i] = e
	}
	return entries, nil
}

// searchOffset returns the last entry whose relOffset <= rel, or -1.
func searchOffset(entries []indexEntry, rel uint64) int {
	return sort.Search(len(entries), func(i int) bool { return uint64(entries[i].relOffset) > rel }) - 1
}

// searchTime returns the last entry whose maxTimeBefore < ms, or -1: every
// record before that entry's batch is older than ms.
func searchTime(entries []indexEntry, ms int64) int {
	return sort.Search(len(entries), func(i int) bool { return entries[i].maxTimeBefore >= ms }) - 1
}
