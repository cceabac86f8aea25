package segment

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/causeway/causeway/broker/vfs"
)

const (
	logSuffix   = ".log"
	indexSuffix = ".index"
)

func logName(dir string, base uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, logSuffix))
}

func indexName(dir string, base uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, indexSuffix))
}

// parseName returns the base offset of a segment or index file name.
func parseName(name, suffix string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil
}

// segment is one segment file and its index.
type segment struct {
	base    uint64
	logPath string
	idxPath string
	log     vfs.File
	// idx is open while the segment is active; nil once sealed.
	idx vfs.File
	// refs counts the log's list plus reads in flight; the files close when
	// it drops to zero.
	refs atomic.Int32
	// idxBytes is the index file's size.
	idxBytes atomic.Int64

	// Guarded by Log.mu; written only by Open and the writer goroutine (which
	// may read them without the lock).
	next    uint64 // one past the last visible record
	size    int64  // visible bytes of the log file
	entries []indexEntry
	maxTime int64 // newest PublishTime of visible records; MinInt64 if none
	// lastEntryPos is the position of the last index entry, -1 if none.
	lastEntryPos int64
	// allocEnd is the file's size, which preallocation keeps ahead of the
	// log's end while the segment is active (writer-owned).
	allocEnd int64
}

func newSegment(dir string, base uint64) *segment {
	s := &segment{
		base:         base,
		logPath:      logName(dir, base),
		idxPath:      indexName(dir, base),
		next:         base,
		maxTime:      math.MinInt64,
		lastEntryPos: -1,
	}
	s.refs.Store(1)
	return s
}

// release drops one reference, closing the files with the last one.
func (s *segment) release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	if s.log != nil {
		s.log.Close()
	}
	if s.idx != nil {
		s.idx.Close()
	}
}

// segView is what a reader sees of a segment: its visible extent.
type segView struct {
	seg     *segment
	next    uint64
	size    int64
	entries []indexEntry
}

// chunkReader reads a segment file through a buffer refilled with large
// reads, so a scan does one read per readAheadBytes rather than per batch.
type chunkReader struct {
	f              vfs.File
	path           string
	limitBytes     int64 // readable end of the file
	readAheadBytes int
	buf            []byte
	off            int64    // file position of buf[0]
	recs           []Record // decoding scratch of Read, pooled with buf
}

// at returns the n bytes at pos. The slice is valid until the next call.
// Bytes past limitBytes read as a truncated batch.
func (r *chunkReader) at(pos, n int64) ([]byte, error) {
	if pos < 0 || n < 0 || pos+n > r.limitBytes {
		return nil, errTruncated
	}
	if pos >= r.off && pos+n <= r.off+int64(len(r.buf)) {
		return r.buf[pos-r.off : pos-r.off+n], nil
	}
	want := min(max(n, int64(r.readAheadBytes)), r.limitBytes-pos)
	if int64(cap(r.buf)) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	got, err := r.f.ReadAt(r.buf, pos)
	if int64(got) < want {
		r.buf = r.buf[:0]
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the file is shorter than it was
		}
		return nil, fmt.Errorf("segment: read %s at %d: %d of %d bytes: %w", r.path, pos, got, want, err)
	}
	r.off = pos
	return r.buf[:n], nil
}

// scanResult is what a walk over a segment's batches found.
type scanResult struct {
	next    uint64       // offset after the last good batch
	goodPos int64        // position after the last good batch
	maxTime int64        // newest PublishTime seen (MinInt64 if none)
	entries []indexEntry // index entries for the walked batches
	lastPos int64        // position of the last entry, -1 if none
	err     error        // why the walk stopped before the end, nil if it did not
}

// scan walks the batches of a segment from pos (where a batch with offset
// next starts) to limit. With verify every batch is fully decoded and
// checked; otherwise only headers are read. It stops at the first bad batch
// (an ErrCorrupt error) or read error (any other).
func scan(r *chunkReader, base, next uint64, pos int64, maxTime int64, entries []indexEntry, lastPos int64, intervalBytes int, verify bool) scanResult {
	res := scanResult{next: next, goodPos: pos, maxTime: maxTime, entries: entries, lastPos: lastPos}
	for res.goodPos < r.limitBytes {
		hb, err := r.at(res.goodPos, batchHeaderBytes)
		if err != nil {
			res.err = err
			return res
		}
		h, err := parseBatchHeader(hb)
		if err == nil && h.baseOffset != res.next {
			err = fmt.Errorf("%w: batch at position %d has offset %d, want %d", ErrCorrupt, res.goodPos, h.baseOffset, res.next)
		}
		if err == nil && h.nextOffset()-base > math.MaxUint32 {
			err = fmt.Errorf("%w: batch at position %d overflows the segment", ErrCorrupt, res.goodPos)
		}
		if err == nil && verify {
			var b []byte
			if b, err = r.at(res.goodPos, h.size()); err == nil {
				err = validateBatch(b)
			}
		}
		if err == nil && res.goodPos+h.size() > r.limitBytes {
			err = errTruncated
		}
		if err != nil {
			res.err = err
			return res
		}
		if needIndexEntry(res.goodPos, res.lastPos, intervalBytes) {
			res.entries = append(res.entries, indexEntry{
				relOffset: uint32(res.next - base), position: uint32(res.goodPos), maxTimeBefore: res.maxTime,
			})
			res.lastPos = res.goodPos
		}
		res.maxTime = max(res.maxTime, h.maxTime)
		res.next = h.nextOffset()
		res.goodPos += h.size()
	}
	return res
}
