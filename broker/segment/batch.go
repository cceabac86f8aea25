package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Batch format, version 1. A batch is a fixed header followed by a body of
// records; all integers in the header are little endian.
//
//	off size field
//	0   1    magic: batchMagic, the format version
//	1   4    bodyBytes: length of the body that follows the header
//	5   4    crc: CRC32C (Castagnoli) of bytes [9, 37+bodyBytes), that is
//	         the rest of the header and the whole body
//	9   8    baseOffset: offset of the first record
//	17  4    count: number of records (>= 1)
//	21  8    firstPublishTime: PublishTime of the first record
//	29  8    maxPublishTime: largest PublishTime in the batch
//
// Each record in the body, in offset order (offsets are implied):
//
//	flags        1 byte: bit 0 Properties != nil, bit 1 Payload != nil,
//	             bit 2 Meta != nil, bit 3 PayloadRef (then bit 1 is zero
//	             and the payload field is its length alone); other bits
//	             zero
//	publishTime  zigzag varint, minus firstPublishTime (wrapping)
//	eventTime    zigzag varint
//	key          uvarint length, bytes
//	properties   uvarint count, then per entry: key and value as length+bytes
//	payload      uvarint length, bytes (PayloadRef: the length only)
//	producer     uvarint length, bytes
//	sequenceID   zigzag varint
//	origin       uvarint length, bytes
//	originSeq    uvarint
//	meta         uvarint length, bytes
const (
	batchMagic       = 0xC1
	batchHeaderBytes = 37
	crcStart         = 9 // first byte covered by the CRC
	// minRecordBytes is the smallest encoded record: the flags byte and ten
	// one-byte varints.
	minRecordBytes = 11
)

const (
	flagProperties = 1 << iota
	flagPayload
	flagMeta
	flagPayloadRef
	flagsKnown = flagProperties | flagPayload | flagMeta | flagPayloadRef
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTruncated marks input that ends inside a batch: a torn write, or a
// length field that points past the data.
var errTruncated = fmt.Errorf("%w: truncated batch", ErrCorrupt)

// batchHeader is a decoded batch header.
type batchHeader struct {
	baseOffset uint64
	count      uint32
	bodyBytes  uint32
	firstTime  int64
	maxTime    int64
	crc        uint32
}

// size returns the batch's length on disk, header included.
func (h batchHeader) size() int64 { return batchHeaderBytes + int64(h.bodyBytes) }

// nextOffset returns the offset after the batch's last record.
func (h batchHeader) nextOffset() uint64 { return h.baseOffset + uint64(h.count) }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int { return uvarintLen(uint64(x<<1) ^ uint64(x>>63)) }

func bytesLen(n int) int { return uvarintLen(uint64(n)) + n }

// Size returns the bytes the record takes in a batch body, the measure used
// by MaxRecordBytes and by Read's maxBytes. The publish time is counted as if
// it were the batch's first, so the size does not depend on batching.
//
// A PayloadRef record counts its payload as if stored: Read's maxBytes
// bounds what readers get.
func (r *Record) Size() int {
	n := r.storedSize()
	if r.PayloadRef {
		n += r.payloadBytes()
	}
	return n
}

// storedSize returns the bytes the record takes in a batch body as stored,
// without a PayloadRef record's payload: what the writer batches by.
func (r *Record) storedSize() int {
	payload := bytesLen(len(r.Payload))
	if r.PayloadRef {
		payload = uvarintLen(uint64(r.payloadBytes()))
	}
	n := 1 + varintLen(0) + varintLen(r.EventTime) + bytesLen(len(r.Key)) +
		uvarintLen(uint64(len(r.Properties))) + payload +
		bytesLen(len(r.Producer)) + varintLen(r.SequenceID) + bytesLen(len(r.Origin)) +
		uvarintLen(r.OriginSeq) + bytesLen(len(r.Meta))
	for k, v := range r.Properties {
		n += bytesLen(len(k)) + bytesLen(len(v))
	}
	return n
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendBatch encodes recs (at least one) as one batch whose first record has
// offset base, appends it to dst and returns the extended slice. The records'
// Offset fields are ignored.
func appendBatch(dst []byte, base uint64, recs []Record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, batchHeaderBytes)...)
	first := recs[0].PublishTime
	maxTime := first
	for i := range recs {
		r := &recs[i]
		maxTime = max(maxTime, r.PublishTime)
		var flags byte
		if r.Properties != nil {
			flags |= flagProperties
		}
		switch {
		case r.PayloadRef:
			flags |= flagPayloadRef
		case r.Payload != nil:
			flags |= flagPayload
		}
		if r.Meta != nil {
			flags |= flagMeta
		}
		dst = append(dst, flags)
		dst = binary.AppendVarint(dst, int64(uint64(r.PublishTime)-uint64(first)))
		dst = binary.AppendVarint(dst, r.EventTime)
		dst = appendString(dst, r.Key)
		dst = binary.AppendUvarint(dst, uint64(len(r.Properties)))
		for k, v := range r.Properties {
			dst = appendString(dst, k)
			dst = appendString(dst, v)
		}
		if r.PayloadRef {
			dst = binary.AppendUvarint(dst, uint64(r.payloadBytes()))
		} else {
			dst = appendBytes(dst, r.Payload)
		}
		dst = appendString(dst, r.Producer)
		dst = binary.AppendVarint(dst, r.SequenceID)
		dst = appendString(dst, r.Origin)
		dst = binary.AppendUvarint(dst, r.OriginSeq)
		dst = appendBytes(dst, r.Meta)
	}
	h := dst[start : start+batchHeaderBytes]
	h[0] = batchMagic
	binary.LittleEndian.PutUint32(h[1:], uint32(len(dst)-start-batchHeaderBytes))
	binary.LittleEndian.PutUint64(h[9:], base)
	binary.LittleEndian.PutUint32(h[17:], uint32(len(recs)))
	binary.LittleEndian.PutUint64(h[21:], uint64(first))
	binary.LittleEndian.PutUint64(h[29:], uint64(maxTime))
	binary.LittleEndian.PutUint32(h[5:], crc32.Checksum(dst[start+crcStart:], castagnoli))
	return dst
}

// parseBatchHeader decodes and sanity-checks the header at the start of b.
// It does not check the CRC.
func parseBatchHeader(b []byte) (batchHeader, error) {
	if len(b) < batchHeaderBytes {
		return batchHeader{}, errTruncated
	}
	if b[0] != batchMagic {
		return batchHeader{}, fmt.Errorf("%w: bad batch magic 0x%02x", ErrCorrupt, b[0])
	}
	h := batchHeader{
		bodyBytes:  binary.LittleEndian.Uint32(b[1:]),
		crc:        binary.LittleEndian.Uint32(b[5:]),
		baseOffset: binary.LittleEndian.Uint64(b[9:]),
		count:      binary.LittleEndian.Uint32(b[17:]),
		firstTime:  int64(binary.LittleEndian.Uint64(b[21:])),
		maxTime:    int64(binary.LittleEndian.Uint64(b[29:])),
	}
	if h.count == 0 || uint64(h.count)*minRecordBytes > uint64(h.bodyBytes) {
		return batchHeader{}, fmt.Errorf("%w: batch of %d records in %d bytes", ErrCorrupt, h.count, h.bodyBytes)
	}
	if h.baseOffset+uint64(h.count) < h.baseOffset {
		return batchHeader{}, fmt.Errorf("%w: batch offsets overflow", ErrCorrupt)
	}
	return h, nil
}

// checkBatch verifies the CRC of the whole batch at the start of b.
func checkBatch(h batchHeader, b []byte) error {
	if int64(len(b)) < h.size() {
		return errTruncated
	}
	if got := crc32.Checksum(b[crcStart:h.size()], castagnoli); got != h.crc {
		return fmt.Errorf("%w: batch at offset %d: crc 0x%08x, stored 0x%08x", ErrCorrupt, h.baseOffset, got, h.crc)
	}
	return nil
}

// decodeBatch decodes the batch at the start of b, checking its CRC and every
// field, and appends its records to dst. The records' Payload and Meta alias
// b. On error dst is returned unchanged in length.
func decodeBatch(b []byte, dst []Record) ([]Record, batchHeader, error) {
	return decode(b, dst, false)
}

// validateBatch checks the batch at the start of b as decodeBatch does,
// without building records.
func validateBatch(b []byte) error {
	_, _, err := decode(b, nil, true)
	return err
}

func decode(b []byte, dst []Record, skip bool) ([]Record, batchHeader, error) {
	h, err := parseBatchHeader(b)
	if err != nil {
		return dst, h, err
	}
	if err := checkBatch(h, b); err != nil {
		return dst, h, err
	}
	d := decoder{b: b[batchHeaderBytes:h.size()], skip: skip}
	n := len(dst)
	firstTime, maxTime := h.firstTime, h.firstTime
	var producer, origin string
	for i := uint32(0); i < h.count && d.err == nil; i++ {
		r := Record{Offset: h.baseOffset + uint64(i)}
		flags := d.byte()
		if flags&^flagsKnown != 0 {
			d.fail("unknown record flags 0x%02x", flags)
		}
		r.PublishTime = int64(uint64(h.firstTime) + uint64(d.varint()))
		r.EventTime = d.varint()
		r.Key = d.string("")
		np := d.uvarint()
		switch {
		case flags&flagProperties == 0 && np > 0:
			d.fail("properties present but flagged nil")
		case np > uint64(len(d.b))/2:
			d.fail("%d properties in %d bytes", np, len(d.b))
		case flags&flagProperties != 0 && !skip:
			r.Properties = make(map[string]string, np)
			for j := uint64(0); j < np && d.err == nil; j++ {
				k := d.string("")
				r.Properties[k] = d.string("")
			}
		default:
			for j := uint64(0); j < np && d.err == nil; j++ {
				d.raw()
				d.raw()
			}
		}
		if flags&flagPayloadRef != 0 {
			r.PayloadRef, r.refBytes = true, d.refLength(flags)
		} else {
			r.Payload = d.bytes(flags&flagPayload != 0)
		}
		producer = d.string(producer)
		r.Producer = producer
		r.SequenceID = d.varint()
		rawOrigin := d.raw()
		if !skip && string(rawOrigin) != origin {
			origin = string(rawOrigin)
		}
		r.Origin = origin
		r.OriginSeq = d.uvarint()
		if r.PayloadRef && (len(rawOrigin) == 0 || r.OriginSeq == 0) {
			d.fail("payload reference without an origin")
		}
		r.Meta = d.bytes(flags&flagMeta != 0)
		if i == 0 {
			firstTime = r.PublishTime
		}
		maxTime = max(maxTime, r.PublishTime)
		if !skip {
			dst = append(dst, r)
		}
	}
	switch {
	case d.err != nil:
	case len(d.b) != 0:
		d.fail("%d bytes after the last record", len(d.b))
	case firstTime != h.firstTime || maxTime != h.maxTime:
		d.fail("publish times disagree with the header")
	}
	if d.err != nil {
		return dst[:n], h, fmt.Errorf("%w: batch at offset %d: %w", ErrCorrupt, h.baseOffset, d.err)
	}
	return dst, h, nil
}

// decoder reads the fields of a batch body; the first error sticks and every
// later read returns a zero value.
type decoder struct {
	b    []byte
	err  error
	skip bool // validate only: build no strings
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("record ends early")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length %d past the end", n)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// string decodes a string, returning prev itself when equal so repeated
// producer and origin names share one allocation.
func (d *decoder) string(prev string) string {
	v := d.raw()
	if d.skip || string(v) == prev {
		return prev
	}
	return string(v)
}

// refLength decodes the payload length of a PayloadRef record.
func (d *decoder) refLength(flags byte) int {
	if flags&flagPayload != 0 {
		d.fail("payload both stored and referenced")
		return 0
	}
	n := d.uvarint()
	if n > maxRecordLimitBytes {
		d.fail("referenced payload of %d bytes", n)
		return 0
	}
	return int(n)
}

// bytes decodes a byte slice aliasing the input; nil unless present.
func (d *decoder) bytes(present bool) []byte {
	v := d.raw()
	if !present {
		if len(v) != 0 {
			d.fail("bytes present but flagged nil")
		}
		return nil
	}
	return v
}
