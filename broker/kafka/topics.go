package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// maxPartitions bounds a topic's partition count.
const maxPartitions = broker.MaxPartitions

// ErrUnknownTopic: the topic has no stream (and was not auto-created).
var ErrUnknownTopic = errors.New("kafka: unknown topic or partition")

// topics maps Kafka topics and partitions to streams of one tenant/fabric.
type topics struct {
	node           *broker.Node
	meta           *TopicMeta
	tenant, fabric string
}

func (t topics) streamName(name string) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: t.tenant, Fabric: t.fabric, Name: name}
}

// partitionName is the stream of partition p of a partitioned topic.
func partitionName(topic string, p int) string { return broker.PartitionStreamName(topic, p) }

// view returns how topic maps to streams (a zero view: no such topic).
func (t topics) view(topic string) (topicView, error) {
	return t.meta.resolve(t.tenant, t.fabric, topic)
}

// checkNamespace refuses creating a topic while the listener's tenant or
// fabric does not exist (broker.Node.CheckNamespace: only streams are
// created by use; a mistyped fabric creates nothing). Clients see
// UNKNOWN_TOPIC_OR_PARTITION.
func (t topics) checkNamespace() error {
	if err := t.node.CheckNamespace(t.tenant, t.fabric); err != nil {
		return fmt.Errorf("kafka: the listener's topics: %w", err)
	}
	return nil
}

// partitions returns topic's partition count, 0 if the topic does not exist.
func (t topics) partitions(topic string) (int, error) {
	v, err := t.view(topic)
	return v.Partitions, err
}

// stream returns the stream of a partition of an existing topic.
func (t topics) stream(topic string, partition int32) (*broker.Stream, error) {
	v, err := t.view(topic)
	if err != nil {
		return nil, err
	}
	if partition < 0 || int(partition) >= v.Partitions {
		return nil, fmt.Errorf("%w: %s/%d", ErrUnknownTopic, topic, partition)
	}
	name := t.streamName(v.partitionStreamName(topic, int(partition)))
	s, err := t.node.Stream(name)
	if errors.Is(err, broker.ErrStreamNotFound) {
		// A recorded topic whose stream is missing: recreate it.
		return t.meta.ensureStream(name, v.Replicas)
	}
	return s, err
}

// create makes a topic with n partitions of replicas copies in a region (0:
// the region's default; configs as given) in every region
// of the fabric; it fails with broker.ErrStreamExists if the topic exists
// here.
func (t topics) create(ctx context.Context, topic string, n, replicas int, configs map[string]string) error {
	if err := naming.Validate("topic", topic); err != nil {
		return err
	}
	if n < 1 || n > maxPartitions {
		return fmt.Errorf("%w: %d partitions, want 1..%d", broker.ErrBadRequest, n, maxPartitions)
	}
	if err := validPartitionNames(topic, n); err != nil {
		return err
	}
	if err := t.checkNamespace(); err != nil {
		return err
	}
	if have, err := t.partitions(topic); err != nil {
		return err
	} else if have > 0 {
		return fmt.Errorf("%w: topic %s", broker.ErrStreamExists, topic)
	}
	return t.meta.publish(ctx, topicEvent{Type: topicCreate, Tenant: t.tenant, Fabric: t.fabric, Topic: topic,
		Partitions: n, Configs: configs, Replicas: replicas})
}

// grow raises an existing topic's partition count to n in every region.
func (t topics) grow(ctx context.Context, topic string, n int) error {
	if n < 1 || n > maxPartitions {
		return fmt.Errorf("%w: %d partitions, want 1..%d", ErrInvalidPartitions, n, maxPartitions)
	}
	if err := validPartitionNames(topic, n); err != nil {
		return err
	}
	v, found, err := t.meta.view(t.tenant, t.fabric, topic)
	if err != nil {
		return err
	}
	if !found || !v.exists() {
		// A topic from before fabric-wide metadata (or a plain stream):
		// record it as created with what it has, which keeps its layout.
		if v, err = t.view(topic); err != nil {
			return err
		}
		if !v.exists() {
			return fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
		}
		if n <= v.Partitions {
			return fmt.Errorf("%w: topic %s has %d partitions, asked for %d", ErrInvalidPartitions, topic, v.Partitions, n)
		}
		if err := t.meta.publish(ctx, topicEvent{Type: topicCreate, Tenant: t.tenant, Fabric: t.fabric, Topic: topic,
			Partitions: v.Partitions}); err != nil {
			return err
		}
	}
	if n <= v.Partitions {
		return fmt.Errorf("%w: topic %s has %d partitions, asked for %d", ErrInvalidPartitions, topic, v.Partitions, n)
	}
	return t.meta.publish(ctx, topicEvent{Type: topicPartitions, Tenant: t.tenant, Fabric: t.fabric, Topic: topic, Partitions: n})
}

// delete removes a topic, its streams and its partition record in every
// region.
func (t topics) delete(ctx context.Context, topic string) error {
	n, err := t.partitions(topic)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	return t.meta.publish(ctx, topicEvent{Type: topicDelete, Tenant: t.tenant, Fabric: t.fabric, Topic: topic})
}

// all lists every topic of the fabric with its partition count.
func (t topics) all() (map[string]int, error) {
	views, err := t.meta.all(t.tenant, t.fabric)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(views))
	for name, v := range views {
		out[name] = v.Partitions
	}
	return out, nil
}

// splitPartition splits "T-partition-i".
func splitPartition(stream string) (topic string, i int, ok bool) {
	at := strings.LastIndex(stream, "-partition-")
	if at <= 0 {
		return "", 0, false
	}
	i, err := strconv.Atoi(stream[at+len("-partition-"):])
	if err != nil || i < 0 {
		return "", 0, false
	}
	return stream[:at], i, true
}

// sortedNames returns m's keys sorted.
func sortedNames(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
