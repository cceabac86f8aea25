package segment

import (
	"fmt"
	"sort"

	"go.uber.org/zap"
)

const (
	// minReadAheadBytes and maxReadAheadBytes bound the size of one file
	// read of Read, which otherwise follows what the read asks for.
	minReadAheadBytes = 4 << 10
	maxReadAheadBytes = 1 << 20
)

// Read returns the records with offsets from `from` on, in order, up to
// EndOffset, at most maxRecords of them and no more than maxBytes (by
// Record.Size) except that the first record is returned whatever its size.
// Reading at EndOffset returns nothing; below StartOffset or past EndOffset
// returns ErrOffsetOutOfRange. The returned records share no memory with the
// log or with other calls.
func (l *Log) Read(from uint64, maxRecords, maxBytes int) ([]Record, error) {
	st := readState{}
	err := l.read(from, maxRecords, maxBytes, &st)
	return st.out, err
}

// ReadStored is Read without resolving payloads stored elsewhere: records
// appended with PayloadRef come back with PayloadRef set and a nil Payload,
// for readers of the other fields alone (de-duplication state, applied
// marks) that may run before the payloads' owner can serve them.
func (l *Log) ReadStored(from uint64, maxRecords, maxBytes int) ([]Record, error) {
	st := readState{stored: true}
	err := l.read(from, maxRecords, maxBytes, &st)
	return st.out, err
}

// ReadFunc reads what Read would return without copying it: fn gets the
// records in order, in one call per stored batch they come from, and they
// share memory with the log's read buffers, so they are valid only until fn
// returns. It returns how many records fn got. After an error fn may have
// had some records already.
func (l *Log) ReadFunc(from uint64, maxRecords, maxBytes int, fn func([]Record)) (int, error) {
	st := readState{visit: fn}
	err := l.read(from, maxRecords, maxBytes, &st)
	return st.count, err
}

// readState is what a read has selected so far: records collected (and
// detached) for Read, or handed to visit for ReadFunc.
type readState struct {
	out              []Record
	visit            func([]Record)
	count, usedBytes int
	stored           bool // ReadStored: leave PayloadRef records as they are
}

// take selects recs, which alias a read buffer.
func (st *readState) take(recs []Record) {
	if st.visit != nil {
		st.visit(recs)
		return
	}
	start := len(st.out)
	st.out = append(st.out, recs...)
	detach(st.out[start:])
}

func (l *Log) read(from uint64, maxRecords, maxBytes int, st *readState) error {
	if maxRecords < 1 {
		return fmt.Errorf("segment: read of %d records: %w", maxRecords, ErrInvalidArgument)
	}
	for {
		v, err := l.view(from)
		if err != nil || v == nil {
			return err
		}
		full, err := l.readSegment(v, from, maxRecords, maxBytes, st)
		v.seg.release()
		if err != nil {
			st.out = nil // Read returns nothing after a failed segment read
			return err
		}
		if full {
			return nil
		}
		from = v.next
	}
}

// view returns the visible extent of the segment holding offset from, with a
// reference the caller releases; nil at EndOffset.
func (l *Log) view(from uint64) (*segView, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	start, end := l.segs[0].base, l.end.Load()
	if from < start || from > end {
		return nil, fmt.Errorf("segment: read at %d outside [%d, %d]: %w", from, start, end, ErrOffsetOutOfRange)
	}
	if from == end {
		return nil, nil
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > from }) - 1
	for l.segs[i].next <= from { // skip empty segments
		i++
	}
	s := l.segs[i]
	s.refs.Add(1)
	return &segView{seg: s, next: s.next, size: s.size, entries: s.entries}, nil
}

// readSegment selects into st the records of v from offset `from` on,
// within the limits; full reports that a limit stopped it before v's end.
func (l *Log) readSegment(v *segView, from uint64, maxRecords, maxBytes int, st *readState) (full bool, err error) {
	s := v.seg
	pos, expect := int64(0), s.base
	if i := searchOffset(v.entries, from-s.base); i >= 0 {
		pos, expect = int64(v.entries[i].position), s.base+uint64(v.entries[i].relOffset)
	}
	r := l.reader(v, readAheadBytes(v, expect, from, maxRecords, maxBytes))
	defer l.putReader(r)
	batch := r.recs
	defer func() { clear(batch); r.recs = batch[:0] }()
	for pos < v.size && !full {
		var h batchHeader
		h, err = l.header(r, pos, expect)
		if err != nil {
			return false, err
		}
		if h.nextOffset() > from {
			var b []byte
			if b, err = r.at(pos, h.size()); err == nil {
				batch, _, err = decodeBatch(b, batch[:0])
			}
			if err != nil {
				return false, fmt.Errorf("segment: read %s at position %d: %w", s.logPath, pos, err)
			}
			first, n := -1, 0 // the records selected: batch[first:first+n]
			for i := range batch {
				if batch[i].Offset < from {
					continue
				}
				size := batch[i].Size()
				if st.count >= maxRecords || (st.count > 0 && st.usedBytes+size > maxBytes) {
					full = true
					break
				}
				if first < 0 {
					first = i
				}
				n++
				st.count++
				st.usedBytes += size
			}
			if n > 0 {
				sel := batch[first : first+n]
				if !st.stored {
					if err = l.resolve(sel); err != nil {
						return false, fmt.Errorf("segment: read %s at offset %d: %w", s.logPath, sel[0].Offset, err)
					}
				}
				st.take(sel)
			}
		}
		pos += h.size()
		expect = h.nextOffset()
	}
	if !full && st.count > 0 && (st.count >= maxRecords || st.usedBytes >= maxBytes) {
		full = true
	}
	return full, nil
}

// resolve fills the payloads of recs' PayloadRef records through
// Options.ResolvePayloads and checks their lengths against the stored ones.
func (l *Log) resolve(recs []Record) error {
	refs := 0
	for i := range recs {
		if recs[i].PayloadRef {
			refs++
		}
	}
	if refs == 0 {
		return nil
	}
	if l.opts.ResolvePayloads == nil {
		return fmt.Errorf("%d payloads: %w", refs, ErrPayloadUnavailable)
	}
	if err := l.opts.ResolvePayloads(recs); err != nil {
		return fmt.Errorf("%w: %w", ErrPayloadUnavailable, err)
	}
	for i := range recs {
		r := &recs[i]
		if !r.PayloadRef {
			continue
		}
		if len(r.Payload) != r.refBytes {
			return fmt.Errorf("%w: record %d: payload of %s:%d resolved to %d bytes, stored length %d",
				ErrCorrupt, r.Offset, r.Origin, r.OriginSeq, len(r.Payload), r.refBytes)
		}
		r.PayloadRef, r.refBytes = false, 0
	}
	return nil
}

// readAheadBytes sizes the first read of a Read: the bytes from the index
// entry to from plus those the read wants, estimated with the segment's mean
// record size.
func readAheadBytes(v *segView, entryOffset, from uint64, maxRecords, maxBytes int) int {
	if v.next <= v.seg.base {
		return minReadAheadBytes
	}
	const limit = maxReadAheadBytes
	mean := v.size/int64(v.next-v.seg.base) + 1
	want := min(int64(min(maxRecords, limit))*mean, int64(min(maxBytes, limit))+mean)
	n := int64(min(from-entryOffset, limit))*mean + want + minReadAheadBytes
	return int(min(n, limit))
}

// header reads the header of the batch at pos, which must start at offset
// expect.
func (l *Log) header(r *chunkReader, pos int64, expect uint64) (batchHeader, error) {
	b, err := r.at(pos, batchHeaderBytes)
	var h batchHeader
	if err == nil {
		h, err = parseBatchHeader(b)
	}
	if err == nil && h.baseOffset != expect {
		err = fmt.Errorf("%w: batch has offset %d, want %d", ErrCorrupt, h.baseOffset, expect)
	}
	if err != nil {
		return h, fmt.Errorf("segment: read %s at position %d: %w", r.path, pos, err)
	}
	return h, nil
}

// detach copies the Payload and Meta of recs, which alias a read buffer,
// into one new allocation.
func detach(recs []Record) {
	n := 0
	for i := range recs {
		n += len(recs[i].Payload) + len(recs[i].Meta)
	}
	arena := make([]byte, 0, n)
	take := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(arena)
		arena = append(arena, b...)
		return arena[start:len(arena):len(arena)]
	}
	for i := range recs {
		recs[i].Payload = take(recs[i].Payload)
		recs[i].Meta = take(recs[i].Meta)
	}
}

// reader returns a chunk reader over v with pooled buffers.
func (l *Log) reader(v *segView, readAheadBytes int) *chunkReader {
	r, ok := l.readerPool.Get().(*chunkReader)
	if !ok {
		r = &chunkReader{}
	}
	r.f, r.path, r.limitBytes, r.readAheadBytes, r.off = v.seg.log, v.seg.logPath, v.size, readAheadBytes, 0
	r.buf = r.buf[:0]
	return r
}

// putReader returns r to the pool unless its buffers grew past the usual
// read size.
func (l *Log) putReader(r *chunkReader) {
	r.f = nil
	if cap(r.buf) <= 2*maxReadAheadBytes && cap(r.recs) <= 4096 {
		l.readerPool.Put(r)
	}
}

// OffsetAtTime returns the first offset whose PublishTime >= ms, or
// EndOffset if there is none. Segments whose newest record is older are
// skipped, the index narrows the search within a segment, and only batches
// whose newest record qualifies are decoded. After a read error it logs and
// returns a lower bound (where the search was).
func (l *Log) OffsetAtTime(ms int64) uint64 {
	after := uint64(0)
	for {
		v, end, err := l.timeView(ms, after)
		if err != nil || v == nil {
			return end
		}
		off, found, err := l.searchTime(v, ms)
		v.seg.release()
		if err != nil {
			l.logger.Warn("offset at time: read failed", zap.Int64("ms", ms), zap.Error(err))
			return off
		}
		if found {
			return off
		}
		after = v.next
	}
}

// timeView returns the first segment from offset after on whose newest
// record is at or after ms, with a reference; nil and EndOffset if none.
func (l *Log) timeView(ms int64, after uint64) (*segView, uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	end := l.end.Load()
	if l.closed {
		return nil, end, ErrClosed
	}
	for _, s := range l.segs {
		if s.base >= after && s.next > s.base && s.maxTime >= ms {
			s.refs.Add(1)
			return &segView{seg: s, next: s.next, size: s.size, entries: s.entries}, end, nil
		}
	}
	return nil, end, nil
}

// searchTime finds the first record of v with PublishTime >= ms.
func (l *Log) searchTime(v *segView, ms int64) (uint64, bool, error) {
	s := v.seg
	pos, expect := int64(0), s.base
	if i := searchTime(v.entries, ms); i >= 0 {
		pos, expect = int64(v.entries[i].position), s.base+uint64(v.entries[i].relOffset)
	}
	r := &chunkReader{f: s.log, path: s.logPath, limitBytes: v.size, readAheadBytes: minReadAheadBytes}
	var batch []Record
	for pos < v.size {
		h, err := l.header(r, pos, expect)
		if err != nil {
			return expect, false, err
		}
		if h.maxTime >= ms {
			b, err := r.at(pos, h.size())
			if err == nil {
				batch, _, err = decodeBatch(b, batch[:0])
			}
			if err != nil {
				return expect, false, fmt.Errorf("segment: read %s at position %d: %w", s.logPath, pos, err)
			}
			for _, rec := range batch {
				if rec.PublishTime >= ms {
					return rec.Offset, true, nil
				}
			}
		}
		pos += h.size()
		expect = h.nextOffset()
	}
	return expect, false, nil
}
