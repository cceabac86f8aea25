package kafka

import (
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/subscription"
)

// Bounds of a fetch.
const (
	// maxFetchWait bounds how long a fetch is held (clients ask for 0.5 s).
	maxFetchWait = 30 * time.Second
	// maxFetchRecords bounds the records returned per partition.
	maxFetchRecords = 10_000
	// maxFetchPartitions bounds the partitions one fetch may wait on.
	maxFetchPartitions = 10_000
	// defaultPartitionMaxBytes is used when a partition asks for 0 or less.
	defaultPartitionMaxBytes = 1 << 20
)

// fetch answers a fetch once MinBytes are available or MaxWait elapsed
// (long polling). It runs on its own goroutine; the connection's writer
// answers requests in order, so requests behind it wait at most MaxWait.
func (c *conn) fetch(req *kmsg.FetchRequest, sl *slot) {
	wait := min(time.Duration(max(req.MaxWaitMillis, 0))*time.Millisecond, maxFetchWait)
	deadline := time.Now().Add(wait)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Take the change channels before reading so no append is missed.
		resp, bytes, changed, fatal := c.fetchOnce(req)
		if fatal || bytes >= int(req.MinBytes) || bytes > 0 && req.MinBytes <= 0 || !time.Now().Before(deadline) || len(changed) == 0 {
			c.finishFetch(sl, resp)
			return
		}
		c.recycleFetch(resp) // less than MinBytes: read again
		cases := make([]reflect.SelectCase, 0, len(changed)+3)
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.ctx.Done())},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.s.stop)})
		for _, ch := range changed {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		chosen, _, _ := reflect.Select(cases)
		if chosen < 3 {
			resp, _, _, _ = c.fetchOnce(req)
			c.finishFetch(sl, resp)
			return
		}
	}
}

// finishFetch answers sl with resp, whose record batches go back to the
// fetch buffers once the writer has encoded it.
func (c *conn) finishFetch(sl *slot, resp *kmsg.FetchResponse) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if b := resp.Topics[i].Partitions[j].RecordBatches; cap(b) > 0 {
				sl.recycle = append(sl.recycle, b)
			}
		}
	}
	sl.finish(resp)
}

// recycleFetch gives back the record batches of a response not sent.
func (c *conn) recycleFetch(resp *kmsg.FetchResponse) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			c.s.fetchBufs.put(resp.Topics[i].Partitions[j].RecordBatches)
		}
	}
}

// fetchOnce reads what every partition has now. changed holds the change
// channels (taken before reading) of partitions that returned nothing;
// fatal is set when a partition answered an error.
func (c *conn) fetchOnce(req *kmsg.FetchRequest) (resp *kmsg.FetchResponse, bytes int, changed []<-chan struct{}, fatal bool) {
	resp = req.ResponseKind().(*kmsg.FetchResponse)
	budget := int(req.MaxBytes)
	if req.Version < 3 || budget <= 0 {
		budget = 1 << 30
	}
	partitions := 0
	for _, rt := range req.Topics {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = rp.Partition
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
			p.RecordBatches = []byte{} // librdkafka refuses a null record set
			partitions++
			if partitions > maxFetchPartitions {
				p.ErrorCode = kerr.PolicyViolation.Code
				fatal = true
				t.Partitions = append(t.Partitions, p)
				continue
			}
			stream, err := c.s.topics.stream(rt.Topic, rp.Partition)
			if err != nil {
				p.ErrorCode = errorCode(err)
				fatal = true
				t.Partitions = append(t.Partitions, p)
				continue
			}
			if p.ErrorCode = leaderCode(stream); p.ErrorCode != 0 {
				fatal = true // another node leads it: the client asks its metadata again
				t.Partitions = append(t.Partitions, p)
				continue
			}
			ch, n := c.fetchPartition(stream, rp, &p, budget, bytes == 0)
			if p.ErrorCode != 0 {
				fatal = true
			}
			if n == 0 && ch != nil {
				changed = append(changed, ch)
			}
			bytes += n
			budget -= n
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, bytes, changed, fatal
}

// fetchPartition fills p from stream starting at rp.FetchOffset within
// budget bytes (at least one record when first). It returns the stream's
// change channel and the bytes added.
func (c *conn) fetchPartition(stream *broker.Stream, rp kmsg.FetchRequestTopicPartition, p *kmsg.FetchResponseTopicPartition, budget int, first bool) (<-chan struct{}, int) {
	src := stream.Source()
	ch := src.Changed()
	start, end := src.StartOffset(), src.EndOffset()
	p.HighWatermark, p.LastStableOffset, p.LogStartOffset = int64(end), int64(end), int64(start)
	if rp.FetchOffset > int64(end) && rp.FetchOffset <= int64(stream.LogEndOffset()) {
		// Held here but not yet counted as committed (a leader that
		// just took over in a region of several nodes): wait, as Kafka
		// does below the log end, rather than make the consumer reset.
		return ch, 0
	}
	if rp.FetchOffset < int64(start) || rp.FetchOffset > int64(end) {
		p.ErrorCode = kerr.OffsetOutOfRange.Code
		return nil, 0
	}
	from := uint64(rp.FetchOffset)
	if from == end {
		return ch, 0
	}
	limit := int(rp.PartitionMaxBytes)
	if limit <= 0 {
		limit = defaultPartitionMaxBytes
	}
	limit = min(limit, budget)
	if limit <= 0 && !first {
		return nil, 0
	}
	buf, n, err := readFetchBatches(src, from, max(limit, 1), c.s.fetchBufs.get())
	if err != nil || n == 0 {
		c.s.fetchBufs.put(buf)
		if err != nil {
			p.ErrorCode = errorCode(err)
			return nil, 0
		}
		return ch, 0
	}
	p.RecordBatches = buf
	return nil, len(p.RecordBatches)
}

// visitSource is a source that can hand its records over without copying
// them (segment.Log.ReadFunc).
type visitSource interface {
	ReadFunc(from uint64, maxRecords, maxBytes int, fn func([]segment.Record)) (int, error)
}

// readFetchBatches appends to dst the records of src from offset from, within
// maxBytes, as record batches, and returns how many records it read. From
// a visitSource the records are encoded straight from the log's read
// buffers, one batch per stored batch (as Kafka returns the batches its
// producers wrote); other sources' records are copied out first and make
// one batch.
func readFetchBatches(src subscription.Source, from uint64, maxBytes int, dst []byte) ([]byte, int, error) {
	if vs, ok := src.(visitSource); ok {
		n, err := vs.ReadFunc(from, maxFetchRecords, maxBytes, func(recs []segment.Record) { dst = appendBatch(dst, recs) })
		return dst, n, err
	}
	recs, err := src.Read(from, maxFetchRecords, maxBytes)
	if err != nil {
		return dst, 0, err
	}
	return appendBatch(dst, recs), len(recs), nil
}
