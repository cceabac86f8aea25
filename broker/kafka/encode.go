package kafka

import (
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/segment"
)

// recordTimestamp is the Kafka timestamp of a stored record: its event time
// (the producer's CreateTime) when it has one, else its publish time.
func recordTimestamp(r *segment.Record) int64 {
	if r.EventTime > 0 {
		return r.EventTime
	}
	return r.PublishTime
}

// appendBatch appends recs (dense offsets) as one uncompressed v2 record
// batch in CreateTime, with no producer id. It sizes the batch first and
// grows dst once: a fetch of a megabyte appended record by record copied
// and allocated it about five times over.
func appendBatch(dst []byte, recs []segment.Record) []byte {
	if len(recs) == 0 {
		return dst
	}
	firstTS, maxTS := recordTimestamp(&recs[0]), recordTimestamp(&recs[0])
	for i := range recs {
		maxTS = max(maxTS, recordTimestamp(&recs[i]))
	}
	// Headers are made once, in the sizing pass, for the records that
	// have properties (most have none).
	var headers [][]kmsg.Header
	size := batchHeaderBytes
	for i := range recs {
		var hs []kmsg.Header
		if len(recs[i].Properties) > 0 {
			if hs = propertiesToHeaders(nil, recs[i].Properties); len(hs) > 0 {
				if headers == nil {
					headers = make([][]kmsg.Header, len(recs))
				}
				headers[i] = hs
			}
		}
		rec := fetchedRecord(&recs[i], recs[0].Offset, firstTS, hs)
		size += varlongLen(int64(rec.Length)) + int(rec.Length)
	}
	dst = slices.Grow(dst, size)
	start := len(dst)
	b := kmsg.RecordBatch{
		FirstOffset:          int64(recs[0].Offset),
		PartitionLeaderEpoch: 0,
		Magic:                2,
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       firstTS,
		MaxTimestamp:         maxTS,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(recs)),
	}
	dst = b.AppendTo(dst) // header with empty records and placeholder length and CRC
	for i := range recs {
		var hs []kmsg.Header
		if headers != nil {
			hs = headers[i]
		}
		rec := fetchedRecord(&recs[i], recs[0].Offset, firstTS, hs)
		dst = rec.AppendTo(dst)
	}
	binary.BigEndian.PutUint32(dst[start+8:], uint32(len(dst)-start-12))
	binary.BigEndian.PutUint32(dst[start+17:], crc32.Checksum(dst[start+21:], castagnoli))
	return dst
}

// fetchedRecord is r as a record of a batch starting at offset base and
// time firstTS, with headers hs, its Length set.
func fetchedRecord(r *segment.Record, base uint64, firstTS int64, hs []kmsg.Header) kmsg.Record {
	rec := kmsg.Record{
		TimestampDelta64: recordTimestamp(r) - firstTS,
		OffsetDelta:      int32(r.Offset - base),
		Value:            r.Payload,
		Headers:          hs,
	}
	if r.Key != "" {
		rec.Key = []byte(r.Key)
	}
	if rec.Value == nil {
		rec.Value = []byte{}
	}
	rec.Length = int32(recordBodyLen(&rec))
	return rec
}

// recordBodyLen is the encoded length of a record after its length field.
func recordBodyLen(r *kmsg.Record) int {
	n := 1 + varlongLen(r.TimestampDelta64) + varlongLen(int64(r.OffsetDelta))
	n += bytesLen(r.Key) + bytesLen(r.Value) + varlongLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += varlongLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	return n
}

func bytesLen(b []byte) int {
	if b == nil {
		return varlongLen(-1)
	}
	return varlongLen(int64(len(b))) + len(b)
}

func varlongLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}
