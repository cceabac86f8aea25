package meta

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

// heartbeats registers the node (until its registration in this life is
// applied), then proposes a heartbeat every HeartbeatInterval.
func (g *Group) heartbeats() {
	defer g.wg.Done()
	tick := time.NewTicker(g.cfg.HeartbeatInterval)
	defer tick.Stop()
	registered, removedSaid := false, false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.HeartbeatInterval)
		if !registered {
			err := g.Propose(ctx, region.Command{Kind: region.KindRegisterNode, Member: g.self, Addrs: g.cfg.Addrs, RaftReplica: g.id.ReplicaID})
			registered = err == nil
			switch {
			case err != nil && strings.Contains(err.Error(), region.ErrRemoved.Error()):
				if !removedSaid {
					removedSaid = true
					g.log.Warn("this node was removed from its region (causeway node remove): it serves nothing of the region; stop it, or start it with an empty data directory to join again")
				}
			case err != nil && !errors.Is(err, ErrUnavailable):
				g.log.Warn("region registration refused", zap.Error(err))
			}
		} else if err := g.Propose(ctx, region.Command{Kind: region.KindHeartbeat, Member: g.self}); errors.Is(err, ErrRefused) {
			registered = false // the region knows another life of this node
		}
		cancel()
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
	}
}

// controlLoop runs the controller while this node leads the group, and
// keeps the group's Raft membership in step with the region's nodes.
func (g *Group) controlLoop() {
	defer g.wg.Done()
	tick := time.NewTicker(g.cfg.ControllerInterval)
	defer tick.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
		if !g.voter.Load() {
			g.notePromotion()
		}
		if !g.Leading() {
			g.mu.Lock()
			g.ctrl = nil
			g.mu.Unlock()
			continue
		}
		now := time.Since(g.start)
		g.mu.Lock()
		if g.ctrl == nil {
			g.ctrl = region.NewController(region.ControllerConfig{SessionTimeout: g.cfg.SessionTimeout, ReplaceAfter: g.cfg.ReplaceAfter}, now)
		}
		cmds := g.ctrl.Decide(g.Local(), now)
		g.mu.Unlock()
		for _, c := range cmds {
			ctx, cancel := context.WithTimeout(context.Background(), g.cfg.ControllerInterval*4)
			if err := g.Propose(ctx, c); err != nil && !errors.Is(err, ErrRefused) {
				g.log.Debug("controller proposal failed", zap.Stringer("kind", c.Kind), zap.Error(err))
			} else if err == nil && c.Kind != region.KindHeartbeat {
				g.log.Info("controller", zap.Stringer("kind", c.Kind), zap.Uint64("node", uint64(c.Member.Node)), zap.String("unit", string(c.Unit)))
			}
			cancel()
		}
		g.tidyMembership()
	}
}

// tidyMembership promotes a non-voting replica of a registered node (one
// that has caught up with the log far enough to register) while the group
// has fewer than MaxVoters, one change per call. (Replicas of a node's
// earlier life are removed when it joins again: Handler.)
func (g *Group) tidyMembership() {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.RequestTimeout)
	defer cancel()
	m, err := g.nh.SyncGetShardMembership(ctx, ShardID)
	if err != nil || len(m.Nodes) >= g.cfg.MaxVoters {
		return
	}
	registered := map[uint64]bool{}
	for _, n := range g.Local().Nodes {
		registered[n.RaftReplica] = true
	}
	for replica, addr := range m.NonVotings {
		if registered[replica] {
			g.changeMembership("promote to voter", replica, func() error {
				return g.nh.SyncRequestAddReplica(ctx, ShardID, replica, addr, m.ConfigChangeID)
			})
			return
		}
	}
}

func (g *Group) changeMembership(what string, replica uint64, do func() error) {
	if err := do(); err != nil {
		g.log.Debug("raft membership change failed", zap.String("change", what), zap.Uint64("replica", replica), zap.Error(err))
		return
	}
	g.log.Info("raft membership changed", zap.String("change", what), zap.Uint64("replica", replica))
}

// notePromotion records in the node's identity that its replica became a
// voter, so a restart starts it as one. (A crash between the promotion and
// this note restarts it as non-voting: it then does not vote until the
// promotion entry is applied again, or an operator restarts it.)
func (g *Group) notePromotion() {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.RequestTimeout)
	defer cancel()
	m, err := g.nh.SyncGetShardMembership(ctx, ShardID)
	if err != nil {
		return
	}
	if _, ok := m.Nodes[g.id.ReplicaID]; !ok {
		return
	}
	id := g.id
	id.Voter = true
	if err := saveIdentity(g.cfg.DataDir, id); err != nil {
		g.log.Warn("cannot note the promotion to voter", zap.Error(err))
		return
	}
	g.voter.Store(true)
}
