package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/subscription"
)

// Cluster is how a node of a region of several nodes holds its persistent
// streams: their list and descriptions are the region's (every node sees
// the same), each is led by one node at a time, and the leader's log is
// replicated to the stream's other replicas before a publish is
// acknowledged. The server wires it to region/ship and region/meta. A nil
// Cluster (the default) is a region of one node: every stream is the
// node's own, as before.
type Cluster interface {
	// Streams returns the region's persistent streams, as this node knows
	// them now (nil while it does not know them: starting or stopping),
	// and a channel closed at the next change (a stream created or
	// deleted, a leader moved).
	Streams() (map[naming.Stream]ClusterStream, <-chan struct{})
	// CreateStream registers a persistent stream in the region; creating
	// one that exists is not an error.
	CreateStream(ctx context.Context, name naming.Stream, info StreamInfo) error
	// DeleteStream removes a stream from the region (its replicas delete
	// their logs).
	DeleteStream(ctx context.Context, name naming.Stream) error
	// Cursors is where subscriptions keep their cursors, readable by the
	// stream's next leader; nil keeps them in the node's own store.
	Cursors() subscription.Store
}

// ClusterStream is one stream of the region as a node sees it.
type ClusterStream struct {
	Info StreamInfo
	// Leader is the node leading the stream (ID 0 while none can).
	Leader ClusterNode
	// Log is this node's replica of the stream while this node leads it,
	// nil otherwise.
	Log ReplicatedLog
}

// ClusterNode is a node of the region and where clients reach it.
type ClusterNode struct {
	ID    uint64
	HTTP  string // base URL (WebSocket and HTTP)
	Kafka string // host:port, empty without a Kafka listener
}

// ReplicatedLog is the leader's side of a stream's replicated log
// (region/ship.Replica).
type ReplicatedLog interface {
	// Log is the local segment log (the leader's copy, for reads that may
	// see records not yet acknowledged, such as de-duplication).
	Log() *segment.Log
	// Committed is what consumers read: the records every in-sync replica
	// holds.
	Committed() subscription.Source
	// AppendAsync appends and calls done once the records are held by
	// every in-sync replica, or with an error.
	AppendAsync(recs []segment.Record, done func(first uint64, err error))
}

// errClusterCreate: a path that would create a stream on this node alone
// (a geo-replicated stream's first op) in a region of several nodes, where
// streams are the region's.
var errClusterCreate = errors.New("broker: in a region of several nodes a persistent stream is created through the region")

// ErrLeaderMoved: the stream's leader moved while a publish waited for its
// replicas; the message may or may not be stored. The front end makes the
// client send it again under the same producer name and sequence id (it
// closes the connection: the client reconnects, to the new leader), and
// de-duplication keeps one copy.
var ErrLeaderMoved = errors.New("broker: the stream's leader moved before the message was acknowledged; it may be stored: send it again with the same sequence id")

// ErrNotOwner is wrapped by NotOwnerError.
var ErrNotOwner = errors.New("broker: this node does not lead the stream")

// NotOwnerError says which node leads a stream this node does not: front
// ends proxy the request there (WebSocket, HTTP) or name it (Kafka).
type NotOwnerError struct {
	Stream naming.Stream
	Leader ClusterNode // ID 0: no node can lead it now
}

func (e *NotOwnerError) Error() string {
	if e.Leader.ID == 0 {
		return fmt.Sprintf("%v: %s has no leader now (its replicas are unavailable); try again", ErrNotOwner, e.Stream)
	}
	return fmt.Sprintf("%v: %s is led by node %d (%s)", ErrNotOwner, e.Stream, e.Leader.ID, e.Leader.HTTP)
}

func (e *NotOwnerError) Unwrap() error { return ErrNotOwner }

// clusterWait bounds how long creating a stream waits for the region to
// show it with a leader.
const clusterWait = 10 * time.Second

// MarshalRegionInfo encodes a stream's description for the region.
func MarshalRegionInfo(info StreamInfo) (string, error) {
	b, err := json.Marshal(info)
	if err != nil {
		return "", fmt.Errorf("broker: encode stream info: %w", err)
	}
	return string(b), nil
}

// UnmarshalRegionInfo decodes a stream's description from the region.
func UnmarshalRegionInfo(s string) (StreamInfo, error) {
	var info StreamInfo
	if err := json.Unmarshal([]byte(s), &info); err != nil {
		return StreamInfo{}, fmt.Errorf("broker: decode stream info: %w", err)
	}
	return info, nil
}

// clusterLoop keeps the node's streams what the region says.
func (n *Node) clusterLoop() {
	defer n.wg.Done()
	for {
		streams, changed := n.cfg.Cluster.Streams()
		if streams != nil { // nil: not known (starting, stopping); an empty map is no stream
			n.reconcileCluster(streams)
		}
		select {
		case <-n.stop:
			return
		case <-changed:
		}
	}
}

// reconcileCluster opens the region's new streams, gives a stream its
// replicated log when this node starts leading it and takes it away when
// it stops (closing its producers and consumers: their clients reconnect
// and reach the new leader), and forgets deleted streams.
func (n *Node) reconcileCluster(streams map[naming.Stream]ClusterStream) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	var lead, lose []*Stream
	var gone []*Stream
	for name, rs := range streams {
		s := n.streams[name]
		if s == nil {
			s = n.newStream(name, rs.Info)
			n.streams[name] = s
			n.adoptNamespaceLocked(name) // the region's stream: its fabric exists
		}
		s.mu.Lock()
		s.leader = rs.Leader
		switch {
		case rs.Log != nil && s.rlog != rs.Log:
			if s.rlog != nil {
				lose = append(lose, s)
			}
			s.pendingLog = rs.Log
			lead = append(lead, s)
		case rs.Log == nil && s.rlog != nil:
			lose = append(lose, s)
		}
		s.mu.Unlock()
	}
	for name, s := range n.streams {
		if _, ok := streams[name]; !ok && name.Persistent {
			delete(n.streams, name)
			gone = append(gone, s)
		}
	}
	n.mu.Unlock()
	for _, s := range lose {
		s.loseLead()
	}
	for _, s := range lead {
		s.takeLead()
	}
	for _, s := range gone {
		s.loseLead()
		s.mu.Lock()
		s.deleted = true
		s.mu.Unlock()
		s.log.Info("stream deleted in the region")
	}
}

// takeLead gives the stream its replicated log: producers and consumers
// may attach from now on.
func (s *Stream) takeLead() {
	s.mu.Lock()
	rl := s.pendingLog
	s.pendingLog = nil
	s.mu.Unlock()
	if rl == nil {
		return
	}
	dedup := dedupFromLog(rl.Log())
	s.mu.Lock()
	if s.deleted || s.pendingLog != nil {
		s.mu.Unlock()
		return // deleted, or led again at a newer epoch meanwhile
	}
	s.rlog, s.plog, s.src, s.dedup = rl, rl.Log(), rl.Committed(), dedup
	err := s.loadSubscriptions()
	s.mu.Unlock()
	// Another node may have applied replicated records meanwhile: rescan
	// the highest applied per origin from this log before the next apply.
	s.repl.mu.Lock()
	s.repl.loaded = false
	s.repl.mu.Unlock()
	if err != nil {
		s.log.Error("reopening subscriptions as the new leader", zap.Error(err))
	}
	s.log.Info("leading the stream", zap.Uint64("end", s.plog.EndOffset()), zap.Uint64("committed", s.src.EndOffset()))
}

// loseLead ends this node's leadership of the stream: its producers are
// fenced and its subscriptions closed (clients reconnect to the leader).
func (s *Stream) loseLead() {
	s.mu.Lock()
	if s.rlog == nil {
		s.mu.Unlock()
		return
	}
	s.rlog, s.plog, s.src = nil, nil, emptySource{}
	subs := s.subs
	s.subs = map[string]*subscription.Subscription{}
	// A copy: producers close (deleting themselves from the map) meanwhile.
	producers := make([]*Producer, 0, len(s.producers))
	for _, p := range s.producers {
		producers = append(producers, p)
	}
	s.mu.Unlock()
	for _, p := range producers {
		p.fence()
	}
	for _, sub := range subs {
		_ = sub.Close()
	}
	s.log.Info("no longer leading the stream")
}

// notOwner returns the NotOwnerError of a stream this node does not lead
// in its region, nil when it does (or the node is a region of one). s.mu
// is held.
func (s *Stream) notOwnerLocked() error {
	if s.node.cfg.Cluster == nil || !s.name.Persistent || s.rlog != nil {
		return nil
	}
	return &NotOwnerError{Stream: s.name, Leader: s.leader}
}

// Leader returns the node leading the stream in a region of several
// nodes, and whether it is this one (always true in a region of one).
func (s *Stream) Leader() (ClusterNode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader, s.notOwnerLocked() == nil
}

// createInCluster registers a stream in the region and waits until this
// node sees it.
func (n *Node) createInCluster(name naming.Stream, info StreamInfo) (*Stream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if err := n.cfg.Cluster.CreateStream(ctx, name, info); err != nil {
		return nil, fmt.Errorf("broker: create %s in the region: %w", name, err)
	}
	for {
		n.mu.RLock()
		s := n.streams[name]
		n.mu.RUnlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("broker: %s was created in the region but this node has not seen it yet; try again", name)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// emptySource is the storage of a stream this node does not lead.
type emptySource struct{}

func (emptySource) Read(uint64, int, int) ([]segment.Record, error) { return nil, nil }
func (emptySource) StartOffset() uint64                             { return 0 }
func (emptySource) EndOffset() uint64                               { return 0 }
func (emptySource) Changed() <-chan struct{}                        { return nil }
func (emptySource) OffsetAtTime(int64) uint64                       { return 0 }
