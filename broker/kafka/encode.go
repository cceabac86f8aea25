package kafka

import (
	"encoding/binary"
	"hash/crc32"

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
// batch in CreateTime, with no producer id.
func appendBatch(dst []byte, recs []segment.Record) []byte {
	if len(recs) == 0 {
		return dst
	}
	firstTS, maxTS := recordTimestamp(&recs[0]), recordTimestamp(&recs[0])
	for i := range recs {
		maxTS = max(maxTS, recordTimestamp(&recs[i]))
	}
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
	var rec kmsg.Record
	for i := range recs {
		r := &recs[i]
		rec = kmsg.Record{
			TimestampDelta64: recordTimestamp(r) - firstTS,
			OffsetDelta:      int32(r.Offset - recs[0].Offset),
			Value:            r.Payload,
		}
		if r.Key != "" {
			rec.Key = []byte(r.Key)
		}
		if rec.Value == nil {
			rec.Value = []byte{}
		}
		rec.Headers = propertiesToHeaders(rec.Headers[:0], r.Properties)
		rec.Length = int32(recordBodyLen(&rec))
		dst = rec.AppendTo(dst)
	}
	binary.BigEndian.PutUint32(dst[start+8:], uint32(len(dst)-start-12))
	binary.BigEndian.PutUint32(dst[start+17:], crc32.Checksum(dst[start+21:], castagnoli))
	return dst
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
