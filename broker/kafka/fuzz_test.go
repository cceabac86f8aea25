package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeRequest feeds arbitrary frames to the request decoder: it
// returns a request or an error, never panics, and what it accepts
// re-encodes.
func FuzzDecodeRequest(f *testing.F) {
	var rf kmsg.RequestFormatter
	seed := func(req kmsg.Request, version int16) {
		req.SetVersion(version)
		b := rf.AppendRequest(nil, req, 42)
		f.Add(b[4:])
	}
	seed(kmsg.NewPtrApiVersionsRequest(), 3)
	seed(kmsg.NewPtrApiVersionsRequest(), 0)
	md := kmsg.NewPtrMetadataRequest()
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("t")}}
	seed(md, 12)
	seed(md, 1)
	pr := kmsg.NewPtrProduceRequest()
	pr.Acks = -1
	pr.Topics = []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: wrapBatch(codecNone, 2, rawRecords(2))}}}}
	seed(pr, 9)
	seed(pr, 3)
	fr := kmsg.NewPtrFetchRequest()
	fr.Topics = []kmsg.FetchRequestTopic{{Topic: "t", Partitions: []kmsg.FetchRequestTopicPartition{{FetchOffset: 5, PartitionMaxBytes: 100}}}}
	seed(fr, 12)
	seed(fr, 4)
	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.ProtocolType = "g", "consumer"
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
	seed(jg, 7)
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group = "g"
	seed(oc, 8)
	f.Add([]byte{0, 18, 0, 99, 0, 0, 0, 1, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 9, 0, 0, 0, 1, 0x7f, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := decodeRequest(frame)
		if err != nil || req.msg == nil {
			return
		}
		_ = req.msg.AppendTo(nil)
		if !supported(req.key, req.version) {
			t.Fatalf("accepted unsupported %d v%d", req.key, req.version)
		}
	})
}

// FuzzReadBatches feeds arbitrary record-batch bytes (compressed or not) to
// the batch reader: it returns batches or an error, never panics, and every
// batch it returns has exactly the records it claims.
func FuzzReadBatches(f *testing.F) {
	body := rawRecords(4)
	f.Add(wrapBatch(codecNone, 4, body))
	f.Add(wrapBatch(codecGzip, 4, compress(f, codecGzip, body)))
	f.Add(wrapBatch(codecSnappy, 4, compress(f, codecSnappy, body)))
	f.Add(wrapBatch(codecSnappy, 4, xerial(body, 16)))
	f.Add(wrapBatch(codecLZ4, 4, compress(f, codecLZ4, body)))
	f.Add(wrapBatch(codecZstd, 4, compress(f, codecZstd, body)))
	f.Add(append(wrapBatch(codecNone, 4, body), wrapBatch(codecNone, 4, body)...))
	d := testDecoders(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		bs, err := d.readBatches(src, 1<<20)
		if err != nil {
			return
		}
		for _, b := range bs {
			if int(b.hdr.NumRecords) != len(b.records) {
				t.Fatalf("batch claims %d records, has %d", b.hdr.NumRecords, len(b.records))
			}
			_ = toMessages(&b)
		}
	})
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader: it returns a
// frame of 8..maxBytes bytes or an error, never panics, and refuses a
// size past the bound as ErrRequestTooLarge without reading the body.
func FuzzReadFrame(f *testing.F) {
	const maxBytes = 1 << 10
	f.Add([]byte{0, 0, 0, 8, 0, 18, 0, 3, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 4, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		frame, err := readFrame(r, nil, maxBytes)
		var size int32 = -1
		if len(in) >= 4 {
			size = int32(binary.BigEndian.Uint32(in))
		}
		switch {
		case err == nil:
			if len(frame) < 8 || len(frame) > maxBytes || int32(len(frame)) != size {
				t.Fatalf("frame of %d bytes for size %d", len(frame), size)
			}
		case errors.Is(err, ErrRequestTooLarge):
			if size <= maxBytes || r.Len() != len(in)-4 {
				t.Fatalf("size %d refused as too large, %d bytes left unread", size, r.Len())
			}
		}
	})
}
