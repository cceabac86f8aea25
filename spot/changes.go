package spot

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
)

// changesProducer publishes SPOT change events; its sequence ids come from
// Raft indexes, so an entry applied again (a restart replays the log tail)
// is dropped by the broker as a duplicate.
const changesProducer = "_spot"

// maxQueuedChangeBatches bounds the batches waiting for the publisher;
// past it the state machine waits (the feed pushes back on apply).
const maxQueuedChangeBatches = 256

// seqPerEntry leaves room for every change of one entry below the next
// entry's sequence ids (a transaction touches at most MaxTxnOps documents).
const seqPerEntry = 1 << 12

// Retry pacing of events a node could not publish.
const (
	minFeedRetry = 50 * time.Millisecond
	maxFeedRetry = time.Second
)

// BrokerFeed publishes change events to each collection's change-feed
// stream on a broker node (the collections naming: "_changes.{name}",
// global in a multi-region fabric so every region can read it), one
// message per changed document in the format of the collections change
// feed. Events are at least once per node and deduplicated by the broker
// (their sequence ids come from Raft indexes).
//
// An event that cannot be published now stays in the node's backlog
// (feedbacklog.go) and is tried again, in order, until it is published or
// the backlog's bounds drop it. In a region of several nodes every member
// applies every entry but only the node leading the feed's stream (in a
// geo-replicated region: the node running the region's replication) can
// publish; the others keep their recent events, so the next leader
// publishes what the previous one had not when it failed. The replica
// hands its last entries' events over again when it restarts or restores
// a snapshot (feedoutbox.go), so a node that leads the stream again after
// a restart publishes what it had applied but not published first.
type BrokerFeed struct {
	node  *broker.Node
	log   *zap.Logger
	queue chan []Change
	stop  chan struct{}
	done  chan struct{}

	// publisher goroutine only
	producers map[Ref]*broker.Producer
	backlog   feedBacklog

	dropped atomic.Int64
}

// NewBrokerFeed starts a feed publishing on node; Close stops it.
func NewBrokerFeed(node *broker.Node, log *zap.Logger) *BrokerFeed {
	if log == nil {
		log = zap.NewNop()
	}
	f := &BrokerFeed{
		node: node, log: log.Named("spot-feed"),
		queue: make(chan []Change, maxQueuedChangeBatches),
		stop:  make(chan struct{}), done: make(chan struct{}),
		producers: map[Ref]*broker.Producer{},
	}
	go f.run()
	return f
}

// Publish implements ChangeFeed.
func (f *BrokerFeed) Publish(changes []Change) {
	select {
	case f.queue <- changes:
	case <-f.stop:
	}
}

// Dropped is how many events this node dropped from its backlog unpublished
// (normal on a node that does not lead the feeds' streams: their leader
// publishes them).
func (f *BrokerFeed) Dropped() int64 { return f.dropped.Load() }

// Close publishes what is queued (a last try for the backlog) and stops.
// Call it after the SPOT service closed and before the node does.
func (f *BrokerFeed) Close() {
	select {
	case <-f.stop:
		return
	default:
	}
	close(f.stop)
	<-f.done
	for _, p := range f.producers {
		p.Close()
	}
}

func (f *BrokerFeed) run() {
	defer close(f.done)
	var retry <-chan time.Time // set while waiting to try the backlog again
	wait := time.Duration(0)
	for {
		select {
		case changes := <-f.queue:
			f.enqueue(changes)
		case <-retry:
			retry = nil
		case <-f.stop:
			f.drainQueue()
			f.backlog.flush(f.publishTo)
			return
		}
		f.drainQueue()
		if retry != nil || f.backlog.empty() {
			continue // events wait for the retry
		}
		if failed := f.backlog.flush(f.publishTo); failed == 0 {
			wait = 0
			continue
		}
		wait = min(max(2*wait, minFeedRetry), maxFeedRetry)
		retry = time.After(wait)
	}
}

// drainQueue moves what is queued to the backlog.
func (f *BrokerFeed) drainQueue() {
	for {
		select {
		case changes := <-f.queue:
			f.enqueue(changes)
		default:
			return
		}
	}
}

// enqueue adds one batch to the backlog, collection by collection, in
// order. The n-th change of entry i to a collection has sequence id
// i*seqPerEntry + n.
func (f *BrokerFeed) enqueue(changes []Change) {
	type position struct {
		index uint64
		n     int64
	}
	seen := map[Ref]position{}
	byCol := map[Ref][]broker.Message{}
	var order []Ref
	for _, c := range changes {
		pos := seen[c.Collection]
		if pos.index != c.Index {
			pos = position{index: c.Index}
		}
		if _, ok := byCol[c.Collection]; !ok {
			order = append(order, c.Collection)
		}
		byCol[c.Collection] = append(byCol[c.Collection], ChangeMessage(c, int64(c.Index*seqPerEntry)+pos.n))
		pos.n++
		seen[c.Collection] = pos
	}
	for _, ref := range order {
		if n := f.backlog.add(ref, byCol[ref]); n > 0 {
			f.dropped.Add(int64(n))
			f.log.Debug("change events dropped unpublished from this node's backlog (the node leading their feed publishes its own)",
				zap.Int("events", n), zap.Int("droppedSoFar", f.backlog.dropped))
		}
	}
}

// publishTo publishes msgs to ref's feed: nil once they are in the stream
// (stored now, or before: duplicates), or the reason they are not. Events
// too large for a message are dropped (logged): they never fit.
func (f *BrokerFeed) publishTo(ref Ref, msgs []broker.Message) error {
	p, err := f.producer(ref)
	if err == nil {
		for _, r := range p.Publish(msgs) {
			if r.Err == nil {
				continue
			}
			if errors.Is(r.Err, broker.ErrMessageTooLarge) {
				f.log.Warn("change event too large for its feed: dropped", zap.Stringer("collection", ref), zap.Error(r.Err))
				continue
			}
			// Attach again next time: the stream may be gone, or (in a
			// region of several nodes) its leader moved, fencing p; a
			// producer whose publish failed has counted its sequence ids
			// as used.
			p.Close()
			delete(f.producers, ref)
			err = r.Err
			break
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, broker.ErrNotOwner):
		// A region of several nodes: the node leading the feed's stream
		// (in a geo-replicated one, the node running the region's
		// replication) publishes; this node keeps the events for when it
		// does.
		f.log.Debug("change feed led by another node", zap.Stringer("collection", ref), zap.Error(err))
	default:
		f.log.Warn("change feed publish failed; retrying", zap.Stringer("collection", ref), zap.Error(err))
	}
	return err
}

// ChangeMessage encodes a change event as a change-feed message: key the
// document key, payload the Change, properties op, _rev, region and
// spot=true.
func ChangeMessage(c Change, seq int64) broker.Message {
	payload, _ := json.Marshal(c)
	return broker.Message{
		Key: c.Key, Payload: payload, SequenceID: seq,
		Properties: map[string]string{"op": c.Op, "_rev": c.Rev, "region": c.Region, "spot": "true"},
	}
}

func (f *BrokerFeed) producer(ref Ref) (*broker.Producer, error) {
	if p, ok := f.producers[ref]; ok {
		return p, nil
	}
	sn := naming.Stream{Persistent: true, Tenant: ref.Tenant, Fabric: ref.Fabric, Name: service.ChangeFeedStream(ref.Collection)}
	st, err := f.node.Stream(sn)
	if err != nil {
		st, err = f.node.CreateStream(sn, broker.StreamInfo{Global: f.node.Config().Replicated(), CreatedAt: time.Now().UnixMilli()})
		if errors.Is(err, broker.ErrStreamExists) {
			st, err = f.node.Stream(sn)
		}
		if err != nil {
			return nil, fmt.Errorf("spot: change feed stream %s: %w", sn, err)
		}
	}
	p, err := st.AttachInternalProducer(changesProducer, -1)
	if err != nil {
		return nil, fmt.Errorf("spot: attach to change feed %s: %w", sn, err)
	}
	f.producers[ref] = p
	return p, nil
}

// ReadChanges implements FeedReader over the node's copy of the feed.
func (f *BrokerFeed) ReadChanges(ref Ref, from uint64, max int) ([]Change, uint64, uint64, bool, bool, error) {
	sn := naming.Stream{Persistent: true, Tenant: ref.Tenant, Fabric: ref.Fabric, Name: service.ChangeFeedStream(ref.Collection)}
	st, err := f.node.Stream(sn)
	if err != nil {
		return nil, 0, 0, false, false, nil
	}
	src := st.Source()
	start, end := src.StartOffset(), src.EndOffset()
	from = max64(from, start)
	if from >= end {
		return nil, from, end, start == 0, true, nil
	}
	recs, err := src.Read(from, max, 16<<20)
	if err != nil {
		return nil, from, end, false, false, fmt.Errorf("spot: read change feed %s: %w", sn, err)
	}
	out := make([]Change, 0, len(recs))
	next := from
	for _, r := range recs {
		next = r.Offset + 1
		if r.Producer != changesProducer {
			continue
		}
		var c Change
		if err := json.Unmarshal(r.Payload, &c); err != nil {
			continue
		}
		out = append(out, c)
	}
	return out, next, end, start == 0, true, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
