package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// createTopics creates topics with their partition counts (replication
// factors and assignments are accepted and ignored: replication is
// Causeway's, across regions).
func (c *conn) createTopics(req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewCreateTopicsResponseTopic()
		t.Topic = rt.Topic
		n := int(rt.NumPartitions)
		if n == -1 {
			n = c.s.cfg.DefaultPartitions
			if len(rt.ReplicaAssignment) > 0 {
				n = len(rt.ReplicaAssignment)
			}
		}
		t.NumPartitions = int32(n)
		t.ReplicationFactor = 1
		switch {
		case n < 1 || n > maxPartitions:
			t.ErrorCode = kerr.InvalidPartitions.Code
		case req.ValidateOnly:
			if have, err := c.s.topics.partitions(rt.Topic); err != nil {
				t.ErrorCode = errorCode(err)
			} else if have > 0 {
				t.ErrorCode = kerr.TopicAlreadyExists.Code
			}
		default:
			if err := c.s.topics.create(rt.Topic, n); err != nil {
				t.ErrorCode = errorCode(err)
				t.ErrorMessage = kmsg.StringPtr(err.Error())
			} else {
				c.log.Info("topic created", zap.String("topic", rt.Topic), zap.Int("partitions", n))
			}
		}
		if t.ErrorCode != 0 {
			t.NumPartitions, t.ReplicationFactor = -1, -1
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
