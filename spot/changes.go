package spot

import (
	"encoding/json"
	"errors"
	"fmt"
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

// BrokerFeed publishes change events to each collection's change-feed
// stream on a broker node (the collections naming: "_changes.{name}",
// global in a multi-region fabric so every region can read it), one
// message per changed document in the format of the collections change
// feed. Events are at least once per node and deduplicated by the broker.
type BrokerFeed struct {
	node  *broker.Node
	log   *zap.Logger
	queue chan []Change
	stop  chan struct{}
	done  chan struct{}

	producers map[Ref]*broker.Producer // publisher goroutine only
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

// Close publishes what is queued and stops. Call it after the SPOT
// service closed and before the node does.
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
	for {
		select {
		case changes := <-f.queue:
			f.publish(changes)
		case <-f.stop:
			for {
				select {
				case changes := <-f.queue:
					f.publish(changes)
				default:
					return
				}
			}
		}
	}
}

// publish sends one batch, collection by collection, in order. The n-th
// change of entry i to a collection has sequence id i*seqPerEntry + n.
func (f *BrokerFeed) publish(changes []Change) {
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
		err := f.publishTo(ref, byCol[ref])
		switch {
		case err == nil:
		case errors.Is(err, broker.ErrNotOwner):
			// A region of several nodes: every node's replica applies the
			// entry, the node leading the feed's stream publishes it.
			f.log.Debug("change feed led by another node", zap.Stringer("collection", ref), zap.Uint64("index", changes[0].Index))
		default:
			f.log.Warn("change feed publish failed", zap.Stringer("collection", ref), zap.Uint64("index", changes[0].Index), zap.Error(err))
		}
	}
}

func (f *BrokerFeed) publishTo(ref Ref, msgs []broker.Message) error {
	p, err := f.producer(ref)
	if err != nil {
		return err
	}
	for _, r := range p.Publish(msgs) {
		if r.Err != nil {
			// Attach again next time: the stream may be gone, or (in a
			// region of several nodes) its leader moved, fencing p.
			p.Close()
			delete(f.producers, ref)
			return r.Err
		}
	}
	return nil
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
