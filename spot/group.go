package spot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway/causeway/internal/dblog"
	"github.com/causeway/causeway/internal/pebblekv"
	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/config"
	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"
)

// shardID is the dragonboat shard of a region's SPOT group. One group per
// region serves every SPOT collection homed there, so a transaction over
// several of them is one Raft entry.
const shardID = 1

// Backoff between retries of one request.
const (
	minRetryBackoff = 5 * time.Millisecond
	maxRetryBackoff = 100 * time.Millisecond
)

// group runs this node's replicas of the region's SPOT group and sends
// proposals and linearizable reads through them, retrying leader changes
// and a missing quorum until Config.RetryTimeout.
type group struct {
	cfg       Config
	log       *zap.Logger
	onChanges func([]Change)

	mu       sync.Mutex
	replicas []*replica // by ID
	closed   bool

	next atomic.Uint64 // round robin over running replicas
}

// replica is one local member of the group.
type replica struct {
	cfg ReplicaConfig
	dir string
	nh  *dragonboat.NodeHost // nil while stopped
}

// startGroup starts every local replica.
func startGroup(cfg Config, log *zap.Logger, onChanges func([]Change)) (*group, error) {
	dblog.Route(log)
	g := &group{cfg: cfg, log: log, onChanges: onChanges}
	for _, rc := range cfg.Replicas {
		g.replicas = append(g.replicas, &replica{cfg: rc, dir: filepath.Join(cfg.DataDir, "replica-"+strconv.FormatUint(rc.ID, 10))})
	}
	slices.SortFunc(g.replicas, func(a, b *replica) int { return int(a.cfg.ID) - int(b.cfg.ID) })
	for _, r := range g.replicas {
		if err := g.start(r); err != nil {
			g.close()
			return nil, err
		}
	}
	return g, nil
}

// deploymentID keeps the groups of different regions from talking to each
// other by mistake.
func deploymentID(region string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("causeway-spot/" + region))
	return h.Sum64()
}

func (g *group) start(r *replica) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("spot: replica %d: %w", r.cfg.ID, err)
	}
	logDB := config.GetTinyMemLogDBConfig()
	logDB.Shards = 1
	nh, err := dragonboat.NewNodeHost(config.NodeHostConfig{
		DeploymentID:   deploymentID(g.cfg.Region),
		NodeHostDir:    filepath.Join(r.dir, "raft"),
		RTTMillisecond: g.cfg.RTTMillisecond,
		RaftAddress:    r.cfg.RaftAddress,
		Expert: config.ExpertConfig{
			LogDB:  logDB,
			Engine: config.EngineConfig{ExecShards: 1, CommitShards: 1, ApplyShards: 1, SnapshotShards: 1, CloseShards: 1},
		},
	})
	if err != nil {
		return fmt.Errorf("spot: replica %d: start node host on %s: %w", r.cfg.ID, r.cfg.RaftAddress, err)
	}
	members := map[uint64]dragonboat.Target{}
	for id, addr := range g.cfg.Members {
		members[id] = addr
	}
	log := g.log.With(zap.Uint64("replica", r.cfg.ID))
	create := func(uint64, uint64) sm.IOnDiskStateMachine {
		return newStateMachine(filepath.Join(r.dir, "state"), g.cfg.Region, log, g.onChanges)
	}
	err = nh.StartOnDiskReplica(members, false, create, config.Config{
		ReplicaID:          r.cfg.ID,
		ShardID:            shardID,
		ElectionRTT:        g.cfg.ElectionRTT,
		HeartbeatRTT:       g.cfg.HeartbeatRTT,
		CheckQuorum:        true,
		PreVote:            true,
		SnapshotEntries:    g.cfg.SnapshotEntries,
		CompactionOverhead: g.cfg.CompactionOverhead,
		MaxInMemLogSize:    256 << 20,
	})
	if err != nil {
		nh.Close()
		return fmt.Errorf("spot: replica %d: start: %w", r.cfg.ID, err)
	}
	g.mu.Lock()
	r.nh = nh
	g.mu.Unlock()
	log.Info("SPOT replica started", zap.String("raft", r.cfg.RaftAddress), zap.Int("members", len(members)))
	return nil
}

func (g *group) replica(id uint64) (*replica, error) {
	for _, r := range g.replicas {
		if r.cfg.ID == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: no local replica %d", ErrBadRequest, id)
}

// stopReplica stops a local replica (its node host closes; its data
// stays). The others keep serving while a quorum remains.
func (g *group) stopReplica(id uint64) error {
	r, err := g.replica(id)
	if err != nil {
		return err
	}
	g.mu.Lock()
	nh := r.nh
	r.nh = nil
	g.mu.Unlock()
	if nh == nil {
		return nil
	}
	nh.Close()
	g.log.Info("SPOT replica stopped", zap.Uint64("replica", id))
	return nil
}

// restartReplica starts a stopped local replica on its data: it catches up
// from the leader by log, or by snapshot when it fell too far behind.
func (g *group) restartReplica(id uint64) error {
	r, err := g.replica(id)
	if err != nil {
		return err
	}
	g.mu.Lock()
	running, closed := r.nh != nil, g.closed
	g.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if running {
		return nil
	}
	return g.start(r)
}

func (g *group) close() {
	g.mu.Lock()
	g.closed = true
	var hosts []*dragonboat.NodeHost
	for _, r := range g.replicas {
		if r.nh != nil {
			hosts = append(hosts, r.nh)
			r.nh = nil
		}
	}
	g.mu.Unlock()
	for _, nh := range hosts {
		nh.Close()
	}
}

// running reports whether a local replica runs.
func (g *group) running() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.replicas {
		if r.nh != nil {
			return true
		}
	}
	return false
}

// hosts returns the running node hosts, the leader's first when it is
// local, then round robin.
func (g *group) hosts() []*dragonboat.NodeHost {
	type running struct {
		id uint64
		nh *dragonboat.NodeHost
	}
	g.mu.Lock()
	var up []running
	for _, r := range g.replicas {
		if r.nh != nil {
			up = append(up, running{r.cfg.ID, r.nh})
		}
	}
	g.mu.Unlock()
	if len(up) == 0 {
		return nil
	}
	out := make([]*dragonboat.NodeHost, 0, len(up))
	if leader, _, ok, err := up[0].nh.GetLeaderID(shardID); err == nil && ok {
		for _, r := range up {
			if r.id == leader {
				out = append(out, r.nh)
			}
		}
	}
	start := int(g.next.Add(1) % uint64(len(up)))
	for i := range up {
		r := up[(start+i)%len(up)]
		if len(out) > 0 && out[0] == r.nh {
			continue
		}
		out = append(out, r.nh)
	}
	return out
}

// retryable reports errors that a later try (or another replica) may not
// have: leader changes, no quorum yet, a stopped replica, an attempt left
// less time than one Raft tick near the deadline (refused unsent: the
// request then ends unavailable, 503, not as an internal error).
func retryable(err error) bool {
	return errors.Is(err, dragonboat.ErrTimeout) || errors.Is(err, dragonboat.ErrShardNotReady) ||
		errors.Is(err, dragonboat.ErrTimeoutTooSmall) ||
		errors.Is(err, dragonboat.ErrSystemBusy) || errors.Is(err, dragonboat.ErrShardClosed) ||
		errors.Is(err, dragonboat.ErrShardNotFound) || errors.Is(err, dragonboat.ErrClosed) ||
		errors.Is(err, dragonboat.ErrAborted) || errors.Is(err, dragonboat.ErrShardNotInitialized) ||
		errors.Is(err, dragonboat.ErrCanceled) || errors.Is(err, ErrClosed)
}

// ambiguous reports errors after which a proposal may still be applied.
func ambiguous(err error) bool {
	return errors.Is(err, dragonboat.ErrTimeout) || errors.Is(err, dragonboat.ErrAborted) ||
		errors.Is(err, dragonboat.ErrCanceled) || errors.Is(err, context.DeadlineExceeded)
}

// do runs try on running replicas until it succeeds, fails for good, or
// RetryTimeout (or ctx) runs out; it then answers ErrUnavailable. write
// says whether try proposes (the answer then says whether the proposal
// may have been applied).
func (g *group) do(ctx context.Context, write bool, try func(ctx context.Context, nh *dragonboat.NodeHost) error) error {
	deadline := time.Now().Add(g.cfg.RetryTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	backoff := minRetryBackoff
	var last error
	maybeApplied := false
	for {
		for _, nh := range g.hosts() {
			remaining := time.Until(deadline)
			if remaining <= 0 {
				break
			}
			actx, cancel := context.WithTimeout(ctx, min(remaining, g.cfg.AttemptTimeout))
			err := try(actx, nh)
			cancel()
			if err == nil || !retryable(err) {
				return err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
			}
			maybeApplied = maybeApplied || ambiguous(err)
			last = err
		}
		if last == nil {
			last = errors.New("no local replica is running")
		}
		wait := min(backoff, time.Until(deadline))
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
	return fmt.Errorf("%w: the SPOT group of %s has no quorum (%s; last error: %v)", ErrUnavailable, g.cfg.Region, unservedOutcome(write, maybeApplied), last)
}

// unservedOutcome says what became of a request the group could not serve:
// a read was not served; a write was not applied, unless an attempt ended
// ambiguously (timed out or aborted after reaching a replica), when it may
// have been: the client must then retry under the same request id.
func unservedOutcome(write, maybeApplied bool) string {
	switch {
	case !write:
		return "the read was not served"
	case maybeApplied:
		return "the write may or may not have been applied"
	default:
		return "the write was not applied"
	}
}

// propose commits cmd and returns its outcome.
func (g *group) propose(ctx context.Context, cmd []byte) (*outcome, error) {
	if err := pebblekv.SpaceError(g.cfg.DiskFS, g.cfg.DataDir, g.cfg.ReserveBytes); err != nil {
		return nil, fmt.Errorf("%w: SPOT writes refused: %w", ErrUnavailable, err)
	}
	var res sm.Result
	err := g.do(ctx, true, func(ctx context.Context, nh *dragonboat.NodeHost) error {
		var err error
		res, err = nh.SyncPropose(ctx, nh.GetNoOPSession(shardID), cmd)
		return err
	})
	if err != nil {
		return nil, err
	}
	return decodeOutcome(res.Data)
}

// read runs a linearizable read (dragonboat's ReadIndex, then Lookup).
func (g *group) read(ctx context.Context, q any) (any, error) {
	var v any
	err := g.do(ctx, false, func(ctx context.Context, nh *dragonboat.NodeHost) error {
		var err error
		v, err = nh.SyncRead(ctx, shardID, q)
		return err
	})
	return v, err
}

// replicaState reads a local replica's own state (no read index: what that
// replica has applied).
func (g *group) replicaState(id uint64) (ReplicaState, error) {
	r, err := g.replica(id)
	if err != nil {
		return ReplicaState{}, err
	}
	g.mu.Lock()
	nh := r.nh
	g.mu.Unlock()
	if nh == nil {
		return ReplicaState{}, fmt.Errorf("%w: replica %d is stopped", ErrUnavailable, id)
	}
	v, err := nh.StaleRead(shardID, stateQuery{})
	if err != nil {
		return ReplicaState{}, fmt.Errorf("spot: replica %d state: %w", id, err)
	}
	return v.(ReplicaState), nil
}

// leader returns the group's leader as a local replica sees it (0: none
// known).
func (g *group) leader() uint64 {
	for _, nh := range g.hosts() {
		if id, _, ok, err := nh.GetLeaderID(shardID); err == nil && ok {
			return id
		}
	}
	return 0
}

// transferLeader asks the group's leader, through a local replica, to hand
// the lead to member id (dragonboat's leader transfer: it happens once id's
// log has caught up, or not at all; watch leader to know).
func (g *group) transferLeader(id uint64) error {
	if _, ok := g.cfg.Members[id]; !ok {
		return fmt.Errorf("%w: replica %d is not a member of the group", ErrBadRequest, id)
	}
	var last error = fmt.Errorf("%w: no local replica is running", ErrUnavailable)
	for _, nh := range g.hosts() {
		if last = nh.RequestLeaderTransfer(shardID, id); last == nil {
			return nil
		}
	}
	return fmt.Errorf("spot: transfer the lead to replica %d: %w", id, last)
}
