package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator"
)

// Fabric-wide topic metadata. A topic's partition count, layout and
// configs are kept as the merge (topicmerge.go) of its events (creations,
// partition increases, deletions). In a multi-region node every event is
// published through the node's replication and applied in every region,
// this one included, in causal order (ApplyReplicated); a single-region
// node applies its events at once. Applying an event also makes the
// topic's partition streams exist (or, for a deletion, removes them) in the
// applying region. In a region of several nodes the states are the
// region's, in its replicated key-value map (regiontopics.go), so every
// node of the region sees the same topics.

// ErrTopicMetaUnavailable: a topic change could not be replicated (the
// replication is closed, failed or joining). Retriable.
var ErrTopicMetaUnavailable = errors.New("kafka: topic metadata replication unavailable")

// TopicReplication is what TopicMeta needs from the node's replication
// (server/kafkarepl adapts replicator/shell.Shell to it).
type TopicReplication interface {
	// Region is this region's name.
	Region() string
	// PublishTopicEvent journals payload as a topic event, applies it in
	// this region through ApplyReplicated, ships it to every region and
	// calls done (once) with the local apply's error, or with the reason it
	// could not be published (ErrTopicMetaUnavailable).
	PublishTopicEvent(payload []byte, done func(error))
}

// topicMetaNamespace is TopicMeta's namespace in the node's metadata store.
const topicMetaNamespace = "kafka-topics"

// publishTimeout bounds the wait for a topic event's local apply.
const publishTimeout = 10 * time.Second

type topicReplBox struct{ r TopicReplication }

// TopicMeta holds the node's Kafka topic metadata. Create it with
// NewTopicMeta before the replication starts (register ApplyReplicated with
// it), attach the replication once it runs, and give it to the Kafka
// server (Server.SetTopicMeta).
type TopicMeta struct {
	node *broker.Node
	kv   topicStore
	// region is the region's map in a region of several nodes (kv is then
	// a regionTopicStore over it), nil otherwise.
	region broker.RegionKV
	log    *zap.Logger
	repl   atomic.Pointer[topicReplBox]

	mu sync.Mutex // serialises read-merge-write of states and stream changes

	clockMu sync.Mutex
	clock   replicator.Clock
	now     func() time.Time
}

// NewTopicMeta returns the topic metadata of node: kept in the node's own
// store, or in the region's replicated map when the node is one of a
// region of several nodes (its Cluster offers broker.RegionKV).
func NewTopicMeta(node *broker.Node, logger *zap.Logger) *TopicMeta {
	if logger == nil {
		logger = zap.NewNop()
	}
	m := &TopicMeta{node: node, kv: node.MetaKV(topicMetaNamespace), log: logger.Named("kafka-topics"), now: time.Now}
	if cl := clusterOf(node); cl != nil {
		m.region = cl.kv
		m.kv = regionTopicStore{kv: cl.kv, node: node}
	}
	return m
}

// AttachReplication makes the topics fabric-wide. Register ApplyReplicated
// with the replication before it starts, then attach it. A nil r is a
// no-op; attach once.
func (m *TopicMeta) AttachReplication(r TopicReplication) {
	if r != nil {
		m.repl.CompareAndSwap(nil, &topicReplBox{r: r})
	}
}

func (m *TopicMeta) replication() TopicReplication {
	if b := m.repl.Load(); b != nil {
		return b.r
	}
	return nil
}

// replicated reports whether topic events replicate.
func (m *TopicMeta) replicated() bool { return m.replication() != nil }

func topicKey(tenant, fabric, topic string) string { return tenant + "/" + fabric + "/" + topic }

// state reads a topic's state; found is false when none is stored.
func (m *TopicMeta) state(tenant, fabric, topic string) (topicState, bool, error) {
	b, found, err := m.kv.Get(topicKey(tenant, fabric, topic))
	return decodeTopicState(topic, b, found, err)
}

// latestState is state as of a linearizable read in a region of several
// nodes (a change is merged into the latest state, whichever node made
// the ones before), state otherwise.
func (m *TopicMeta) latestState(tenant, fabric, topic string) (topicState, bool, error) {
	if r, ok := m.kv.(regionTopicStore); ok {
		b, found, err := r.latest(topicKey(tenant, fabric, topic))
		return decodeTopicState(topic, b, found, err)
	}
	return m.state(tenant, fabric, topic)
}

// decodeTopicState decodes what a read of topic's state returned.
func decodeTopicState(topic string, b []byte, found bool, err error) (topicState, bool, error) {
	if err != nil || !found {
		return topicState{}, false, err
	}
	var st topicState
	if err := json.Unmarshal(b, &st); err != nil {
		return topicState{}, false, fmt.Errorf("kafka: topic state of %s: %w", topic, err)
	}
	return st, true, nil
}

// view returns a topic's view and whether any event of it was recorded.
func (m *TopicMeta) view(tenant, fabric, topic string) (topicView, bool, error) {
	st, found, err := m.state(tenant, fabric, topic)
	return st.view(), found, err
}

// views returns the views of every topic of tenant/fabric with a recorded
// state, deleted ones included (as zero views).
func (m *TopicMeta) views(tenant, fabric string) (map[string]topicView, error) {
	out := map[string]topicView{}
	prefix := tenant + "/" + fabric + "/"
	err := m.kv.Scan(prefix, func(key string, val []byte) error {
		topic := strings.TrimPrefix(key, prefix)
		var st topicState
		if err := json.Unmarshal(val, &st); err != nil {
			return fmt.Errorf("kafka: topic state of %s: %w", topic, err)
		}
		out[topic] = st.view()
		return nil
	})
	return out, err
}

// resolve returns how topic maps to streams: its recorded view; else, for
// a topic from before fabric-wide metadata, the node's partition record
// (T-partition-i streams); else a persistent stream named T as a topic of
// one partition; else the zero view (no such topic).
func (m *TopicMeta) resolve(tenant, fabric, topic string) (topicView, error) {
	v, _, err := m.view(tenant, fabric, topic)
	if err != nil || v.exists() {
		return v, err
	}
	return m.unrecorded(tenant, fabric, topic)
}

// unrecorded is resolve for a topic without a recorded view.
func (m *TopicMeta) unrecorded(tenant, fabric, topic string) (topicView, error) {
	n, ok, err := m.node.TopicPartitions(tenant, fabric, topic)
	if err != nil {
		return topicView{}, err
	}
	if ok {
		return topicView{Partitions: n}, nil
	}
	if _, err := m.node.Stream(m.streamName(tenant, fabric, topic)); err == nil {
		return topicView{Partitions: 1, Plain: true}, nil
	}
	return topicView{}, nil
}

// all lists every topic of tenant/fabric: recorded topics, topics from
// before fabric-wide metadata, and every other persistent stream that is
// no partition of a listed or deleted topic as a topic of one partition.
func (m *TopicMeta) all(tenant, fabric string) (map[string]topicView, error) {
	recorded, err := m.views(tenant, fabric)
	if err != nil {
		return nil, err
	}
	legacy, err := m.node.PartitionedTopics(tenant, fabric)
	if err != nil {
		return nil, err
	}
	out := map[string]topicView{}
	for name, n := range legacy {
		if _, ok := recorded[name]; !ok {
			out[name] = topicView{Partitions: n}
		}
	}
	for name, v := range recorded {
		if v.exists() {
			out[name] = v
		}
	}
	for _, s := range m.node.Streams(tenant, fabric) {
		name := s.Name()
		if !name.Persistent {
			continue
		}
		if base, _, ok := splitPartition(name.Name); ok {
			_, listed := out[base]
			_, recorded := recorded[base] // a deleted topic's partitions that messages arriving late brought back
			if listed || recorded {
				continue
			}
		}
		if _, known := out[name.Name]; !known {
			out[name.Name] = topicView{Partitions: 1, Plain: true}
		}
	}
	return out, nil
}

// ApplyReplicated applies one topic event (a payload of the replication's
// topic kind) from region origin, local events included. It is
// idempotent, so the replication may apply an event again after a restart.
// An event that does not decode, that does not fit the format or that
// names another region than its origin is refused with an error and
// changes nothing.
func (m *TopicMeta) ApplyReplicated(origin string, seq uint64, payload []byte) error {
	ev, err := decodeTopicEvent(payload)
	if err == nil && ev.Stamp.Region != origin {
		err = fmt.Errorf("%w: event of region %q shipped by %q", ErrBadTopicEvent, ev.Stamp.Region, origin)
	}
	if err != nil {
		return fmt.Errorf("kafka: topic event %s/%d: %w", origin, seq, err)
	}
	m.observe(ev.Stamp)
	return m.apply(ev)
}

// apply merges ev into its topic's state and brings the topic's streams in
// line with the new view.
func (m *TopicMeta) apply(ev topicEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, _, err := m.latestState(ev.Tenant, ev.Fabric, ev.Topic)
	if err != nil {
		return err
	}
	before := st.view()
	if !before.exists() {
		if before, err = m.unrecorded(ev.Tenant, ev.Fabric, ev.Topic); err != nil {
			return err
		}
	}
	st = mergeTopic(st, ev)
	after := st.view()
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("kafka: encode topic state of %s: %w", ev.Topic, err)
	}
	if err := m.kv.Set(topicKey(ev.Tenant, ev.Fabric, ev.Topic), b); err != nil {
		return fmt.Errorf("kafka: save topic state of %s: %w", ev.Topic, err)
	}
	if ev.Type == topicDelete && before.exists() && !after.exists() {
		m.deleteStreams(ev.Tenant, ev.Fabric, ev.Topic, before)
		return m.node.DeleteTopicPartitions(ev.Tenant, ev.Fabric, ev.Topic) // a record of before this format
	}
	if after.Partitions != before.Partitions || after.Plain != before.Plain {
		m.log.Info("topic changed", zap.String("topic", ev.Topic), zap.String("event", ev.Type),
			zap.Stringer("stamp", ev.Stamp), zap.Int("partitions", after.Partitions), zap.Bool("plain", after.Plain))
	}
	for p := range after.Partitions {
		if _, err := m.ensureStream(m.streamName(ev.Tenant, ev.Fabric, after.partitionStreamName(ev.Topic, p)), after.Replicas); err != nil {
			return fmt.Errorf("kafka: partition %d of topic %s: %w", p, ev.Topic, err)
		}
	}
	return nil
}

func (m *TopicMeta) streamName(tenant, fabric, name string) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: tenant, Fabric: fabric, Name: name}
}

// ensureStream returns a partition's stream, creating it (global in a
// fabric of several regions) whatever the auto-creation setting: the topic
// exists (created here, after topics.create checked its fabric, or in
// another region of the fabric, whose fabric is then recorded here with
// it: broker.Node.CreateArrivedStream). replicas is the topic's replication factor (0: the region's
// default), fitted to this region (regionReplicas).
func (m *TopicMeta) ensureStream(name naming.Stream, replicas int) (*broker.Stream, error) {
	if s, err := m.node.Stream(name); err == nil {
		return s, nil
	}
	info := broker.StreamInfo{Global: m.node.Config().Replicated(), Replicas: regionReplicas(replicas, regionSize(m.node))}
	s, err := m.node.CreateArrivedStream(name, info)
	if errors.Is(err, broker.ErrStreamExists) {
		return m.node.Stream(name)
	}
	return s, err
}

// deleteStreams removes a deleted topic's partition streams here.
func (m *TopicMeta) deleteStreams(tenant, fabric, topic string, v topicView) {
	for p := range v.Partitions {
		name := m.streamName(tenant, fabric, v.partitionStreamName(topic, p))
		if err := m.node.DeleteStream(name, true); err != nil && !errors.Is(err, broker.ErrStreamNotFound) {
			m.log.Warn("deleting a partition of a deleted topic", zap.String("stream", name.String()), zap.Error(err))
		}
		if m.region != nil {
			// The groups' committed offsets on it (regionoffsets.go).
			ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
			err := m.region.KVDeletePrefix(ctx, offsetStreamPrefix(tenant, fabric, name.Name))
			cancel()
			if err != nil {
				m.log.Warn("deleting the committed offsets of a deleted topic", zap.String("stream", name.String()), zap.Error(err))
			}
		}
	}
}

// stamp is a stamp for a new event of region: higher than that of every
// event applied here so far.
func (m *TopicMeta) stamp(region string) topicStamp {
	m.clockMu.Lock()
	defer m.clockMu.Unlock()
	t := m.clock.Now(m.now().UnixNano())
	return topicStamp{Wall: t.WallNanos, Logical: t.Logical, Region: region}
}

// observe moves the clock past an applied event's stamp.
func (m *TopicMeta) observe(s topicStamp) {
	m.clockMu.Lock()
	defer m.clockMu.Unlock()
	_, _ = m.clock.Observe(replicator.Timestamp{WallNanos: s.Wall, Logical: s.Logical}, m.now().UnixNano()) // no offset bound: never fails
}

// publish makes an event of type typ for topic: through the replication
// (it returns once the event is applied here), or applied at once in a
// single-region node.
func (m *TopicMeta) publish(ctx context.Context, ev topicEvent) error {
	r := m.replication()
	region := m.node.Config().Region
	if r != nil {
		region = r.Region()
	}
	ev.Stamp = m.stamp(region)
	if r == nil {
		if err := ev.validate(); err != nil {
			return err
		}
		if m.region != nil && ev.Type == topicCreate {
			// Another node of the region may have created it since this
			// one looked.
			if st, _, err := m.latestState(ev.Tenant, ev.Fabric, ev.Topic); err != nil {
				return err
			} else if st.view().exists() {
				return fmt.Errorf("%w: topic %s", broker.ErrStreamExists, ev.Topic)
			}
		}
		return m.apply(ev)
	}
	payload, err := appendTopicEvent(nil, ev)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	r.PublishTopicEvent(payload, func(err error) { done <- err })
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %s of topic %s published, not yet applied here: %w", ErrTopicMetaUnavailable, ev.Type, ev.Topic, ctx.Err())
	}
}
