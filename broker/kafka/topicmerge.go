package kafka

import (
	"maps"
	"slices"
)

// This file is the pure merge of a topic's metadata events. Every region
// applies the same events, in whatever order they arrive, and reaches the
// same state (the merge is commutative, associative and idempotent):
//
//   - a delete with stamp D forgets every create and partition increase
//     stamped below D; the topic exists while a create stamped above the
//     highest delete remains;
//   - the partition count is the highest of the remaining creates and
//     partition increases (two regions creating a topic concurrently get
//     the larger count, and partition p is the same stream everywhere);
//   - the layout (whether partition 0 is the plain stream T, as for a topic
//     created with one partition, or T-partition-0) is the earliest
//     remaining create's: the first creation usually holds the data;
//   - the configs and the replication factor are the latest remaining
//     create's (last writer wins by (HLC, region)).

// topicCreateEntry is one create remembered by a topic's state.
type topicCreateEntry struct {
	Stamp      topicStamp        `json:"stamp"`
	Partitions int               `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
	Replicas   int               `json:"replicas,omitempty"`
}

// topicGrowEntry is one partition increase remembered by a topic's state.
type topicGrowEntry struct {
	Stamp      topicStamp `json:"stamp"`
	Partitions int        `json:"partitions"`
}

// topicState is what a region keeps of a topic's events. Creates are kept
// sorted by stamp; grows keep only increases no later one dominates
// (sorted by stamp, counts strictly decreasing): a dominated increase can
// never decide the count, whatever delete comes later.
type topicState struct {
	Deleted topicStamp         `json:"deleted,omitzero"`
	Creates []topicCreateEntry `json:"creates,omitempty"`
	Grows   []topicGrowEntry   `json:"grows,omitempty"`
}

// topicView is a topic as clients see it.
type topicView struct {
	// Partitions is the partition count, 0 when the topic does not exist.
	Partitions int
	// Plain: partition 0 is the stream named after the topic (the topic was
	// created with one partition); otherwise it is T-partition-0.
	Plain   bool
	Configs map[string]string
	// Replicas is the copies of each partition inside a region (Kafka's
	// replication factor; 0: the region's default).
	Replicas int
}

// exists reports whether the view is of an existing topic.
func (v topicView) exists() bool { return v.Partitions > 0 }

// mergeTopic returns st with ev applied (st itself is not changed).
func mergeTopic(st topicState, ev topicEvent) topicState {
	out := topicState{Deleted: st.Deleted, Creates: slices.Clone(st.Creates), Grows: slices.Clone(st.Grows)}
	switch ev.Type {
	case topicDelete:
		if ev.Stamp.compare(out.Deleted) <= 0 {
			return out
		}
		out.Deleted = ev.Stamp
		out.Creates = slices.DeleteFunc(out.Creates, func(c topicCreateEntry) bool { return c.Stamp.compare(ev.Stamp) < 0 })
		out.Grows = slices.DeleteFunc(out.Grows, func(g topicGrowEntry) bool { return g.Stamp.compare(ev.Stamp) < 0 })
	case topicCreate:
		if ev.Stamp.compare(out.Deleted) < 0 {
			return out
		}
		i, found := slices.BinarySearchFunc(out.Creates, ev.Stamp, func(c topicCreateEntry, s topicStamp) int { return c.Stamp.compare(s) })
		if !found {
			out.Creates = slices.Insert(out.Creates, i, topicCreateEntry{Stamp: ev.Stamp, Partitions: ev.Partitions, Configs: maps.Clone(ev.Configs), Replicas: ev.Replicas})
		}
	case topicPartitions:
		if ev.Stamp.compare(out.Deleted) < 0 {
			return out
		}
		out.Grows = addGrow(out.Grows, topicGrowEntry{Stamp: ev.Stamp, Partitions: ev.Partitions})
	}
	return out
}

// addGrow adds g to a frontier of increases (sorted by stamp, counts
// strictly decreasing) and drops what it dominates.
func addGrow(gs []topicGrowEntry, g topicGrowEntry) []topicGrowEntry {
	i, found := slices.BinarySearchFunc(gs, g.Stamp, func(e topicGrowEntry, s topicStamp) int { return e.Stamp.compare(s) })
	if found {
		return gs
	}
	// A later increase at least as large dominates g.
	for _, later := range gs[i:] {
		if later.Partitions >= g.Partitions {
			return gs
		}
	}
	// g dominates the earlier increases it is at least as large as.
	keep := gs[:0:0]
	for _, earlier := range gs[:i] {
		if earlier.Partitions > g.Partitions {
			keep = append(keep, earlier)
		}
	}
	keep = append(keep, g)
	return append(keep, gs[i:]...)
}

// view is the topic st describes.
func (st topicState) view() topicView {
	if len(st.Creates) == 0 {
		return topicView{}
	}
	last := st.Creates[len(st.Creates)-1]
	v := topicView{Plain: st.Creates[0].Partitions == 1, Configs: last.Configs, Replicas: last.Replicas}
	for _, c := range st.Creates {
		v.Partitions = max(v.Partitions, c.Partitions)
	}
	for _, g := range st.Grows {
		v.Partitions = max(v.Partitions, g.Partitions)
	}
	return v
}

// partitionStreamName names the stream of partition p of topic in a view's
// layout.
func (v topicView) partitionStreamName(topic string, p int) string {
	if v.Plain && p == 0 {
		return topic
	}
	return partitionName(topic, p)
}
