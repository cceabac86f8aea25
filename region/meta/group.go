package meta

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/config"
	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"

	"github.com/causeway/causeway/internal/dblog"
	"github.com/causeway/causeway/region"
)

// ShardID is the dragonboat shard of a region's metadata group (SPOT's is 1).
const ShardID = 2

// Errors.
var (
	// ErrRefused: the command was committed and the state refused it (it
	// did not fit; nothing changed). Wraps the state machine's reason.
	ErrRefused = region.ErrRefused
	// ErrUnavailable: no quorum answered in time (this node may be cut off
	// from its region).
	ErrUnavailable = errors.New("meta: the region's metadata group is unavailable (no quorum)")
	ErrClosed      = errors.New("meta: closed")
)

// Group is this node's replica of its region's metadata group.
type Group struct {
	cfg   Config
	log   *zap.Logger
	id    identity // as at start; voter follows promotion
	voter atomic.Bool
	self  region.Member
	nh    *dragonboat.NodeHost
	sm    *stateMachine
	start time.Time

	mu      sync.Mutex
	ctrl    *region.Controller // while this node leads the group
	changed chan struct{}      // closed and replaced on every applied entry
	// membersChanged is closed and replaced on every applied entry that
	// may change nodes or units (not heartbeats, not the key-value map).
	membersChanged chan struct{}
	closed         bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// Start opens the node's identity, starts its replica of the group
// (bootstrapping, joining or restarting), registers the node and starts its
// heartbeats and controller loop.
func Start(cfg Config, log *zap.Logger) (*Group, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.Named("region").With(zap.String("region", cfg.Region), zap.Uint64("node", uint64(cfg.Node)))
	dblog.Route(log)
	g := &Group{cfg: cfg, log: log, start: time.Now(), changed: make(chan struct{}), membersChanged: make(chan struct{}), stop: make(chan struct{})}
	g.sm = newStateMachine(g.observe)

	id, err := loadIdentity(cfg.DataDir)
	restart := err == nil
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	bootstrap := false
	if !restart {
		_, listed := cfg.Bootstrap[cfg.Node]
		bootstrap = listed && !g.ranBefore()
		id = identity{Incarnation: random63(), ReplicaID: random63()}
		if bootstrap {
			id.ReplicaID, id.Voter = uint64(cfg.Node), true
		}
		// The Raft directory of an earlier life (a crash between the two
		// steps) must not be reused under a new identity.
		if err := os.RemoveAll(filepath.Join(cfg.DataDir, "region", "raft")); err != nil {
			return nil, fmt.Errorf("meta: %w", err)
		}
	}
	g.id = id
	g.voter.Store(id.Voter)
	g.self = region.Member{Node: cfg.Node, Incarnation: id.Incarnation}
	if !restart && !bootstrap {
		if err := g.requestJoin(); err != nil {
			return nil, err
		}
	}
	if !restart {
		if err := saveIdentity(cfg.DataDir, id); err != nil {
			return nil, err
		}
	}
	if err := g.startReplica(restart, bootstrap); err != nil {
		return nil, err
	}
	log.Info("region metadata group started", zap.Bool("restart", restart), zap.Bool("bootstrap", bootstrap),
		zap.Uint64("replica", id.ReplicaID), zap.Uint64("incarnation", id.Incarnation), zap.String("raft", cfg.Addrs.Raft))
	g.wg.Add(2)
	go g.heartbeats()
	go g.controlLoop()
	return g, nil
}

func deploymentID(region string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("causeway-region/" + region))
	return h.Sum64()
}

func (g *Group) startReplica(restart, bootstrap bool) error {
	dir := filepath.Join(g.cfg.DataDir, "region", "raft")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	logDB := config.GetTinyMemLogDBConfig()
	logDB.Shards = 1
	nh, err := dragonboat.NewNodeHost(config.NodeHostConfig{
		DeploymentID:   deploymentID(g.cfg.Region),
		NodeHostDir:    dir,
		RTTMillisecond: g.cfg.RTTMillisecond,
		RaftAddress:    g.cfg.Addrs.Raft,
		Expert: config.ExpertConfig{
			LogDB:  logDB,
			Engine: config.EngineConfig{ExecShards: 1, CommitShards: 1, ApplyShards: 1, SnapshotShards: 1, CloseShards: 1},
		},
	})
	if err != nil {
		return fmt.Errorf("meta: start node host on %s: %w", g.cfg.Addrs.Raft, err)
	}
	members := map[uint64]dragonboat.Target{}
	if bootstrap {
		for id, addr := range g.cfg.Bootstrap {
			members[uint64(id)] = addr
		}
	}
	join := !restart && !bootstrap
	err = nh.StartReplica(members, join, func(uint64, uint64) sm.IStateMachine { return g.sm }, config.Config{
		ReplicaID:          g.id.ReplicaID,
		ShardID:            ShardID,
		ElectionRTT:        g.cfg.ElectionRTT,
		HeartbeatRTT:       g.cfg.HeartbeatRTT,
		IsNonVoting:        !g.id.Voter,
		CheckQuorum:        true,
		PreVote:            true,
		SnapshotEntries:    10000,
		CompactionOverhead: 1000,
	})
	if err != nil {
		nh.Close()
		return fmt.Errorf("meta: start replica %d: %w", g.id.ReplicaID, err)
	}
	g.nh = nh
	return nil
}

// Self is this node in its current life.
func (g *Group) Self() region.Member { return g.self }

// Propose commits c through the group and returns once it is applied here;
// ErrRefused (wrapping the reason) if the state refused it.
func (g *Group) Propose(ctx context.Context, c region.Command) error {
	b, err := c.Encode()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.RequestTimeout)
	defer cancel()
	for {
		res, err := g.nh.SyncPropose(ctx, g.nh.GetNoOPSession(ShardID), b)
		switch {
		case err == nil && res.Value == resultApplied:
			return nil
		case err == nil:
			return fmt.Errorf("%w: %s", ErrRefused, res.Data)
		case errors.Is(err, dragonboat.ErrShardNotReady), errors.Is(err, dragonboat.ErrSystemBusy):
			if !g.backoff(ctx) {
				return unavailableError(err)
			}
		case unavailable(err):
			return unavailableError(err)
		default:
			return fmt.Errorf("meta: propose %s: %w", c.Kind, err)
		}
	}
}

// State returns the region's metadata as of a linearizable read: it
// reflects every command committed before the call. Its key-value map is
// left out (KV is nil): read a key with Read or Get.
func (g *Group) State(ctx context.Context) (*region.State, error) {
	v, err := g.read(ctx, nil)
	if err != nil {
		return nil, err
	}
	return v.(*region.State), nil
}

// read is a linearizable read of the state machine (Lookup's query).
func (g *Group) read(ctx context.Context, query any) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.RequestTimeout)
	defer cancel()
	for {
		v, err := g.nh.SyncRead(ctx, ShardID, query)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, dragonboat.ErrShardNotReady) || errors.Is(err, dragonboat.ErrSystemBusy) {
			if g.backoff(ctx) {
				continue
			}
			return nil, unavailableError(err)
		}
		if unavailable(err) {
			return nil, unavailableError(err)
		}
		return nil, fmt.Errorf("meta: read: %w", err)
	}
}

// Local returns the metadata as applied on this node (possibly behind),
// without its key-value map (KV is nil: read a key with Get).
func (g *Group) Local() *region.State {
	v, _ := g.sm.Lookup(nil)
	return v.(*region.State)
}

// Changed returns a channel closed at the next applied entry.
func (g *Group) Changed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changed
}

// MembersChanged returns a channel closed at the next applied entry that
// may change the region's nodes or units: watchers of ownership need not
// wake for every heartbeat or key-value write (Changed does).
func (g *Group) MembersChanged() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.membersChanged
}

// Leading reports whether this node leads the group (runs the controller).
func (g *Group) Leading() bool {
	leader, _, ok, err := g.nh.GetLeaderID(ShardID)
	return err == nil && ok && leader == g.id.ReplicaID
}

// unavailable: the group did not answer in time (no quorum reachable, or
// the request's time ran out on the way).
func unavailable(err error) bool {
	for _, e := range []error{dragonboat.ErrTimeout, context.DeadlineExceeded, context.Canceled, dragonboat.ErrShardClosed,
		dragonboat.ErrInvalidDeadline, dragonboat.ErrTimeoutTooSmall, dragonboat.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// unavailableError is ErrUnavailable with the reason in words: a request
// whose time ran out says so (dragonboat's "timeout value is too small",
// which it answers when little of the request's time is left, reads as a
// configuration mistake).
func unavailableError(err error) error {
	for _, e := range []error{dragonboat.ErrTimeout, dragonboat.ErrTimeoutTooSmall, dragonboat.ErrInvalidDeadline, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: no majority of the region's nodes answered within the request's time (this node may be cut off from them)", ErrUnavailable)
		}
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

func (g *Group) backoff(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-g.stop:
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

// observe runs for every applied entry: heartbeats feed the controller,
// and watchers wake up.
func (g *Group) observe(_ uint64, c region.Command, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil && c.Kind == region.KindHeartbeat && g.ctrl != nil {
		g.ctrl.Heartbeat(c.Member, time.Since(g.start))
	}
	close(g.changed)
	g.changed = make(chan struct{})
	switch c.Kind {
	case region.KindHeartbeat, region.KindPutKV, region.KindDeleteKV, region.KindDeletePrefix:
	default:
		close(g.membersChanged)
		g.membersChanged = make(chan struct{})
	}
}

// Close stops the loops and the node's replica (its data stays).
func (g *Group) Close() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	g.wg.Wait()
	g.nh.Close()
}
