package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// createPartitions raises topics' partition counts in every region of the
// fabric (partitions only grow, as in Kafka; assignments are accepted and
// ignored). A topic created with one partition keeps its stream T as
// partition 0; new partitions are T-partition-1, ...
func (c *conn) createPartitions(req *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	ctx, cancel := requestContext(c.ctx, req.TimeoutMillis)
	defer cancel()
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic = rt.Topic
		switch n := int(rt.Count); {
		case seen[rt.Topic] > 1:
			t.ErrorCode = kerr.InvalidRequest.Code
			t.ErrorMessage = kmsg.StringPtr("topic named more than once")
		case req.ValidateOnly:
			if have, err := c.s.topics.partitions(rt.Topic); err != nil {
				t.ErrorCode = errorCode(err)
			} else if have == 0 {
				t.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else if n <= have || n > maxPartitions {
				t.ErrorCode = kerr.InvalidPartitions.Code
			}
		default:
			if err := c.s.topics.grow(ctx, rt.Topic, n); err != nil {
				t.ErrorCode = errorCode(err)
				t.ErrorMessage = kmsg.StringPtr(err.Error())
			} else {
				c.log.Info("partitions added", zap.String("topic", rt.Topic), zap.Int("partitions", n))
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
