package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Special ListOffsets timestamps.
const (
	listLatest   = -1
	listEarliest = -2
)

// listOffsets answers the earliest, latest or first-at-time offset of each
// partition (times are publish times).
func (c *conn) listOffsets(req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewListOffsetsResponseTopicPartition()
			p.Partition = rp.Partition
			p.Timestamp = -1
			p.Offset = -1
			stream, err := c.s.topics.stream(rt.Topic, rp.Partition)
			if err != nil {
				p.ErrorCode = errorCode(err)
				t.Partitions = append(t.Partitions, p)
				continue
			}
			if p.ErrorCode = leaderCode(stream); p.ErrorCode != 0 {
				t.Partitions = append(t.Partitions, p)
				continue
			}
			src := stream.Source()
			var off uint64
			switch rp.Timestamp {
			case listLatest:
				off = src.EndOffset()
			case listEarliest:
				off = src.StartOffset()
			default:
				off = src.OffsetAtTime(rp.Timestamp)
				if off < src.EndOffset() {
					if recs, err := src.Read(off, 1, 1); err == nil && len(recs) == 1 {
						p.Timestamp = recordTimestamp(&recs[0])
					}
				}
			}
			p.Offset = int64(off)
			if req.Version == 0 {
				p.OldStyleOffsets = []int64{int64(off)}
			}
			p.LeaderEpoch = 0
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
