package kafka

import (
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
	tenant, fabric string
}

func (t topics) streamName(name string) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: t.tenant, Fabric: t.fabric, Name: name}
}

// partitionStream names the stream of partition p of topic with n partitions.
func (t topics) partitionStream(topic string, n, p int) naming.Stream {
	if n == 1 {
		return t.streamName(topic)
	}
	return t.streamName(broker.PartitionStreamName(topic, p))
}

// partitions returns topic's partition count, 0 if the topic does not exist.
func (t topics) partitions(topic string) (int, error) {
	n, ok, err := t.node.TopicPartitions(t.tenant, t.fabric, topic)
	if err != nil || ok {
		return n, err
	}
	if _, err := t.node.Stream(t.streamName(topic)); err == nil {
		return 1, nil
	}
	return 0, nil
}

// stream returns the stream of a partition of an existing topic.
func (t topics) stream(topic string, partition int32) (*broker.Stream, error) {
	n, err := t.partitions(topic)
	if err != nil {
		return nil, err
	}
	if partition < 0 || int(partition) >= n {
		return nil, fmt.Errorf("%w: %s/%d", ErrUnknownTopic, topic, partition)
	}
	s, err := t.node.Stream(t.partitionStream(topic, n, int(partition)))
	if errors.Is(err, broker.ErrStreamNotFound) {
		// A recorded partitioned topic whose stream is missing: recreate it.
		return t.node.StreamForUse(t.partitionStream(topic, n, int(partition)), nil)
	}
	return s, err
}

// create makes a topic with n partitions; it fails with
// broker.ErrStreamExists if the topic exists.
func (t topics) create(topic string, n int) error {
	if err := naming.Validate("topic", topic); err != nil {
		return err
	}
	if n < 1 || n > maxPartitions {
		return fmt.Errorf("%w: %d partitions, want 1..%d", broker.ErrBadRequest, n, maxPartitions)
	}
	if have, err := t.partitions(topic); err != nil {
		return err
	} else if have > 0 {
		return fmt.Errorf("%w: topic %s", broker.ErrStreamExists, topic)
	}
	if n > 1 {
		if err := t.node.SetTopicPartitions(t.tenant, t.fabric, topic, n); err != nil {
			return err
		}
	}
	for p := range n {
		if _, err := t.node.StreamForUse(t.partitionStream(topic, n, p), nil); err != nil {
			return err
		}
	}
	return nil
}

// delete removes a topic's streams and partition record.
func (t topics) delete(topic string) error {
	n, err := t.partitions(topic)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	var errs []error
	for p := range n {
		if err := t.node.DeleteStream(t.partitionStream(topic, n, p), true); err != nil && !errors.Is(err, broker.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	if n > 1 {
		errs = append(errs, t.node.DeleteTopicPartitions(t.tenant, t.fabric, topic))
	}
	return errors.Join(errs...)
}

// all lists every topic of the fabric with its partition count: recorded
// partitioned topics, and every other persistent stream as one partition.
func (t topics) all() (map[string]int, error) {
	out, err := t.node.PartitionedTopics(t.tenant, t.fabric)
	if err != nil {
		return nil, err
	}
	for _, s := range t.node.Streams(t.tenant, t.fabric) {
		name := s.Name()
		if !name.Persistent {
			continue
		}
		if base, _, ok := splitPartition(name.Name); ok {
			if _, partitioned := out[base]; partitioned {
				continue
			}
		}
		if _, partitioned := out[name.Name]; !partitioned {
			out[name.Name] = 1
		}
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
