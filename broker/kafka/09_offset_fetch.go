package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// offsetFetch returns each partition's committed offset: the mark-delete
// position of the group's subscription, or -1 where the group has none.
// A null topic list (v2+) means every partition the group has a
// subscription on.
func (c *conn) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if naming.Validate("subscription", req.Group) != nil {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	topicsAsked := req.Topics
	if topicsAsked == nil && req.Version >= 2 {
		all, err := c.s.topics.all()
		if err != nil {
			resp.ErrorCode = errorCode(err)
			return resp
		}
		for _, name := range sortedNames(all) {
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic = name
			for p := 0; p < all[name]; p++ {
				if off := c.committed(req.Group, name, int32(p)); off.ErrorCode == 0 && off.Offset >= 0 {
					rt.Partitions = append(rt.Partitions, int32(p))
				}
			}
			if len(rt.Partitions) > 0 {
				topicsAsked = append(topicsAsked, rt)
			}
		}
	}
	for _, rt := range topicsAsked {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = rt.Topic
		for _, p := range rt.Partitions {
			t.Partitions = append(t.Partitions, c.committed(req.Group, rt.Topic, p))
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func (c *conn) committed(group, topic string, partition int32) kmsg.OffsetFetchResponseTopicPartition {
	p := kmsg.NewOffsetFetchResponseTopicPartition()
	p.Partition = partition
	p.Offset = -1
	p.LeaderEpoch = -1
	stream, err := c.s.topics.stream(topic, partition)
	if err != nil {
		p.ErrorCode = errorCode(err)
		return p
	}
	sub, err := stream.Subscription(group)
	if errors.Is(err, broker.ErrSubNotFound) {
		return p
	}
	if err != nil {
		p.ErrorCode = errorCode(err)
		return p
	}
	p.Offset = int64(sub.MarkDelete())
	return p
}
