package kafka

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/causeway/causeway/broker/naming"
)

// This file is the format of a topic metadata event: what a topic
// creation, a partition increase or a topic deletion replicates to every
// region of the fabric (topicmeta.go applies them, topicmerge.go merges
// them). It is pure: no I/O, no clock.

// ErrBadTopicEvent: a topic event that does not decode or does not fit the
// format. It changes nothing.
var ErrBadTopicEvent = errors.New("kafka: bad topic event")

// Topic event types.
const (
	topicCreate     = "create"
	topicPartitions = "partitions"
	topicDelete     = "delete"
)

// Bounds of a topic event.
const (
	// topicEventVersion is the first byte of an encoded event.
	topicEventVersion = 1
	// maxTopicEventBytes bounds an encoded event.
	maxTopicEventBytes = 256 << 10
	// maxReplicationFactor bounds a topic's copies in a region (the
	// region's bound on a unit's replicas).
	maxReplicationFactor = 7
	// maxTopicConfigs bounds the configs of one topic.
	maxTopicConfigs = 64
	// maxTopicConfigBytes bounds one config name or value.
	maxTopicConfigBytes = 4096
)

// topicStamp orders topic events: a hybrid logical time, then the region
// that made the event (unique per event: a region's clock never repeats).
type topicStamp struct {
	Wall    int64  `json:"wall"`
	Logical uint32 `json:"logical,omitempty"`
	Region  string `json:"region"`
}

// compare orders stamps by wall, logical, then region.
func (s topicStamp) compare(t topicStamp) int {
	if c := cmp.Compare(s.Wall, t.Wall); c != 0 {
		return c
	}
	if c := cmp.Compare(s.Logical, t.Logical); c != 0 {
		return c
	}
	return cmp.Compare(s.Region, t.Region)
}

func (s topicStamp) isZero() bool { return s == topicStamp{} }

func (s topicStamp) String() string { return fmt.Sprintf("%d.%d@%s", s.Wall, s.Logical, s.Region) }

// topicEvent is one change of a topic's metadata.
type topicEvent struct {
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	Topic  string `json:"topic"`
	// Partitions is the count a create makes or a partitions event raises
	// the topic to (unset for a delete).
	Partitions int `json:"partitions,omitempty"`
	// Configs are a create's topic configs.
	Configs map[string]string `json:"configs,omitempty"`
	// Replicas is a create's replication factor: the copies of each
	// partition inside a region (0: the region's default).
	Replicas int        `json:"replicas,omitempty"`
	Stamp    topicStamp `json:"stamp"`
}

// appendTopicEvent appends ev's encoding (version byte, then JSON) to dst.
func appendTopicEvent(dst []byte, ev topicEvent) ([]byte, error) {
	if err := ev.validate(); err != nil {
		return dst, err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return dst, fmt.Errorf("%w: %w", ErrBadTopicEvent, err)
	}
	return append(append(dst, topicEventVersion), b...), nil
}

// decodeTopicEvent decodes and validates an encoded event.
func decodeTopicEvent(b []byte) (topicEvent, error) {
	var ev topicEvent
	switch {
	case len(b) == 0:
		return ev, fmt.Errorf("%w: empty", ErrBadTopicEvent)
	case len(b) > maxTopicEventBytes:
		return ev, fmt.Errorf("%w: %d bytes, max %d", ErrBadTopicEvent, len(b), maxTopicEventBytes)
	case b[0] != topicEventVersion:
		return ev, fmt.Errorf("%w: version %d", ErrBadTopicEvent, b[0])
	}
	if err := json.Unmarshal(b[1:], &ev); err != nil {
		return topicEvent{}, fmt.Errorf("%w: %w", ErrBadTopicEvent, err)
	}
	if err := ev.validate(); err != nil {
		return topicEvent{}, err
	}
	if len(ev.Configs) == 0 {
		ev.Configs = nil // "configs":{} and no configs are one event (the encoding omits it)
	}
	return ev, nil
}

// validate checks an event against the format.
func (ev topicEvent) validate() error {
	for _, f := range [][2]string{{"tenant", ev.Tenant}, {"fabric", ev.Fabric}, {"topic", ev.Topic}, {"region", ev.Stamp.Region}} {
		if err := naming.Validate(f[0], f[1]); err != nil {
			return fmt.Errorf("%w: %w", ErrBadTopicEvent, err)
		}
	}
	if ev.Stamp.Wall <= 0 {
		return fmt.Errorf("%w: topic %s: stamp %s", ErrBadTopicEvent, ev.Topic, ev.Stamp)
	}
	switch ev.Type {
	case topicCreate, topicPartitions:
		if ev.Partitions < 1 || ev.Partitions > maxPartitions {
			return fmt.Errorf("%w: topic %s: %d partitions, want 1..%d", ErrBadTopicEvent, ev.Topic, ev.Partitions, maxPartitions)
		}
		if err := validPartitionNames(ev.Topic, ev.Partitions); err != nil {
			return fmt.Errorf("%w: %w", ErrBadTopicEvent, err)
		}
	case topicDelete:
		if ev.Partitions != 0 {
			return fmt.Errorf("%w: topic %s: a delete with partitions", ErrBadTopicEvent, ev.Topic)
		}
	default:
		return fmt.Errorf("%w: type %q", ErrBadTopicEvent, ev.Type)
	}
	if ev.Replicas < 0 || ev.Replicas > maxReplicationFactor || (ev.Type != topicCreate && ev.Replicas != 0) {
		return fmt.Errorf("%w: topic %s: replication factor %d on a %s event (a create's is 0..%d)", ErrBadTopicEvent, ev.Topic, ev.Replicas, ev.Type, maxReplicationFactor)
	}
	if ev.Type != topicCreate && len(ev.Configs) > 0 {
		return fmt.Errorf("%w: topic %s: configs on a %s event", ErrBadTopicEvent, ev.Topic, ev.Type)
	}
	if len(ev.Configs) > maxTopicConfigs {
		return fmt.Errorf("%w: topic %s: %d configs, max %d", ErrBadTopicEvent, ev.Topic, len(ev.Configs), maxTopicConfigs)
	}
	for k, v := range ev.Configs {
		if k == "" || len(k) > maxTopicConfigBytes || len(v) > maxTopicConfigBytes {
			return fmt.Errorf("%w: topic %s: config %.64q", ErrBadTopicEvent, ev.Topic, k)
		}
	}
	return nil
}

// validPartitionNames checks that the streams of n partitions of topic have
// valid names (a long topic name leaves no room for "-partition-N").
func validPartitionNames(topic string, n int) error {
	if n < 2 {
		return nil
	}
	return naming.Validate("topic", partitionName(topic, n-1))
}
