package kafka

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/causeway/causeway/broker"
)

// Topic metadata in a region of several nodes. Every node of the region
// must see a topic the same way (its partition count and layout), so
// TopicMeta keeps the topics' states in the region's replicated key-value
// map instead of the node's own store: under "kafka/topics/" + the key
// TopicMeta uses ("{tenant}/{fabric}/{topic}"), the JSON of the topic's
// state. Reads are of this node's applied copy (a topic created through
// another node shows here a few milliseconds later); the read before a
// change is linearizable. Listing the topics of a fabric looks up, in this
// node's copy, the topics the region's streams name (rather than a
// linearizable scan of the region's map on every Metadata request).

// regionTopicPrefix starts the key of every topic's state.
const regionTopicPrefix = "kafka/topics/"

// topicStore is where TopicMeta keeps topic states: the node's metadata
// store (broker.MetaKV), or regionTopicStore.
type topicStore interface {
	// Get returns the value of key; found is false when there is none.
	Get(key string) (val []byte, found bool, err error)
	// Set stores val under key.
	Set(key string, val []byte) error
	// Scan calls fn for every key starting with prefix, in key order.
	Scan(prefix string, fn func(key string, val []byte) error) error
}

// regionTopicStore keeps topic states in the region's map.
type regionTopicStore struct {
	kv   broker.RegionKV
	node *broker.Node
}

func (r regionTopicStore) Get(key string) ([]byte, bool, error) {
	v, found, err := r.kv.KVGet(regionTopicPrefix + key)
	if err != nil || !found {
		return nil, false, err
	}
	return []byte(v), true, nil
}

// latest is Get after a linearizable read: every change committed before
// the call is in it.
func (r regionTopicStore) latest(key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	v, found, err := r.kv.KVRead(ctx, regionTopicPrefix+key)
	if err != nil || !found {
		return nil, false, err
	}
	return []byte(v), true, nil
}

func (r regionTopicStore) Set(key string, val []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := r.kv.KVPut(ctx, regionTopicPrefix+key, string(val)); err != nil {
		return fmt.Errorf("kafka: save topic %s in the region: %w", key, err)
	}
	return nil
}

// Scan serves the one prefix TopicMeta scans, "{tenant}/{fabric}/": the
// states of the topics that the region's streams of that fabric name.
func (r regionTopicStore) Scan(prefix string, fn func(key string, val []byte) error) error {
	tenant, fabric, ok := strings.Cut(strings.TrimSuffix(prefix, "/"), "/")
	if !ok || strings.Contains(fabric, "/") {
		return fmt.Errorf("kafka: topic states are listed per fabric, not by %q", prefix)
	}
	var names []string
	for _, s := range r.node.Streams(tenant, fabric) {
		if s.Name().Persistent {
			names = append(names, s.Name().Name)
		}
	}
	for _, topic := range candidateTopics(names) {
		v, found, err := r.Get(prefix + topic)
		if err != nil {
			return err
		}
		if found {
			if err := fn(prefix+topic, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// candidateTopics returns the topics stream names may belong to: each
// name, and the topic T of a partition stream "T-partition-i"; sorted,
// without duplicates.
func candidateTopics(streams []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, name := range streams {
		add(name)
		if topic, _, ok := splitPartition(name); ok {
			add(topic)
		}
	}
	sort.Strings(out)
	return out
}
