package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// deleteTopics deletes topics with their streams and subscriptions in every
// region of the fabric, even while producers or consumers are attached (as
// Kafka does).
func (c *conn) deleteTopics(req *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	ctx, cancel := requestContext(c.ctx, req.TimeoutMillis)
	defer cancel()
	names := req.TopicNames
	for _, t := range req.Topics {
		if t.Topic != nil {
			names = append(names, *t.Topic)
		}
	}
	for _, name := range names {
		t := kmsg.NewDeleteTopicsResponseTopic()
		t.Topic = kmsg.StringPtr(name)
		if err := c.s.topics.delete(ctx, name); err != nil {
			t.ErrorCode = errorCode(err)
			t.ErrorMessage = kmsg.StringPtr(err.Error())
		} else {
			c.log.Info("topic deleted", zap.String("topic", name))
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
