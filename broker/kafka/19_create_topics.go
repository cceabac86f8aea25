package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

// createTopics creates topics with their partition counts, configs and
// replication factors in every region of the fabric. The replication
// factor counts the copies of each partition inside a region (regions
// replicate to each other besides): checked against this region's nodes
// as Kafka checks it against its brokers, and applied in every region,
// one that has fewer nodes holding a copy on each (regionReplicas); -1
// takes the region's default (3 copies from three nodes on). Replica
// assignments are accepted for their partition count only: the region
// places replicas and elects leaders itself. The configs are kept and
// described; the node's own settings still decide retention and limits.
func (c *conn) createTopics(req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	ctx, cancel := requestContext(c.ctx, req.TimeoutMillis)
	defer cancel()
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
		size := regionSize(c.s.node)
		factor := rt.ReplicationFactor
		if factor == -1 && len(rt.ReplicaAssignment) > 0 {
			factor = int16(len(rt.ReplicaAssignment[0].Replicas))
		}
		replicas, rerr := checkReplicationFactor(factor, size)
		t.ReplicationFactor = int16(regionReplicas(replicas, size))
		if t.ReplicationFactor == 0 {
			t.ReplicationFactor = int16(region.DefaultFactor(size))
		}
		configs, cerr := topicConfigs(rt.Configs)
		switch {
		case n < 1 || n > maxPartitions:
			t.ErrorCode = kerr.InvalidPartitions.Code
		case rerr != nil:
			t.ErrorCode = kerr.InvalidReplicationFactor.Code
			t.ErrorMessage = kmsg.StringPtr(rerr.Error())
		case cerr != nil:
			t.ErrorCode = kerr.InvalidConfig.Code
			t.ErrorMessage = kmsg.StringPtr(cerr.Error())
		case req.ValidateOnly:
			if have, err := c.s.topics.partitions(rt.Topic); err != nil {
				t.ErrorCode = errorCode(err)
			} else if have > 0 {
				t.ErrorCode = kerr.TopicAlreadyExists.Code
			}
		default:
			if err := c.s.topics.create(ctx, rt.Topic, n, replicas, configs); err != nil {
				t.ErrorCode = errorCode(err)
				t.ErrorMessage = kmsg.StringPtr(err.Error())
			} else {
				c.log.Info("topic created", zap.String("topic", rt.Topic), zap.Int("partitions", n), zap.Int("replicationFactor", int(t.ReplicationFactor)))
			}
		}
		if t.ErrorCode != 0 {
			t.NumPartitions, t.ReplicationFactor = -1, -1
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// topicConfigs checks a CreateTopics request's configs (a null value is
// Kafka's "use the default": it is left out).
func topicConfigs(in []kmsg.CreateTopicsRequestTopicConfig) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, c := range in {
		if c.Value != nil {
			out[c.Name] = *c.Value
		}
	}
	ev := topicEvent{Type: topicCreate, Tenant: "t", Fabric: "f", Topic: "t", Partitions: 1, Configs: out,
		Stamp: topicStamp{Wall: 1, Region: "r"}}
	if err := ev.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// requestContext bounds a request's wait by its timeout (Kafka's
// timeout_ms; publishTimeout when unset).
func requestContext(parent context.Context, timeoutMillis int32) (context.Context, context.CancelFunc) {
	d := publishTimeout
	if timeoutMillis > 0 {
		d = min(d, time.Duration(timeoutMillis)*time.Millisecond)
	}
	return context.WithTimeout(parent, d)
}
