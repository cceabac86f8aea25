package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors of the record-batch reader.
var (
	ErrCorruptBatch       = errors.New("kafka: corrupt record batch")
	ErrUnsupportedFormat  = errors.New("kafka: unsupported message format (magic 0/1)")
	ErrTransactionalBatch = errors.New("kafka: transactional and control batches are not supported")
	ErrBatchTooLarge      = errors.New("kafka: record batch too large")
)

// Bounds of one batch.
const (
	// batchHeaderBytes is a v2 batch header up to and including the record
	// count; the length field counts from partitionLeaderEpoch (offset 12).
	batchHeaderBytes = 61
	// maxBatchRecords bounds the records of one batch.
	maxBatchRecords = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batch is one decoded v2 record batch.
type batch struct {
	hdr     kmsg.RecordBatch // header fields; Records holds the raw (maybe compressed) bytes
	records []kmsg.Record
	body    *[]byte // the pooled buffer the records were decompressed into, or nil
}

// releaseAll gives back the batches' decompression buffers: call it once no
// message made from their records is in use.
func (d *decoders) releaseAll(bs []batch) {
	for i := range bs {
		d.release(bs[i].body)
		bs[i].body = nil
	}
}

// lastSequence is the sequence number of the batch's last record.
func (b *batch) lastSequence() int32 { return b.hdr.FirstSequence + b.hdr.LastOffsetDelta }

// readBatches splits and decodes the record batches of one produce
// partition: every batch must be magic 2 with a valid CRC32C and length,
// non-transactional, with as many records as it says, decompressing to at
// most maxDecompressedBytes. Anything else is an error and nothing is
// returned. The batches' buffers go back with releaseAll.
func (d *decoders) readBatches(src []byte, maxDecompressedBytes int) ([]batch, error) {
	var out []batch
	for len(src) > 0 {
		b, rest, err := d.readBatch(src, maxDecompressedBytes)
		if err != nil {
			d.releaseAll(out)
			return nil, err
		}
		out = append(out, b)
		src = rest
	}
	return out, nil
}

// readBatch decodes the batch src starts with and returns the bytes after
// it.
func (d *decoders) readBatch(src []byte, maxDecompressedBytes int) (batch, []byte, error) {
	var b batch
	if len(src) < batchHeaderBytes {
		return b, nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptBatch, len(src))
	}
	if magic := int8(src[16]); magic != 2 {
		return b, nil, fmt.Errorf("%w: magic %d", ErrUnsupportedFormat, magic)
	}
	length := int32(binary.BigEndian.Uint32(src[8:12]))
	if length < batchHeaderBytes-12 || int64(length) > int64(len(src)-12) {
		return b, nil, fmt.Errorf("%w: length %d with %d bytes left", ErrCorruptBatch, length, len(src)-12)
	}
	raw, rest := src[:12+int(length)], src[12+int(length):]
	if want, got := binary.BigEndian.Uint32(raw[17:21]), crc32.Checksum(raw[21:], castagnoli); want != got {
		return b, nil, fmt.Errorf("%w: CRC32C %08x, computed %08x", ErrCorruptBatch, want, got)
	}
	if err := b.hdr.ReadFrom(raw); err != nil {
		return b, nil, fmt.Errorf("%w: %v", ErrCorruptBatch, err)
	}
	if b.hdr.Attributes&0x30 != 0 {
		return b, nil, ErrTransactionalBatch
	}
	if b.hdr.NumRecords < 0 || b.hdr.NumRecords > maxBatchRecords || b.hdr.LastOffsetDelta != b.hdr.NumRecords-1 {
		return b, nil, fmt.Errorf("%w: %d records, last offset delta %d", ErrCorruptBatch, b.hdr.NumRecords, b.hdr.LastOffsetDelta)
	}
	body, pooled, err := d.decompress(compressionCodec(b.hdr.Attributes&0x07), b.hdr.Records, maxDecompressedBytes)
	if err != nil {
		return b, nil, err
	}
	recs, err := readRecords(body, int(b.hdr.NumRecords))
	if err != nil {
		d.release(pooled)
		return b, nil, err
	}
	b.records, b.body = recs, pooled
	return b, rest, nil
}

// readRecords decodes exactly n records filling body.
func readRecords(body []byte, n int) ([]kmsg.Record, error) {
	// Each record takes at least 7 bytes: refuse counts the body cannot hold
	// before allocating for them.
	if n > len(body)/7+1 {
		return nil, fmt.Errorf("%w: %d records in %d bytes", ErrCorruptBatch, n, len(body))
	}
	recs := make([]kmsg.Record, n)
	for i := range recs {
		size, m := binary.Varint(body)
		if m <= 0 || size < 0 || size > int64(len(body)-m) {
			return nil, fmt.Errorf("%w: record %d length", ErrCorruptBatch, i)
		}
		one := body[:m+int(size)]
		body = body[m+int(size):]
		if err := recs[i].ReadFrom(one); err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrCorruptBatch, i, err)
		}
		if recs[i].OffsetDelta != int32(i) {
			return nil, fmt.Errorf("%w: record %d has offset delta %d", ErrCorruptBatch, i, recs[i].OffsetDelta)
		}
	}
	if len(body) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrCorruptBatch, len(body))
	}
	return recs, nil
}
