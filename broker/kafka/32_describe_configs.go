package kafka

import (
	"sort"
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
// clients look at, derived from the node's configuration, and a topic's own
// configs given at its creation (kept fabric-wide and described as they
// were given; the node's settings still decide retention and limits).
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
		var set map[string]string // the topic's own configs (CreateTopics)
		switch rr.ResourceType {
		case resourceTopic:
			if v, err := c.s.topics.view(rr.ResourceName); err != nil || !v.exists() {
				r.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				set = v.Configs
			}
			configs = withTopicConfigs(topicConfigs, set)
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
				if v, ok := set[kv[0]]; ok && v == kv[1] {
					cfg.Source, cfg.IsDefault = kmsg.ConfigSourceDynamicTopicConfig, false
				}
				r.Configs = append(r.Configs, cfg)
			}
		}
		resp.Resources = append(resp.Resources, r)
	}
	return resp
}

// withTopicConfigs returns defaults with a topic's own configs in place of
// (or beside) them, sorted by name.
func withTopicConfigs(defaults [][2]string, set map[string]string) [][2]string {
	if len(set) == 0 {
		return defaults
	}
	out := make([][2]string, 0, len(defaults)+len(set))
	for _, kv := range defaults {
		if _, ok := set[kv[0]]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
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
