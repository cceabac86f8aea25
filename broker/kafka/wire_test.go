package kafka_test

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn speaks the wire protocol directly, for cases real clients never
// produce.
type rawConn struct {
	t    *testing.T
	nc   net.Conn
	corr int32
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawConn{t: t, nc: nc}
}

// frame sends a request with a v1 or v2 header.
func (c *rawConn) send(req kmsg.Request) int32 {
	c.t.Helper()
	c.corr++
	var f kmsg.RequestFormatter
	b := f.AppendRequest(nil, req, c.corr)
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
	return c.corr
}

func (c *rawConn) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one response into resp (its version set by the caller).
func (c *rawConn) recv(resp kmsg.Response) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.nc, body); err != nil {
		c.t.Fatal(err)
	}
	body = body[4:] // correlation id
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // empty tag section
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatalf("decode %T: %v", resp, err)
	}
}

func (c *rawConn) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	c.send(req)
	resp := req.ResponseKind()
	c.recv(resp)
	return resp
}

// expectClosed checks that the server closed the connection.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 1<<16)
	for {
		_, err := c.nc.Read(buf)
		if err == nil {
			continue // a response sent before closing
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			c.t.Fatal("the server did not close the connection")
		}
		return
	}
}

// recordBatch builds one uncompressed v2 batch of values.
func recordBatch(producerID int64, epoch int16, firstSeq int32, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v)}
		body := r.AppendTo(nil)[1:] // length placeholder 0 is one byte
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := kmsg.RecordBatch{
		Magic: 2, LastOffsetDelta: int32(len(values) - 1), FirstTimestamp: 1000, MaxTimestamp: 1000,
		ProducerID: producerID, ProducerEpoch: epoch, FirstSequence: firstSeq, NumRecords: int32(len(values)), Records: recs,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

func produceReq(version int16, topic string, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = version
	req.Acks = -1
	req.TimeoutMillis = 5000
	t := kmsg.NewProduceRequestTopic()
	t.Topic = topic
	p := kmsg.NewProduceRequestTopicPartition()
	p.Records = records
	t.Partitions = []kmsg.ProduceRequestTopicPartition{p}
	req.Topics = []kmsg.ProduceRequestTopic{t}
	return req
}

func createTopic(t *testing.T, c *rawConn, topic string, partitions int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 4
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	resp := c.roundTrip(req).(*kmsg.CreateTopicsResponse)
	if code := resp.Topics[0].ErrorCode; code != 0 {
		t.Fatalf("create %s: %v", topic, kerr.ErrorForCode(code))
	}
}

// Idempotent producing: a re-send of any of the last five batches answers
// its original offset and stores nothing; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER;
// an older epoch is fenced.
func TestIdempotentSequences(t *testing.T) {
	srv := startNode(t, nil)
	c := dialRaw(t, srv.KafkaAddr())
	createTopic(t, c, "idem", 1)
	initReq := kmsg.NewPtrInitProducerIDRequest()
	initReq.Version = 2
	ir := c.roundTrip(initReq).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 || ir.ProducerID < 0 {
		t.Fatalf("init producer id: %+v", ir)
	}
	pid := ir.ProducerID
	produce := func(epoch int16, seq int32, values ...string) (int16, int64) {
		resp := c.roundTrip(produceReq(9, "idem", recordBatch(pid, epoch, seq, values...))).(*kmsg.ProduceResponse)
		p := resp.Topics[0].Partitions[0]
		return p.ErrorCode, p.BaseOffset
	}
	var offsets []int64
	for i := range 6 {
		code, off := produce(0, int32(2*i), "a", "b")
		if code != 0 || off != int64(2*i) {
			t.Fatalf("batch %d: code %d offset %d", i, code, off)
		}
		offsets = append(offsets, off)
	}
	for i := 1; i < 6; i++ { // the last five batches
		if code, off := produce(0, int32(2*i), "a", "b"); code != 0 || off != offsets[i] {
			t.Fatalf("re-send of batch %d: code %d offset %d, want 0 and %d", i, code, off, offsets[i])
		}
	}
	if code, _ := produce(0, 0, "a", "b"); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("re-send of a forgotten batch: code %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", code)
	}
	if code, _ := produce(0, 20, "x"); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap: code %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", code)
	}
	if code, off := produce(0, 12, "c"); code != 0 || off != 12 {
		t.Fatalf("next batch: code %d offset %d", code, off)
	}
	if code, off := produce(1, 0, "d"); code != 0 || off != 13 {
		t.Fatalf("bumped epoch: code %d offset %d", code, off)
	}
	if code, _ := produce(0, 13, "e"); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old epoch: code %d, want INVALID_PRODUCER_EPOCH", code)
	}
	if end := streamEnd(t, srv, "idem"); end != 14 {
		t.Fatalf("stream holds %d messages, want 14", end)
	}
}

func streamEnd(t *testing.T, srv interface{ KafkaAddr() string }, topic string) int64 {
	t.Helper()
	c := dialRaw(t, srv.KafkaAddr())
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
	req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
	resp := c.roundTrip(req).(*kmsg.ListOffsetsResponse)
	return resp.Topics[0].Partitions[0].Offset
}

// ApiVersions above the served versions is answered with a v0
// UNSUPPORTED_VERSION response listing the versions (clients retry lower);
// v3's response header is not flexible.
func TestApiVersionsFallback(t *testing.T) {
	srv := startNode(t, nil)
	c := dialRaw(t, srv.KafkaAddr())
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("v3: %+v", resp)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 0 && k.MinVersion != 0 {
			t.Fatalf("Produce advertised from v%d, want v0", k.MinVersion)
		}
	}
	// A version from the future: header v2 (flexible) as a newer client sends.
	var body []byte
	body = kbin.AppendInt16(body, 18)
	body = kbin.AppendInt16(body, 99)
	body = kbin.AppendInt32(body, 7)
	body = kbin.AppendNullableString(body, nil)
	body = append(body, 0)       // header tags
	body = append(body, 1, 1, 0) // whatever a v99 body is
	frame := kbin.AppendInt32(nil, int32(len(body)))
	c.writeRaw(append(frame, body...))
	old := kmsg.NewPtrApiVersionsResponse()
	old.Version = 0
	c.recv(old)
	if old.ErrorCode != kerr.UnsupportedVersion.Code || len(old.ApiKeys) == 0 {
		t.Fatalf("v99: %+v", old)
	}
}

// Bad input closes the connection and leaves the node serving others.
func TestBadInputClosesConnection(t *testing.T) {
	srv := startNode(t, nil)
	setup := dialRaw(t, srv.KafkaAddr())
	createTopic(t, setup, "bad", 1)

	good := recordBatch(-1, -1, -1, "ok")
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 0xff
	hugeLen := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(hugeLen[8:], 0x7fffffff)
	manyRecords := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(manyRecords[57:], 0x7ffffff0)
	binary.BigEndian.PutUint32(manyRecords[17:], crc32.Checksum(manyRecords[21:], crc32.MakeTable(crc32.Castagnoli)))

	cases := map[string]func(c *rawConn){
		"absurd frame size":   func(c *rawConn) { c.writeRaw([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0}) },
		"negative size":       func(c *rawConn) { c.writeRaw([]byte{0xff, 0xff, 0xff, 0xfe}) },
		"truncated request":   func(c *rawConn) { c.writeRaw([]byte{0, 0, 0, 12, 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0}) },
		"unknown api key":     func(c *rawConn) { c.writeRaw([]byte{0, 0, 0, 10, 0x7f, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff}) },
		"unsupported fetch":   func(c *rawConn) { c.writeRaw([]byte{0, 0, 0, 10, 0, 1, 0, 99, 0, 0, 0, 1, 0xff, 0xff}) },
		"bad CRC":             func(c *rawConn) { c.send(produceReq(7, "bad", badCRC)) },
		"absurd batch len":    func(c *rawConn) { c.send(produceReq(7, "bad", hugeLen)) },
		"absurd record count": func(c *rawConn) { c.send(produceReq(7, "bad", manyRecords)) },
		"truncated batch":     func(c *rawConn) { c.send(produceReq(7, "bad", good[:len(good)-3])) },
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, srv.KafkaAddr())
			send(c)
			c.expectClosed()
		})
	}
	// Nothing was stored, and the node still serves.
	c := dialRaw(t, srv.KafkaAddr())
	resp := c.roundTrip(produceReq(7, "bad", good)).(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("good produce after bad input: code %d offset %d", p.ErrorCode, p.BaseOffset)
	}
}
