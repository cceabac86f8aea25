package broker

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/subscription"
)

// StreamInfo is a stream's durable description.
type StreamInfo struct {
	Global     bool  `json:"global"`
	Partitions int   `json:"partitions"`
	CreatedAt  int64 `json:"createdAt"`
	// Replicas is the stream's replication factor in a region of several
	// nodes (0: the region's default, 3 with three nodes or more).
	Replicas int `json:"replicas,omitempty"`
}

// storage is what a stream appends to and subscriptions read from: a
// segment log (persistent) or a memory ring (non-persistent).
type storage interface {
	subscription.Source
}

// Stream is one named stream and everything attached to it.
type Stream struct {
	name naming.Stream
	info StreamInfo
	node *Node
	log  *zap.Logger

	plog *segment.Log // nil for non-persistent streams
	mlog *memLog      // nil for persistent streams
	src  storage
	// derived: plog is a materialization of the replication journals
	// (a global stream of a geo-replicated node of one): appended without
	// fsync, made durable by SyncReplicated before the journals' applied
	// watermark passes its records, re-derived from them after a crash.
	derived bool

	mu        sync.Mutex
	producers map[string]*Producer
	subs      map[string]*subscription.Subscription
	dedup     map[string]*dedupState
	nextAnon  uint64
	deleted   bool
	repl      streamRepl // geo-replication state (replication.go)

	// In a region of several nodes (cluster.go): the stream's leader, and
	// the replicated log while this node leads it (plog is then its local
	// log and src its committed view); pendingLog is one given by the
	// region and not taken yet.
	leader     ClusterNode
	rlog       ReplicatedLog
	pendingLog ReplicatedLog
}

// Name returns the stream's full name.
func (s *Stream) Name() naming.Stream { return s.name }

// Info returns the stream's description.
func (s *Stream) Info() StreamInfo { return s.info }

// Source returns the stream's readable storage (for readers). In a region
// of several nodes it changes when the lead comes or goes (cluster.go).
func (s *Stream) Source() subscription.Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src
}

func (n *Node) streamDir(name naming.Stream) string {
	return filepath.Join(n.cfg.DataDir, "streams", name.Tenant, name.Fabric, name.Name, "p0")
}

// newStream returns a stream without storage: a persistent stream of a
// region of several nodes gets its log when this node leads it
// (cluster.go).
func (n *Node) newStream(name naming.Stream, info StreamInfo) *Stream {
	return &Stream{
		name:      name,
		info:      info,
		node:      n,
		log:       n.log.With(zap.String("stream", name.String())),
		producers: map[string]*Producer{},
		subs:      map[string]*subscription.Subscription{},
		dedup:     map[string]*dedupState{},
		src:       emptySource{},
	}
}

// openStream opens (recovers) a stream's storage. Callers hold n.mu or are
// in Open.
func (n *Node) openStream(name naming.Stream, info StreamInfo) (*Stream, error) {
	s := n.newStream(name, info)
	if name.Persistent {
		opts := n.cfg.segmentOptions()
		opts.Logger = s.log
		if info.Global && n.cfg.Replicated() {
			// Durable once per region: the journal is (README
			// "Geo-replication", replication.go SyncReplicated).
			opts.Fsync, s.derived = segment.FsyncNever, true
			// Written once: the replication shell appends its records
			// by reference to its journals (Record.PayloadRef), and
			// reads resolve them there (SetPayloadSource).
			opts.ResolvePayloads = func(recs []segment.Record) error { return n.resolvePayloads(name, recs) }
		}
		if strings.HasPrefix(name.Name, naming.OpLogPrefix) {
			// A collection's op log holds ops its view may not have yet;
			// the collection trims it itself once they are in the view
			// and causally stable (collections/service/oplogtrim.go).
			opts.RetentionBytes, opts.RetentionAge = 0, 0
		}
		l, err := segment.Open(n.fs, n.streamDir(name), opts)
		if err != nil {
			return nil, fmt.Errorf("broker: open stream %s: %w", name, err)
		}
		s.plog, s.src = l, l
		s.restoreDedup()
		if err := s.loadSubscriptions(); err != nil {
			_ = l.Close()
			return nil, err
		}
	} else {
		s.mlog = newMemLog(n.cfg.NonPersistentBufferMessages)
		s.src = s.mlog
	}
	return s, nil
}

// CreateStream creates a stream. It fails with ErrStreamExists if present,
// and with ErrTenantNotFound or ErrFabricNotFound (creating nothing) when
// its tenant or fabric does not exist (namespace.go). A reserved stream
// (naming.Reserved: a collection's op log and change feed) is created by
// the node's own services, which check the fabric themselves, also for a
// collection arriving from another region of the fabric before its
// fabric did: its fabric is recorded with it.
func (n *Node) CreateStream(name naming.Stream, info StreamInfo) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if !naming.Reserved(name.Name) {
		if err := n.CheckNamespace(name.Tenant, name.Fabric); err != nil {
			return nil, err
		}
	}
	return n.createStream(name, info)
}

// CreateArrivedStream creates a stream that exists in another region of
// the fabric (a Kafka topic created there, whose event arrived): its
// tenant and fabric exist there, so they are recorded here if missing.
// It fails with ErrStreamExists if present.
func (n *Node) CreateArrivedStream(name naming.Stream, info StreamInfo) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	return n.createStream(name, info)
}

func (n *Node) createStream(name naming.Stream, info StreamInfo) (*Stream, error) {
	n.mu.Lock()
	if _, ok := n.streams[name]; ok {
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrStreamExists, name)
	}
	if n.cfg.Cluster != nil && name.Persistent {
		n.mu.Unlock()
		return n.createInCluster(name, n.fillInfo(info))
	}
	defer n.mu.Unlock()
	return n.createStreamLocked(name, info)
}

// fillInfo gives a new stream's description its defaults.
func (n *Node) fillInfo(info StreamInfo) StreamInfo {
	if info.Partitions == 0 {
		info.Partitions = 1
	}
	if info.CreatedAt == 0 {
		info.CreatedAt = time.Now().UnixMilli()
	}
	return info
}

// createStreamLocked creates a stream of this node alone, recording its
// tenant and fabric if missing: the public paths checked them first
// (CheckNamespace); a replicated stream's exist in its origin region.
func (n *Node) createStreamLocked(name naming.Stream, info StreamInfo) (*Stream, error) {
	if _, err := n.ensureFabricLocked(name.Tenant, name.Fabric); err != nil {
		return nil, err
	}
	if info.Partitions == 0 {
		info.Partitions = 1
	}
	if info.CreatedAt == 0 {
		info.CreatedAt = time.Now().UnixMilli()
	}
	if n.cfg.Cluster != nil && name.Persistent {
		return nil, errClusterCreate
	}
	s, err := n.openStream(name, info)
	if err != nil {
		return nil, err
	}
	if name.Persistent {
		if err := n.saveJSON(streamMetaKey(name), info); err != nil {
			_ = s.close()
			return nil, err
		}
	}
	n.streams[name] = s
	n.log.Info("stream created", zap.String("stream", name.String()), zap.Bool("global", info.Global))
	return s, nil
}

// Stream returns an existing stream.
func (n *Node) Stream(name naming.Stream) (*Stream, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return nil, ErrClosed
	}
	s, ok := n.streams[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	return s, nil
}

// StreamForUse returns a stream for a producer or consumer, creating it when
// auto-creation is on. global applies only when the stream is created.
// Only the stream is created by use: an unknown tenant or fabric is
// ErrTenantNotFound or ErrFabricNotFound, and nothing is created.
func (n *Node) StreamForUse(name naming.Stream, global *bool) (*Stream, error) {
	if err := name.Validate(); err != nil {
		return nil, err
	}
	if s, err := n.Stream(name); err == nil {
		return s, nil
	}
	if err := n.CheckNamespace(name.Tenant, name.Fabric); err != nil {
		return nil, err
	}
	if !*n.cfg.AutoCreateStreams {
		return nil, fmt.Errorf("%w: %s (auto-creation is off)", ErrStreamNotFound, name)
	}
	info := StreamInfo{Global: n.defaultGlobal()}
	if global != nil {
		info.Global = *global
	}
	if n.cfg.Cluster != nil && name.Persistent {
		return n.createInCluster(name, n.fillInfo(info))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrClosed
	}
	if s, ok := n.streams[name]; ok {
		return s, nil
	}
	return n.createStreamLocked(name, info)
}

// defaultGlobal: in a fabric with several regions a stream is global unless
// created with global=false.
func (n *Node) defaultGlobal() bool { return n.cfg.Replicated() }

// Streams lists streams, optionally filtered by tenant and fabric ("" = all).
func (n *Node) Streams(tenant, fabric string) []*Stream {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Stream, 0, len(n.streams))
	for name, s := range n.streams {
		if (tenant == "" || name.Tenant == tenant) && (fabric == "" || name.Fabric == fabric) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name.String() < out[j].name.String() })
	return out
}

// DeleteStream removes a stream with its data and subscriptions. Without
// force it refuses while producers or consumers are connected. A reserved
// stream (naming.Reserved) is refused with naming.ErrReserved: it goes
// with its collection.
func (n *Node) DeleteStream(name naming.Stream, force bool) error {
	if err := naming.CheckClientWrite(name.Name); err != nil {
		return fmt.Errorf("broker: delete %s: %w", name, err)
	}
	return n.deleteStream(name, force)
}

// DeleteInternalStream removes a stream of the node's own services (the op
// log and change feed of a dropped collection), reserved or not, whoever
// is connected.
func (n *Node) DeleteInternalStream(name naming.Stream) error {
	return n.deleteStream(name, true)
}

func (n *Node) deleteStream(name naming.Stream, force bool) error {
	n.mu.Lock()
	s, ok := n.streams[name]
	if !ok {
		n.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	if !force && s.inUse() {
		n.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrStreamInUse, name)
	}
	if n.cfg.Cluster != nil && name.Persistent {
		// The region deletes it everywhere; reconcileCluster forgets it.
		n.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		defer cancel()
		if err := n.cfg.Cluster.DeleteStream(ctx, name); err != nil {
			return fmt.Errorf("broker: delete %s in the region: %w", name, err)
		}
		// Its durable subscriptions and cursors go with it (a stream
		// created again under the name starts without them).
		if kv := n.sharedKV(); kv != nil {
			if err := kv.KVDeletePrefix(ctx, sharedPrefix+string(subMetaKey(name, ""))); err != nil {
				return fmt.Errorf("broker: forget the subscriptions of %s in the region: %w", name, err)
			}
		}
		return nil
	}
	delete(n.streams, name)
	n.mu.Unlock()
	return s.delete()
}

func (s *Stream) inUse() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.producers) > 0 {
		return true
	}
	for _, sub := range s.subs {
		if len(sub.Stats().Consumers) > 0 {
			return true
		}
	}
	return false
}

func (s *Stream) delete() error {
	s.mu.Lock()
	s.deleted = true
	subs := s.subs
	s.subs = map[string]*subscription.Subscription{}
	s.mu.Unlock()
	for name, sub := range subs {
		_ = sub.Close()
		if err := s.forgetSubscription(name); err != nil {
			s.log.Warn("forget subscription", zap.String("subscription", name), zap.Error(err))
		}
	}
	if s.plog == nil {
		return nil
	}
	if err := s.node.meta.Delete(streamMetaKey(s.name), nil); err != nil {
		return fmt.Errorf("broker: delete stream metadata %s: %w", s.name, err)
	}
	if err := s.plog.Delete(); err != nil {
		return fmt.Errorf("broker: delete stream data %s: %w", s.name, err)
	}
	s.log.Info("stream deleted")
	return nil
}

func (s *Stream) close() error {
	s.mu.Lock()
	subs := make([]*subscription.Subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if err := sub.Close(); err != nil {
			s.log.Warn("close subscription", zap.Error(err))
		}
	}
	s.mu.Lock()
	plog, replicated := s.plog, s.rlog != nil || s.node.cfg.Cluster != nil
	s.mu.Unlock()
	if plog != nil && !replicated { // a replicated log is its replica's to close
		if err := plog.Close(); err != nil {
			return fmt.Errorf("broker: close stream %s: %w", s.name, err)
		}
	}
	return nil
}

func (s *Stream) enforceRetention(now time.Time) {
	if s.plog == nil {
		return
	}
	removed, err := s.plog.EnforceRetention(now.UnixMilli())
	if err != nil {
		s.log.Warn("retention", zap.Error(err))
		return
	}
	if removed > 0 {
		s.log.Info("retention removed segments", zap.Int("segments", removed))
	}
}

// Backlog is the number of stored messages (end - start).
func (s *Stream) Backlog() uint64 { return s.src.EndOffset() - s.src.StartOffset() }

// SizeBytes is the stream's size on disk (0 for non-persistent streams).
func (s *Stream) SizeBytes() int64 {
	if s.plog == nil {
		return 0
	}
	return s.plog.Size()
}

// TrimBelow deletes the stream's whole oldest segments whose messages all
// lie below offset (never the active one) and returns how many it removed;
// the start offset moves up to at most offset. It is for the owner of an
// internal stream that no longer needs a prefix (a collection's op log);
// non-persistent streams remove nothing.
func (s *Stream) TrimBelow(offset uint64) (removedSegments int, err error) {
	if s.plog == nil {
		return 0, nil
	}
	n, err := s.plog.DeleteBelow(offset)
	if err != nil {
		return n, fmt.Errorf("broker: trim %s below %d: %w", s.name, offset, err)
	}
	return n, nil
}

// TrimmableBelow returns the start offset TrimBelow(offset) would leave
// (the current one when it would remove nothing).
func (s *Stream) TrimmableBelow(offset uint64) uint64 {
	if s.plog == nil {
		return s.src.StartOffset()
	}
	return s.plog.WholeSegmentsBelow(offset)
}
