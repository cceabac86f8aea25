package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/auth"
)

// Authorization of a logged-in principal's requests. A topic is the
// stream of the same name in the listener's fabric (its partitions
// included): producing needs write on it; fetching, listing offsets,
// committing and fetching group offsets and describing it need read;
// creating, deleting and adding partitions to it need admin. A request
// touching a topic the principal may not use is answered with
// TOPIC_AUTHORIZATION_FAILED for that topic: Metadata, OffsetFetch,
// CreateTopics, DeleteTopics, CreatePartitions and DescribeConfigs serve
// the other topics of the request, while Produce, Fetch, ListOffsets and
// OffsetCommit are refused whole (a request mixing allowed and refused
// topics is rare). Listing every topic shows only the ones the principal
// may read. Group requests (DeleteGroups included) need only the login:
// groups belong to the tenant, not to a topic.

// denied is the error code of a refused topic.
var denied = kerr.TopicAuthorizationFailed.Code

// can reports whether the connection's principal may do act on topic.
func (c *conn) can(topic string, act auth.Action) bool {
	n := auth.StreamNeed(c.s.cfg.Fabric, topic, act)
	return c.auth.principal.Allows(n.Resource, n.Action)
}

// authorize answers a request the principal may not make (handled), or
// lets it through.
func (c *conn) authorize(req request) (sl *slot, handled bool) {
	answer := func(resp kmsg.Response) (*slot, bool) {
		sl := newSlot(req.correlationID)
		sl.finish(resp)
		return sl, true
	}
	switch m := req.msg.(type) {
	case *kmsg.ProduceRequest:
		for _, t := range m.Topics {
			if !c.can(t.Topic, auth.Write) {
				if m.Acks == 0 {
					c.stopReading() // no answer to carry the error: close, as Kafka does
					return nil, true
				}
				return answer(refuseProduce(m))
			}
		}
	case *kmsg.FetchRequest:
		for _, t := range m.Topics {
			if !c.can(t.Topic, auth.Read) {
				return answer(refuseFetch(m))
			}
		}
	case *kmsg.ListOffsetsRequest:
		for _, t := range m.Topics {
			if !c.can(t.Topic, auth.Read) {
				return answer(refuseListOffsets(m))
			}
		}
	case *kmsg.OffsetCommitRequest:
		for _, t := range m.Topics {
			if !c.can(t.Topic, auth.Read) {
				return answer(refuseOffsetCommit(m))
			}
		}
	case *kmsg.MetadataRequest:
		return answer(c.authorizedMetadata(m))
	case *kmsg.OffsetFetchRequest:
		return answer(c.authorizedOffsetFetch(m))
	case *kmsg.CreateTopicsRequest:
		return answer(c.authorizedCreateTopics(m))
	case *kmsg.DeleteTopicsRequest:
		return answer(c.authorizedDeleteTopics(m))
	case *kmsg.DescribeConfigsRequest:
		return answer(c.authorizedDescribeConfigs(m))
	case *kmsg.CreatePartitionsRequest:
		return answer(c.authorizedCreatePartitions(m))
	}
	return nil, false
}

func refuseProduce(m *kmsg.ProduceRequest) kmsg.Response {
	resp := m.ResponseKind().(*kmsg.ProduceResponse)
	for _, t := range m.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, denied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func refuseFetch(m *kmsg.FetchRequest) kmsg.Response {
	resp := m.ResponseKind().(*kmsg.FetchResponse)
	for _, t := range m.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.HighWatermark, rp.RecordBatches = p.Partition, denied, -1, []byte{}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func refuseListOffsets(m *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := m.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, t := range m.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, denied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func refuseOffsetCommit(m *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := m.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range m.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, denied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// authorizedMetadata describes the readable topics asked for (all
// readable ones for a null list) and refuses the others.
func (c *conn) authorizedMetadata(m *kmsg.MetadataRequest) kmsg.Response {
	all := m.Topics == nil || (m.Version == 0 && len(m.Topics) == 0)
	req := *m
	var refused []string
	if !all {
		req.Topics = nil
		for _, t := range m.Topics {
			if t.Topic != nil && !c.can(*t.Topic, auth.Read) {
				refused = append(refused, *t.Topic)
				continue
			}
			req.Topics = append(req.Topics, t)
		}
		if len(req.Topics) == 0 {
			// An explicit list with nothing left must not become "all".
			req.Topics = []kmsg.MetadataRequestTopic{kmsg.NewMetadataRequestTopic()}
		}
	}
	resp := c.metadata(&req).(*kmsg.MetadataResponse)
	if all {
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if t.Topic != nil && c.can(*t.Topic, auth.Read) {
				kept = append(kept, t)
			}
		}
		resp.Topics = kept
	}
	for _, name := range refused {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic, t.ErrorCode = kmsg.StringPtr(name), denied
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// authorizedOffsetFetch fetches the group's offsets of readable topics.
func (c *conn) authorizedOffsetFetch(m *kmsg.OffsetFetchRequest) kmsg.Response {
	if m.Topics == nil {
		resp := c.offsetFetch(m).(*kmsg.OffsetFetchResponse)
		kept := resp.Topics[:0]
		for _, t := range resp.Topics {
			if c.can(t.Topic, auth.Read) {
				kept = append(kept, t)
			}
		}
		resp.Topics = kept
		return resp
	}
	req := *m
	req.Topics = nil
	var refused []kmsg.OffsetFetchRequestTopic
	for _, t := range m.Topics {
		if c.can(t.Topic, auth.Read) {
			req.Topics = append(req.Topics, t)
		} else {
			refused = append(refused, t)
		}
	}
	var resp *kmsg.OffsetFetchResponse
	if len(req.Topics) > 0 {
		resp = c.offsetFetch(&req).(*kmsg.OffsetFetchResponse)
	} else {
		resp = m.ResponseKind().(*kmsg.OffsetFetchResponse)
	}
	for _, t := range refused {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.ErrorCode = p, -1, denied
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// authorizedCreateTopics creates the topics the principal administers.
func (c *conn) authorizedCreateTopics(m *kmsg.CreateTopicsRequest) kmsg.Response {
	req := *m
	var refused []string
	req.Topics, refused = administered(c, m.Topics, func(t kmsg.CreateTopicsRequestTopic) string { return t.Topic })
	resp := m.ResponseKind().(*kmsg.CreateTopicsResponse)
	if len(req.Topics) > 0 {
		resp = c.createTopics(&req).(*kmsg.CreateTopicsResponse)
	}
	for _, name := range refused {
		t := kmsg.NewCreateTopicsResponseTopic()
		t.Topic, t.ErrorCode, t.ErrorMessage = name, denied, kmsg.StringPtr("permission denied")
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// authorizedDeleteTopics deletes the topics the principal administers.
func (c *conn) authorizedDeleteTopics(m *kmsg.DeleteTopicsRequest) kmsg.Response {
	req := *m
	var refused []string
	req.TopicNames, refused = administered(c, m.TopicNames, func(name string) string { return name })
	resp := m.ResponseKind().(*kmsg.DeleteTopicsResponse)
	if len(req.TopicNames) > 0 {
		resp = c.deleteTopics(&req).(*kmsg.DeleteTopicsResponse)
	}
	for _, name := range refused {
		t := kmsg.NewDeleteTopicsResponseTopic()
		t.Topic, t.ErrorCode = kmsg.StringPtr(name), denied
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// authorizedDescribeConfigs describes the broker and the readable topics.
func (c *conn) authorizedDescribeConfigs(m *kmsg.DescribeConfigsRequest) kmsg.Response {
	req := *m
	req.Resources = nil
	var refused []kmsg.DescribeConfigsRequestResource
	for _, r := range m.Resources {
		if r.ResourceType == kmsg.ConfigResourceTypeTopic && !c.can(r.ResourceName, auth.Read) {
			refused = append(refused, r)
		} else {
			req.Resources = append(req.Resources, r)
		}
	}
	resp := m.ResponseKind().(*kmsg.DescribeConfigsResponse)
	if len(req.Resources) > 0 {
		resp = c.describeConfigs(&req).(*kmsg.DescribeConfigsResponse)
	}
	for _, r := range refused {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName, rr.ErrorCode = r.ResourceType, r.ResourceName, denied
		rr.ErrorMessage = kmsg.StringPtr("permission denied")
		resp.Resources = append(resp.Resources, rr)
	}
	return resp
}

// authorizedCreatePartitions grows the topics the principal administers.
func (c *conn) authorizedCreatePartitions(m *kmsg.CreatePartitionsRequest) kmsg.Response {
	req := *m
	var refused []string
	req.Topics, refused = administered(c, m.Topics, func(t kmsg.CreatePartitionsRequestTopic) string { return t.Topic })
	resp := m.ResponseKind().(*kmsg.CreatePartitionsResponse)
	if len(req.Topics) > 0 {
		resp = c.createPartitions(&req).(*kmsg.CreatePartitionsResponse)
	}
	for _, name := range refused {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic, t.ErrorCode, t.ErrorMessage = name, denied, kmsg.StringPtr("permission denied")
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// administered divides items into those whose topic the connection's
// principal administers and the topic names of the others.
func administered[T any](c *conn, items []T, topic func(T) string) (allowed []T, refused []string) {
	for _, it := range items {
		if name := topic(it); c.can(name, auth.Admin) {
			allowed = append(allowed, it)
		} else {
			refused = append(refused, name)
		}
	}
	return allowed, refused
}
