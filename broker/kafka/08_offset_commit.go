package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/subscription"
)

// groupSubscriptionType is the type of the subscriptions holding group
// offsets (a WebSocket consumer attaching later may change it).
const groupSubscriptionType = subscription.Failover

// offsetCommit stores each partition's committed offset as the cursor of
// the subscription named after the group: everything below the offset is
// acknowledged; in a region of several nodes, in the region's key-value
// map (regionoffsets.go). Commit metadata is not kept.
func (c *conn) offsetCommit(req *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	code := int16(0)
	switch {
	case naming.Validate("subscription", req.Group) != nil:
		code = kerr.InvalidGroupID.Code
	default:
		code = c.s.coordinatorCode(req.Group)
		if code == 0 && req.Version >= 1 {
			code = c.s.groups.commitAllowed(req.Group, req.MemberID, req.Generation)
		}
	}
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetCommitResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetCommitResponseTopicPartition()
			p.Partition = rp.Partition
			p.ErrorCode = code
			if code == 0 && c.s.cluster == nil {
				p.ErrorCode = c.commit(req.Group, rt.Topic, rp.Partition, rp.Offset)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if code == 0 && c.s.cluster != nil {
		c.commitRegion(req, resp)
	}
	return resp
}

func (c *conn) commit(group, topic string, partition int32, offset int64) int16 {
	if offset < 0 {
		return kerr.InvalidCommitOffsetSize.Code
	}
	stream, err := c.s.topics.stream(topic, partition)
	if err != nil {
		return errorCode(err)
	}
	sub, err := stream.EnsureSubscription(group, groupSubscriptionType, subscription.Earliest)
	if err != nil {
		return errorCode(err)
	}
	if _, err := sub.Commit(uint64(offset)); err != nil {
		return errorCode(err)
	}
	return 0
}
