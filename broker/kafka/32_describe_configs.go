package kafka

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config resource types of DescribeConfigs.
const (
	resourceTopic  = 2
	resourceBroker = 4
)

// describeConfigs answers the handful of read-only settings admin tools and
// clients look at, derived from the node's configuration.
func (c *conn) describeConfigs(req *kmsg.DescribeConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	nc := c.s.node.Config()
	retentionMs := "-1"
	if nc.RetentionAge > 0 {
		retentionMs = strconv.FormatInt(nc.RetentionAge.Milliseconds(), 10)
	}
	retentionBytes := "-1"
	if nc.RetentionBytes > 0 {
		retentionBytes = strconv.FormatInt(nc.RetentionBytes, 10)
	}
	topicConfigs := [][2]string{
		{"cleanup.policy", "delete"},
		{"compression.type", "producer"},
		{"max.message.bytes", strconv.Itoa(nc.MaxMessageBytes)},
		{"message.timestamp.type", "CreateTime"},
		{"retention.bytes", retentionBytes},
		{"retention.ms", retentionMs},
		{"segment.bytes", strconv.FormatInt(nc.SegmentMaxBytes, 10)},
	}
	brokerConfigs := [][2]string{
		{"auto.create.topics.enable", strconv.FormatBool(*nc.AutoCreateStreams)},
		{"broker.id", strconv.Itoa(nodeID)},
		{"message.max.bytes", strconv.Itoa(nc.MaxMessageBytes)},
		{"num.partitions", strconv.Itoa(c.s.cfg.DefaultPartitions)},
	}
	for _, rr := range req.Resources {
		r := kmsg.NewDescribeConfigsResponseResource()
		r.ResourceType, r.ResourceName = rr.ResourceType, rr.ResourceName
		var configs [][2]string
		switch rr.ResourceType {
		case resourceTopic:
			if n, err := c.s.topics.partitions(rr.ResourceName); err != nil || n == 0 {
				r.ErrorCode = kerr.UnknownTopicOrPartition.Code
			}
			configs = topicConfigs
		case resourceBroker:
			configs = brokerConfigs
		default:
			r.ErrorCode = kerr.InvalidRequest.Code
		}
		if r.ErrorCode == 0 {
			for _, kv := range configs {
				if !wanted(rr.ConfigNames, kv[0]) {
					continue
				}
				cfg := kmsg.NewDescribeConfigsResponseResourceConfig()
				cfg.Name, cfg.Value = kv[0], kmsg.StringPtr(kv[1])
				cfg.ReadOnly = true
				cfg.Source = kmsg.ConfigSourceDefaultConfig
				cfg.IsDefault = true
				r.Configs = append(r.Configs, cfg)
			}
		}
		resp.Resources = append(resp.Resources, r)
	}
	return resp
}

// wanted reports whether name is among names (nil = all).
func wanted(names []string, name string) bool {
	if names == nil {
		return true
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
