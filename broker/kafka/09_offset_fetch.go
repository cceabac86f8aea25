package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// offsetFetch returns each partition's committed offset: the mark-delete
// position of the group's subscription (in a region of several nodes, the
// offset in the region's key-value map: regionoffsets.go), or -1 where the
// group has none. A null topic list (v2+) means every partition the group
// has committed on.
func (c *conn) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if naming.Validate("subscription", req.Group) != nil {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	if code := c.s.coordinatorCode(req.Group); code != 0 {
		return offsetFetchError(req, resp, code)
	}
	if c.s.cluster != nil {
		if err := c.syncRegion(req.Group); err != nil {
			c.log.Warn("reading committed offsets from the region", zap.String("group", req.Group), zap.Error(err))
			return offsetFetchError(req, resp, c.s.groupReadCode(err))
		}
	}
	topicsAsked := req.Topics
	if topicsAsked == nil && req.Version >= 2 {
		all, err := c.s.topics.all()
		if err != nil {
			c.log.Warn("listing the topics of a group's offsets", zap.String("group", req.Group), zap.Error(err))
			resp.ErrorCode = c.s.groupReadCode(err)
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

// offsetFetchError answers every partition asked for with code (and the
// request with it, from v2).
func offsetFetchError(req *kmsg.OffsetFetchRequest, resp *kmsg.OffsetFetchResponse, code int16) kmsg.Response {
	if req.Version >= 2 {
		resp.ErrorCode = code
	}
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = rt.Topic
		for _, partition := range rt.Partitions {
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.ErrorCode = partition, -1, -1, code
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func (c *conn) committed(group, topic string, partition int32) kmsg.OffsetFetchResponseTopicPartition {
	if c.s.cluster != nil {
		return c.committedRegion(group, topic, partition)
	}
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
