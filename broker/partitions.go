package broker

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/subscription"
)

// This file holds what partitioned topics (Kafka's, and Pulsar's convention
// for them) need from the node: a durable record of a topic's partition
// count, the stream name of each partition, and subscriptions opened
// without an attached consumer (a Kafka group's committed offsets).

const prefixPartitions = "meta/partitions/"

// MaxPartitions bounds a partitioned topic's partition count.
const MaxPartitions = 1024

func partitionsKey(tenant, fabric, topic string) []byte {
	return []byte(prefixPartitions + tenant + "/" + fabric + "/" + topic)
}

type partitionsMeta struct {
	Partitions int `json:"partitions"`
}

// PartitionStreamName is the stream holding partition i of a partitioned
// topic: "{topic}-partition-{i}" (Pulsar's convention).
func PartitionStreamName(topic string, i int) string {
	return topic + "-partition-" + strconv.Itoa(i)
}

// SetTopicPartitions durably records that topic in tenant/fabric has n
// partitions (1..MaxPartitions). It creates no stream.
func (n *Node) SetTopicPartitions(tenant, fabric, topic string, count int) error {
	if err := (naming.Stream{Persistent: true, Tenant: tenant, Fabric: fabric, Name: topic}).Validate(); err != nil {
		return err
	}
	if count < 1 || count > MaxPartitions {
		return fmt.Errorf("%w: %d partitions, want 1..%d", ErrBadRequest, count, MaxPartitions)
	}
	return n.saveShared(partitionsKey(tenant, fabric, topic), partitionsMeta{Partitions: count})
}

// TopicPartitions returns the recorded partition count of topic, or
// ok=false when none is recorded.
func (n *Node) TopicPartitions(tenant, fabric, topic string) (count int, ok bool, err error) {
	b, ok, err := n.getShared(partitionsKey(tenant, fabric, topic))
	if err != nil || !ok {
		return 0, false, err
	}
	var m partitionsMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, false, fmt.Errorf("broker: partitions of %s: %w", topic, err)
	}
	return m.Partitions, true, nil
}

// DeleteTopicPartitions forgets topic's partition count (its streams are
// deleted separately). Deleting a missing record is not an error.
func (n *Node) DeleteTopicPartitions(tenant, fabric, topic string) error {
	return n.deleteShared(partitionsKey(tenant, fabric, topic))
}

// PartitionedTopics lists the topics of tenant/fabric with a recorded
// partition count.
func (n *Node) PartitionedTopics(tenant, fabric string) (map[string]int, error) {
	out := map[string]int{}
	err := n.scanShared(prefixPartitions+tenant+"/"+fabric+"/", func(topic string, val []byte) error {
		var m partitionsMeta
		if err := json.Unmarshal(val, &m); err != nil {
			return fmt.Errorf("broker: partitions of %s: %w", topic, err)
		}
		out[topic] = m.Partitions
		return nil
	})
	return out, err
}

// EnsureSubscription opens the subscription name on s, creating it
// (durably) at initial if missing, without attaching a consumer. A
// consumer attaching later keeps its cursor.
func (s *Stream) EnsureSubscription(name string, typ subscription.Type, initial subscription.Position) (*subscription.Subscription, error) {
	if err := naming.Validate("subscription", name); err != nil {
		return nil, err
	}
	return s.openSubscription(SubscribeOptions{
		Subscription: name,
		Consumer:     subscription.ConsumerSpec{Type: typ, Initial: initial},
	})
}
