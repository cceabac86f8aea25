package spot

import (
	"github.com/causeway/causeway/broker"
)

// Bounds of a node's feed backlog: the change events its replica applied
// that are not (known to be) in their feed stream yet.
const (
	// maxBacklogMessages and maxBacklogBytes bound the backlog; past
	// them the oldest events are dropped. In a region of several nodes
	// the nodes not leading a feed's stream hold their recent events this
	// way, so that the next leader publishes what the previous one could
	// not (a failover takes seconds: thousands of events, not 50,000).
	maxBacklogMessages = 50_000
	maxBacklogBytes    = 64 << 20
	// maxPublishMessages bounds one publish call of the catching up.
	maxPublishMessages = 1000
)

// feedBatch is the change events of one or more consecutive entries to one
// collection, in order.
type feedBatch struct {
	ref   Ref
	msgs  []broker.Message
	bytes int
}

// feedBacklog is the change events waiting for their feed streams, in
// apply order (the pure part of BrokerFeed: no I/O). Each collection's
// events are published in order; a collection whose publish fails waits
// for the next round while the others go on. The broker drops an event
// whose sequence id (from its Raft index) the stream already holds, so an
// event published by another node first costs nothing.
type feedBacklog struct {
	batches  []feedBatch
	messages int
	bytes    int
	// dropped counts the events dropped at the bounds.
	dropped int
}

// add appends a batch and drops the oldest events past the bounds; it
// returns how many it dropped.
func (b *feedBacklog) add(ref Ref, msgs []broker.Message) int {
	if len(msgs) == 0 {
		return 0
	}
	size := 0
	for _, m := range msgs {
		size += len(m.Payload) + len(m.Key)
	}
	b.batches = append(b.batches, feedBatch{ref: ref, msgs: msgs, bytes: size})
	b.messages += len(msgs)
	b.bytes += size
	if b.messages <= maxBacklogMessages && b.bytes <= maxBacklogBytes {
		return 0
	}
	// Past a bound the oldest go down to nine tenths of it, so that a
	// node adding to a full backlog does not move it at every entry; the
	// newest batch stays, whatever its size.
	drop, dropped := 0, 0
	for drop < len(b.batches)-1 && (b.messages > maxBacklogMessages*9/10 || b.bytes > maxBacklogBytes*9/10) {
		old := b.batches[drop]
		b.messages -= len(old.msgs)
		b.bytes -= old.bytes
		dropped += len(old.msgs)
		drop++
	}
	if drop > 0 {
		b.dropped += dropped
		b.batches = append(b.batches[:0:0], b.batches[drop:]...)
	}
	return dropped
}

// empty reports whether nothing waits.
func (b *feedBacklog) empty() bool { return len(b.batches) == 0 }

// flush publishes what waits, collection by collection in order: adjacent
// batches of one collection go in one call of up to maxPublishMessages.
// publish reports whether the events are in the stream (stored now or
// before); on an error the collection's remaining batches wait for the
// next flush. It returns how many calls failed.
func (b *feedBacklog) flush(publish func(Ref, []broker.Message) error) int {
	failed := 0
	blocked := map[Ref]bool{}
	kept := b.batches[:0:0]
	for i := 0; i < len(b.batches); {
		ref := b.batches[i].ref
		if blocked[ref] {
			kept = append(kept, b.batches[i])
			i++
			continue
		}
		j, n := i, 0
		for j < len(b.batches) && b.batches[j].ref == ref && (j == i || n+len(b.batches[j].msgs) <= maxPublishMessages) {
			n += len(b.batches[j].msgs)
			j++
		}
		msgs := b.batches[i].msgs
		if j > i+1 {
			msgs = make([]broker.Message, 0, n)
			for _, bt := range b.batches[i:j] {
				msgs = append(msgs, bt.msgs...)
			}
		}
		if err := publish(ref, msgs); err != nil {
			failed++
			blocked[ref] = true
			kept = append(kept, b.batches[i:j]...)
		} else {
			for _, bt := range b.batches[i:j] {
				b.messages -= len(bt.msgs)
				b.bytes -= bt.bytes
			}
		}
		i = j
	}
	b.batches = kept
	return failed
}
