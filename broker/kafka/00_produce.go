package kafka

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
)

// produceCall collects the partition results of one produce request; the
// answer is sent when the last append completes.
type produceCall struct {
	mu      sync.Mutex
	resp    *kmsg.ProduceResponse
	pending atomic.Int32
	sl      *slot // nil for acks=0
}

func (pc *produceCall) done() {
	if pc.pending.Add(-1) == 0 && pc.sl != nil {
		pc.sl.finish(pc.resp)
	}
}

// setResult records one batch's outcome for partition rp: the first
// batch's offset is the partition's base offset, and the first error wins.
func (pc *produceCall) setResult(rp *kmsg.ProduceResponseTopicPartition, offset uint64, code int16, first bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if code != 0 {
		if rp.ErrorCode == 0 {
			rp.ErrorCode = code
			rp.BaseOffset = -1
		}
		return
	}
	if first && rp.ErrorCode == 0 {
		rp.BaseOffset = int64(offset)
	}
}

// produce appends every partition's batches. It runs on the reader
// goroutine, so appends keep request order per stream; sl is nil for
// acks=0. A corrupt batch answers CORRUPT_MESSAGE and closes the
// connection.
func (c *conn) produce(req *kmsg.ProduceRequest, sl *slot) {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	pc := &produceCall{resp: resp, sl: sl}
	pc.pending.Store(1)
	for _, rt := range req.Topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		resp.Topics = append(resp.Topics, t)
	}
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			out := &resp.Topics[i].Partitions[j]
			*out = kmsg.NewProduceResponseTopicPartition()
			out.Partition = rp.Partition
			out.BaseOffset = -1
			out.LogAppendTime = -1
			c.producePartition(req, rt.Topic, rp, out, pc, sl)
		}
	}
	pc.done()
}

func (c *conn) producePartition(req *kmsg.ProduceRequest, topic string, rp kmsg.ProduceRequestTopicPartition,
	out *kmsg.ProduceResponseTopicPartition, pc *produceCall, sl *slot) {
	if req.Version < 3 {
		out.ErrorCode = kerr.UnsupportedForMessageFormat.Code
		return
	}
	if req.TransactionID != nil {
		out.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return
	}
	stream, err := c.s.topics.stream(topic, rp.Partition)
	if err != nil {
		out.ErrorCode = errorCode(err)
		return
	}
	if out.ErrorCode = leaderCode(stream); out.ErrorCode != 0 {
		return // another node leads it (a region of several nodes)
	}
	out.LogStartOffset = int64(stream.Source().StartOffset())
	batches, err := c.s.dec.readBatches(rp.Records, maxDecompressedBatchBytes)
	if err != nil {
		out.ErrorCode = errorCode(err)
		if errors.Is(err, ErrCorruptBatch) || errors.Is(err, ErrCompression) {
			c.log.Warn("corrupt record batch, closing the connection", zap.String("topic", topic), zap.Int32("partition", rp.Partition), zap.Error(err))
			if sl != nil {
				sl.closeAfter = true
			} else {
				c.cancel()
			}
		}
		return
	}
	p, err := c.producer(stream)
	if err != nil {
		c.s.dec.releaseAll(batches)
		out.ErrorCode = errorCode(err)
		return
	}
	for bi := range batches {
		b := &batches[bi]
		first := bi == 0
		msgs := toMessages(b)
		// The payloads are in b's decompression buffer (when it has one),
		// given back once they are stored or not published.
		body := b.body
		if b.hdr.ProducerID < 0 {
			pc.pending.Add(1)
			p.PublishBorrowedAsync(msgs, func(rs []broker.PublishResult) {
				c.s.dec.release(body)
				off, err := firstResult(rs)
				pc.setResult(out, off, c.appendCode(stream, err), first)
				pc.done()
			})
			continue
		}
		var verdict seqVerdict
		var seqB *seqBatch
		pc.pending.Add(1)
		c.s.pids.with(b.hdr.ProducerID, stream.Name(), func(st *seqState) {
			verdict, seqB = st.check(b.hdr.ProducerEpoch, b.hdr.FirstSequence, b.lastSequence())
			switch verdict {
			case seqAppend:
				seqB = st.begin(b.hdr.ProducerEpoch, b.hdr.FirstSequence, b.lastSequence())
			case seqDuplicate:
				if seqB.pending {
					seqB.waiters = append(seqB.waiters, func(off uint64, ok bool) {
						code := int16(0)
						if !ok {
							code = kerr.UnknownServerError.Code
						}
						pc.setResult(out, off, code, first)
						pc.done()
					})
					seqB = nil
				}
			}
		})
		if verdict != seqAppend {
			c.s.dec.release(body)
		}
		switch verdict {
		case seqDuplicate:
			if seqB != nil {
				pc.setResult(out, seqB.offset, 0, first)
				pc.done()
			}
			continue
		case seqOutOfOrder:
			pc.setResult(out, 0, kerr.OutOfOrderSequenceNumber.Code, first)
			pc.done()
			continue
		case seqFenced:
			pc.setResult(out, 0, kerr.InvalidProducerEpoch.Code, first)
			pc.done()
			continue
		}
		id, name := b.hdr.ProducerID, stream.Name()
		p.PublishBorrowedAsync(msgs, func(rs []broker.PublishResult) {
			c.s.dec.release(body)
			off, err := firstResult(rs)
			var waiters []func(uint64, bool)
			c.s.pids.with(id, name, func(st *seqState) { waiters = st.finish(seqB, off, err == nil) })
			pc.setResult(out, off, c.appendCode(stream, err), first)
			pc.done()
			for _, w := range waiters {
				w(off, err == nil)
			}
		})
	}
}

// appendCode is the error code of an append's outcome: errorCode's, or in
// a region of several nodes appendFailureCode's (a retriable code when the
// lead moved or the in-sync replicas were slow).
func (c *conn) appendCode(stream *broker.Stream, err error) int16 {
	if err == nil || c.s.node.Config().Cluster == nil {
		return errorCode(err)
	}
	leader, local := stream.Leader()
	return appendFailureCode(err, leader, local)
}

// firstResult is the offset of a batch's first message, or its first error.
func firstResult(rs []broker.PublishResult) (uint64, error) {
	for _, r := range rs {
		if r.Err != nil {
			return 0, r.Err
		}
	}
	if len(rs) == 0 {
		return 0, nil
	}
	return rs[0].Offset, nil
}

// toMessages converts a batch's records to broker messages: key, headers as
// properties (headers.go), value as payload, the record timestamp as event
// time.
func toMessages(b *batch) []broker.Message {
	msgs := make([]broker.Message, len(b.records))
	for i := range b.records {
		r := &b.records[i]
		m := broker.Message{Key: string(r.Key), Payload: r.Value, SequenceID: -1}
		if m.Payload == nil {
			m.Payload = []byte{}
		}
		if ts := b.hdr.FirstTimestamp + r.TimestampDelta64; ts > 0 {
			m.EventTime = ts
		}
		m.Properties = headersToProperties(r.Headers)
		msgs[i] = m
	}
	return msgs
}

// sortedKeys returns a map's keys sorted, for deterministic headers.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
