package kafka

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// nodeID is this broker's id: every partition's leader and every group's
// coordinator.
const nodeID = 0

// clusterID names the cluster in Metadata.
const clusterID = "causeway"

// autoCreate creates topic with the default partition count, once the
// topic has been asked for longer than Config.AutoCreateWait in a fabric of
// several regions (until then: LEADER_NOT_AVAILABLE, and the topic's
// metadata may arrive from the region that created it). A topic created
// meanwhile, here or elsewhere, is answered as it is.
func (c *conn) autoCreate(name string) (int, error) {
	if err := c.s.topics.checkNamespace(); err != nil {
		c.log.Debug("topic not auto-created", zap.String("topic", name), zap.Error(err))
		return 0, err
	}
	if c.s.topics.meta.replicated() && !c.s.autoCreate.ready(name, time.Now()) {
		return -int(kerr.LeaderNotAvailable.Code), nil
	}
	ctx, cancel := requestContext(c.ctx, 0)
	defer cancel()
	n := c.s.cfg.DefaultPartitions
	err := c.s.topics.create(ctx, name, n, 0, nil)
	switch {
	case err == nil:
		c.log.Info("topic auto-created", zap.String("topic", name), zap.Int("partitions", n))
		return n, nil
	case errors.Is(err, broker.ErrStreamExists):
		return c.s.topics.partitions(name)
	case errors.Is(err, ErrTopicMetaUnavailable), isRegionUnavailable(err):
		return -int(kerr.LeaderNotAvailable.Code), nil // retriable (a joining region, or a region without quorum)
	}
	return 0, err
}

// metadata describes the brokers (this node alone, or in a region of
// several nodes every live node: cluster.go) and the topics asked for (all
// of the fabric's when the list is null), auto-creating missing ones when
// both the node and the request allow it.
func (c *conn) metadata(req *kmsg.MetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	resp.ClusterID = kmsg.StringPtr(clusterID)
	if c.s.cluster == nil {
		host, port := c.s.advertised(c.nc.LocalAddr())
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = nodeID, host, port
		resp.Brokers = []kmsg.MetadataResponseBroker{b}
		resp.ControllerID = nodeID
	} else {
		resp.Brokers = metadataBrokers(c.s.cluster.view.Nodes())
		resp.ControllerID = -1
		if id, ok := kafkaNodeID(c.s.cluster.view.SelfID()); ok {
			resp.ControllerID = id
		}
	}
	var names []string
	counts := map[string]int{}
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		all, err := c.s.topics.all()
		if err != nil {
			c.log.Warn("listing topics", zap.Error(err))
		}
		counts = all
		names = sortedNames(all)
	} else {
		autoCreate := *c.s.node.Config().AutoCreateStreams && (req.Version < 4 || req.AllowAutoTopicCreation)
		for _, rt := range req.Topics {
			if rt.Topic == nil {
				continue
			}
			name := *rt.Topic
			names = append(names, name)
			n, err := c.s.topics.partitions(name)
			if err == nil && n == 0 && autoCreate && naming.Validate("topic", name) == nil {
				n, err = c.autoCreate(name)
			}
			if err != nil {
				counts[name] = -int(errorCode(err))
				continue
			}
			if n < 0 {
				counts[name] = n // an error code
				continue
			}
			counts[name] = n
		}
	}
	for _, name := range names {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = kmsg.StringPtr(name)
		n := counts[name]
		switch {
		case naming.Validate("topic", name) != nil:
			t.ErrorCode = kerr.InvalidTopicException.Code
		case n < 0:
			t.ErrorCode = int16(-n)
		case n == 0:
			t.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		if c.s.cluster != nil && n > 0 {
			t.Partitions = c.clusterPartitions(name, n)
			resp.Topics = append(resp.Topics, t)
			continue
		}
		for p := 0; p < n; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = int32(p)
			mp.Leader = nodeID
			mp.LeaderEpoch = 0
			mp.Replicas = []int32{nodeID}
			mp.ISR = []int32{nodeID}
			t.Partitions = append(t.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// clusterPartitions describes the n partitions of topic in a region of
// several nodes: each partition's leader, replicas and in-sync replicas
// are its stream's in the region.
func (c *conn) clusterPartitions(topic string, n int) []kmsg.MetadataResponseTopicPartition {
	v, err := c.s.topics.view(topic)
	if err != nil {
		c.log.Warn("topic metadata", zap.String("topic", topic), zap.Error(err))
	}
	names := make([]naming.Stream, n)
	for p := range names {
		names[p] = c.s.topics.streamName(v.partitionStreamName(topic, p))
	}
	placements := c.s.cluster.view.Placements(names)
	out := make([]kmsg.MetadataResponseTopicPartition, 0, n)
	for p, name := range names {
		pl, found := placements[name]
		out = append(out, partitionMetadata(int32(p), pl, found))
	}
	return out
}
