package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/causeway/causeway/broker/vfs"
)

// truncateMarker names the file that makes a truncation crash-safe: it is
// written (durably) before anything is cut and removed after, and Open
// completes a truncation it finds.
const truncateMarker = "truncate.marker"

// marker is a pending truncation: cut the segment at base to cutPos, write
// prefix there (a batch re-encoding the records of the cut batch that stay),
// and remove every later segment.
type marker struct {
	base   uint64
	cutPos int64
	prefix []byte
}

// Truncate removes every record at or after offset from the closed log in
// dir: a replica whose log diverged from its leader's past that offset (log
// shipping). The records below offset stay at their offsets, and the next
// append gets offset. After a crash at any point the log holds either every
// record it held or exactly those below offset (Open completes an
// interrupted truncation). An offset at or past the log's end changes
// nothing; one below its start is refused.
func Truncate(fsys vfs.FS, dir string, offset uint64, opts Options) error {
	l, err := Open(fsys, dir, opts)
	if err != nil {
		return err
	}
	start, end := l.StartOffset(), l.EndOffset()
	var s *segment
	for _, seg := range l.segs {
		if seg.base <= offset {
			s = seg
		}
	}
	var m marker
	var findErr error
	if offset > start && offset < end {
		m, findErr = l.cutPoint(s, offset)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("segment: truncate %s: %w", dir, err)
	}
	switch {
	case offset >= end:
		return nil
	case offset < start:
		return fmt.Errorf("segment: truncate %s to %d: the log starts at %d: %w", dir, offset, start, ErrInvalidArgument)
	case offset == start:
		m = marker{base: s.base}
	case findErr != nil:
		return fmt.Errorf("segment: truncate %s to %d: %w", dir, offset, findErr)
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, truncateMarker), m.encode(), 0o644); err != nil {
		return fmt.Errorf("segment: truncate %s: %w", dir, err)
	}
	return finishTruncation(fsys, dir)
}

// cutPoint finds the batch of s holding offset and what of it stays.
func (l *Log) cutPoint(s *segment, offset uint64) (marker, error) {
	r := &chunkReader{f: s.log, path: s.logPath, limitBytes: s.size, readAheadBytes: scanReadAheadBytes}
	pos, next := int64(0), s.base
	for pos < s.size {
		hb, err := r.at(pos, batchHeaderBytes)
		if err != nil {
			return marker{}, err
		}
		h, err := parseBatchHeader(hb)
		if err != nil {
			return marker{}, err
		}
		if h.baseOffset != next {
			return marker{}, fmt.Errorf("%w: batch at position %d has offset %d, want %d", ErrCorrupt, pos, h.baseOffset, next)
		}
		if offset < h.nextOffset() {
			m := marker{base: s.base, cutPos: pos}
			if offset > h.baseOffset {
				b, err := r.at(pos, h.size())
				if err != nil {
					return marker{}, err
				}
				recs, _, err := decodeBatch(b, nil)
				if err != nil {
					return marker{}, err
				}
				m.prefix = appendBatch(nil, h.baseOffset, recs[:offset-h.baseOffset])
			}
			return m, nil
		}
		pos += h.size()
		next = h.nextOffset()
	}
	return marker{}, fmt.Errorf("%w: offset %d not found in %s", ErrCorrupt, offset, s.logPath)
}

// finishTruncation carries out a pending truncation (idempotent: every step
// gives the same result when repeated after a crash), then removes its
// marker.
func finishTruncation(fsys vfs.FS, dir string) error {
	path := filepath.Join(dir, truncateMarker)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("segment: truncation marker: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("segment: truncation marker: %w", err)
	}
	b := make([]byte, st.Size())
	_, err = f.ReadAt(b, 0)
	f.Close()
	if err != nil {
		return fmt.Errorf("segment: truncation marker: %w", err)
	}
	m, err := decodeMarker(b)
	if err != nil {
		return fmt.Errorf("segment: %s: %w", path, err)
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	// Later segments go first, newest first, so a crash leaves a prefix.
	for i := len(names) - 1; i >= 0; i-- {
		base, ok := parseName(names[i], logSuffix)
		if !ok {
			base, ok = parseName(names[i], indexSuffix)
		}
		if ok && base > m.base {
			if err := fsys.Remove(filepath.Join(dir, names[i])); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	if err := fsys.SyncDir(dir); err != nil {
		return err
	}
	// The segment at base keeps what precedes the cut, then the prefix
	// (empty when the cut is its base: it stays as the empty tail, so that
	// the next append gets that offset).
	seg, err := fsys.OpenFile(logName(dir, m.base), os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("segment: truncate: %w", err)
	}
	err = seg.Truncate(m.cutPos)
	if err == nil && len(m.prefix) > 0 {
		_, err = seg.WriteAt(m.prefix, m.cutPos)
	}
	if err == nil {
		err = seg.Sync()
	}
	if cerr := seg.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("segment: truncate %s: %w", logName(dir, m.base), err)
	}
	// The index is rebuilt by the next Open.
	if err := fsys.Remove(indexName(dir, m.base)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := fsys.Remove(path); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// The marker's encoding: base, cut position, prefix length, prefix, CRC32C
// of everything before it.
func (m marker) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, m.base)
	b = binary.BigEndian.AppendUint64(b, uint64(m.cutPos))
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.prefix)))
	b = append(b, m.prefix...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

func decodeMarker(b []byte) (marker, error) {
	if len(b) < 24 {
		return marker{}, fmt.Errorf("%w: truncation marker of %d bytes", ErrCorrupt, len(b))
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return marker{}, fmt.Errorf("%w: truncation marker checksum", ErrCorrupt)
	}
	m := marker{base: binary.BigEndian.Uint64(body), cutPos: int64(binary.BigEndian.Uint64(body[8:]))}
	n := binary.BigEndian.Uint32(body[16:])
	if int(n) != len(body)-20 || m.cutPos < 0 {
		return marker{}, fmt.Errorf("%w: truncation marker lengths", ErrCorrupt)
	}
	m.prefix = body[20:]
	return m, nil
}
