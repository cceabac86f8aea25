package spot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// ChangeFeed receives the change events of applied transactions, in apply
// order, each once per node. Publish may block to push back, and must
// return once the feed is closed.
type ChangeFeed interface {
	Publish(changes []Change)
}

// Options are the service's collaborators (all optional).
type Options struct {
	// Feed publishes change events (nil: none).
	Feed ChangeFeed
	// Regular reports a collection that exists as a regular (not SPOT)
	// collection, so a transaction naming it is refused with ErrNotSpot
	// rather than ErrCollectionNotFound.
	Regular func(Ref) bool
	// Mirror reads this node's copy of the change feeds: in a region other
	// than a collection's home, reads that allow it are answered from it
	// (possibly stale). nil: every read goes to the home.
	Mirror FeedReader
	// RegionNodes marks a node of a region of several nodes, whose SPOT
	// group has at most one replica on each node: it returns the HTTP
	// base URLs of the region's other nodes that run a replica. A node
	// that runs none forwards requests for collections homed in its
	// region to them (as to another region); a node that runs one looks
	// up a collection its replica does not know yet with a linearizable
	// read before calling it unknown (another node may just have created
	// it). nil: a region of one node.
	RegionNodes func() []string
	// FabricRegions returns the regions a fabric is served in (nil: every
	// region): a SPOT collection of a geo-fabric pinned to some regions is
	// homed in one of them, and lookups ask only them (nothing of the
	// fabric, not even a name, goes to another region).
	FabricRegions func(tenant, fabric string) []string
}

// maxCachedCollections bounds the catalog cache; past it, it starts over.
const maxCachedCollections = 10_000

// Service is the SPOT service of one node: the region's group (when this
// node runs replicas of it) and the forwarding of requests for collections
// homed in other regions.
type Service struct {
	cfg    Config
	log    *zap.Logger
	opts   Options
	group  *group // nil: this node runs no replica
	fwd    *forwarder
	mirror *mirror // nil: no local copy of the change feeds

	// catalog caches collection descriptions (immutable once created).
	catMu   sync.Mutex
	catalog map[Ref]CollectionInfo
	misses  map[Ref]time.Time // names no region knew, and when

	// published is the highest Raft index whose change events went to the
	// feed; the local replicas apply the same entries, the first one to
	// apply an entry publishes it.
	pubMu     sync.Mutex
	published uint64

	keyCounter atomic.Uint64
	closed     atomic.Bool
}

// Open starts the service: its local replicas, if any, join the region's
// group.
func Open(cfg Config, log *zap.Logger, opts Options) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("spot").With(zap.String("region", cfg.Region))
	s := &Service{cfg: cfg, log: log, opts: opts, catalog: map[Ref]CollectionInfo{}, misses: map[Ref]time.Time{}}
	s.fwd = newForwarder(cfg)
	s.fwd.regionNodes = opts.RegionNodes
	if opts.Mirror != nil {
		s.mirror = newMirror(opts.Mirror)
	}
	s.keyCounter.Store(uint64(cfg.Now().UnixMilli()) << 16)
	if len(cfg.Replicas) > 0 {
		g, err := startGroup(cfg, log, s.onChanges)
		if err != nil {
			return nil, err
		}
		s.group = g
	}
	log.Info("SPOT service started", zap.Int("localReplicas", len(cfg.Replicas)), zap.Int("members", len(cfg.Members)))
	return s, nil
}

// Close stops the local replicas. Requests in flight fail with ErrClosed
// or ErrUnavailable.
func (s *Service) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.group != nil {
		s.group.close()
	}
	s.log.Info("SPOT service stopped")
	return nil
}

// SetRegions replaces the map of regions to the HTTP base URLs of their
// nodes (a dev fabric learns its ports once every node listens).
func (s *Service) SetRegions(regions map[string][]string) { s.fwd.setRegions(regions) }

// Region returns the node's region.
func (s *Service) Region() string { return s.cfg.Region }

// onChanges passes each entry's events to the feed once.
func (s *Service) onChanges(changes []Change) {
	if s.opts.Feed == nil {
		return
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	fresh := changes[:0:0]
	for _, c := range changes {
		if c.Index > s.published {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 {
		return
	}
	s.published = fresh[len(fresh)-1].Index
	s.opts.Feed.Publish(fresh)
}

// TxnOptions tune one transaction.
type TxnOptions struct {
	// RequestID names the request: a retry with the same id (within the
	// group's window) answers as the first try did and applies nothing
	// again. Empty: the service picks one (its own retries stay safe).
	RequestID string
	// forwardedFrom is the region a forwarded request came from ("" for
	// a request from a client).
	forwardedFrom string
}

// TxnResult is the outcome of an applied transaction: one result per
// operation, and the Raft index it was applied at (for read-only ones, the
// index the read reflects).
type TxnResult struct {
	Results []OpResult `json:"results"`
	Index   uint64     `json:"index"`
}

// Transaction applies t to SPOT collections of a fabric atomically and
// serializably, or refuses it as a whole (a *TxnError naming the failing
// operation or precondition). Collections homed in another region are
// served there: the request is forwarded, leader changes are retried, and
// the caller sees the same answer with the higher latency.
func (s *Service) Transaction(ctx context.Context, tenant, fabric string, t *Txn, opts TxnOptions) (*TxnResult, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if err := validateFabric(tenant, fabric); err != nil {
		return nil, err
	}
	if len(opts.RequestID) > maxRequestIDBytes {
		return nil, fmt.Errorf("%w: request id of %d bytes, the limit is %d", ErrBadRequest, len(opts.RequestID), maxRequestIDBytes)
	}
	for i := range t.Ops {
		if t.Ops[i].Kind == Insert && t.Ops[i].Key == "" {
			t.Ops[i].Key = s.newKey(opts.RequestID, i)
		}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	home, err := s.homeOf(ctx, tenant, fabric, t, opts.forwardedFrom != "")
	if err != nil {
		return nil, err
	}
	if opts.RequestID == "" {
		opts.RequestID = newRequestID()
	}
	if home != s.cfg.Region || !s.servesLocally() {
		if opts.forwardedFrom != "" {
			return nil, fmt.Errorf("%w: request forwarded from %s to %s, which does not serve %s", ErrUnavailable, opts.forwardedFrom, s.cfg.Region, home)
		}
		res, err := s.fwd.transaction(ctx, home, tenant, fabric, t, opts.RequestID)
		s.forgetIfGone(err, tenant, fabric, t)
		return res, err
	}
	out, err := s.runLocal(ctx, tenant, fabric, t, opts.RequestID)
	if err != nil {
		return nil, err
	}
	if out.Err != nil {
		err := out.Err.err()
		s.forgetIfGone(err, tenant, fabric, t)
		return nil, err
	}
	return &TxnResult{Results: out.Results, Index: out.Index}, nil
}

// runLocal serves a transaction from the local group: reads through
// ReadIndex, writes through a proposal.
func (s *Service) runLocal(ctx context.Context, tenant, fabric string, t *Txn, requestID string) (*outcome, error) {
	now := uint64(s.cfg.Now().UnixMilli())
	if t.ReadOnly() {
		v, err := s.group.read(ctx, txnQuery{tenant: tenant, fabric: fabric, nowMs: now, txn: t})
		if err != nil {
			return nil, err
		}
		return v.(*outcome), nil
	}
	cmd, err := encodeCommand(&command{ID: requestID, NowMs: now, Tenant: tenant, Fabric: fabric, Txn: t})
	if err != nil {
		return nil, err
	}
	return s.group.propose(ctx, cmd)
}

// homeOf returns the home region shared by the transaction's collections.
func (s *Service) homeOf(ctx context.Context, tenant, fabric string, t *Txn, localOnly bool) (string, error) {
	home := ""
	for _, name := range t.Collections() {
		info, err := s.resolve(ctx, Ref{Tenant: tenant, Fabric: fabric, Collection: name}, localOnly)
		if err != nil {
			return "", err
		}
		if home != "" && info.Home != home {
			return "", fmt.Errorf("%w: %s lives in %s, other collections of the transaction in %s", ErrHomeMismatch, name, info.Home, home)
		}
		home = info.Home
	}
	return home, nil
}

// forgetIfGone drops cached descriptions when the home no longer knows a
// collection (dropped, maybe re-created elsewhere).
func (s *Service) forgetIfGone(err error, tenant, fabric string, t *Txn) {
	if !errors.Is(err, ErrCollectionNotFound) {
		return
	}
	s.catMu.Lock()
	defer s.catMu.Unlock()
	for _, name := range t.Collections() {
		delete(s.catalog, Ref{Tenant: tenant, Fabric: fabric, Collection: name})
	}
}

// newKey generates the key of the i-th operation, an insert without one.
// Without a request id: a counter that grows across restarts (it starts at
// the clock's ms << 16), then the region. With one, a hash of it: a retry
// of the request inserts the same key.
func (s *Service) newKey(requestID string, i int) string {
	if requestID != "" {
		h := fnv.New64a()
		h.Write([]byte(requestID))
		return strconv.FormatUint(h.Sum64(), 36) + "-" + strconv.Itoa(i)
	}
	return strconv.FormatUint(s.keyCounter.Add(1), 10) + "-" + s.cfg.Region
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// StopReplica stops a local replica (its data stays), as a crash of that
// member would: the group serves on while a quorum remains. For fault
// drills and tests.
func (s *Service) StopReplica(id uint64) error {
	if s.group == nil {
		return fmt.Errorf("%w: this node runs no replica", ErrBadRequest)
	}
	return s.group.stopReplica(id)
}

// RestartReplica starts a stopped local replica on its data; it catches up
// by log, or by snapshot plus log when it fell too far behind.
func (s *Service) RestartReplica(id uint64) error {
	if s.group == nil {
		return fmt.Errorf("%w: this node runs no replica", ErrBadRequest)
	}
	return s.group.restartReplica(id)
}

// ReplicaState describes what a local replica has applied (no read index).
func (s *Service) ReplicaState(id uint64) (ReplicaState, error) {
	if s.group == nil {
		return ReplicaState{}, fmt.Errorf("%w: this node runs no replica", ErrBadRequest)
	}
	return s.group.replicaState(id)
}

// servesLocally reports whether this node answers for its region's group
// through a local replica: it runs one, and in a region of several nodes
// (where the other nodes can answer) one is running, not stopped.
func (s *Service) servesLocally() bool {
	if s.group == nil {
		return false
	}
	return s.opts.RegionNodes == nil || s.group.running()
}

// TransferLeader asks the group to move its leader to member id, before a
// planned stop of the leader's node or to put it beside the node running
// the region's replication. It returns once the request is made, not when
// the lead moved (Leader says); ErrBadRequest for an id that is not a
// member, ErrUnavailable on a node without a running replica.
func (s *Service) TransferLeader(id uint64) error {
	if s.group == nil {
		return fmt.Errorf("%w: this node runs no replica of its region's group", ErrUnavailable)
	}
	return s.group.transferLeader(id)
}

// Leader returns the group's leader replica as the local replicas see it
// (0: unknown, or no local replica).
func (s *Service) Leader() uint64 {
	if s.group == nil {
		return 0
	}
	return s.group.leader()
}
