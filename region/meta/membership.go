package meta

import (
	"context"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

// Growing and shrinking a region: an operator drains a node (the
// controller moves every replica it holds to other nodes: grow on
// another node, wait until the new replica is in sync, then shrink), then
// removes it, which the state refuses while the node still holds a
// replica; its Raft replica then leaves the metadata group (a voter's
// place goes to a non-voting replica of a registered node, tidyMembership).

// Drain marks node id draining: it keeps serving what it holds while the
// controller moves its replicas away. Draining a draining node is a no-op.
func (g *Group) Drain(ctx context.Context, id region.NodeID) error {
	if err := g.Propose(ctx, region.Command{Kind: region.KindDrainNode, Member: region.Member{Node: id}}); err != nil {
		return fmt.Errorf("meta: drain node %d: %w", id, err)
	}
	return nil
}

// Remove takes node id out of the region: refused (ErrRefused wrapping
// region.ErrNodeBusy) while it holds a replica of a unit; then its replica
// of the metadata group is removed from the group's membership.
func (g *Group) Remove(ctx context.Context, id region.NodeID) error {
	st, err := g.State(ctx)
	if err != nil {
		return err
	}
	n, ok := st.Nodes[id]
	if !ok {
		return fmt.Errorf("meta: remove node %d: %w", id, region.ErrUnknownNode)
	}
	for _, u := range st.Units {
		if slices.Contains(u.Replicas, id) {
			return fmt.Errorf("meta: remove node %d: %w: %w: it holds %s (drain it first)", id, ErrRefused, region.ErrNodeBusy, u.ID)
		}
	}
	if id == g.self.Node {
		return fmt.Errorf("meta: remove node %d: %w: a node does not remove itself; ask another node of the region", id, region.ErrInvalid)
	}
	if err := g.Propose(ctx, region.Command{Kind: region.KindRemoveNode, Member: region.Member{Node: id}}); err != nil {
		return fmt.Errorf("meta: remove node %d: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.RequestTimeout)
	defer cancel()
	m, err := g.nh.SyncGetShardMembership(ctx, ShardID)
	if err != nil {
		return fmt.Errorf("meta: node %d removed from the region; its metadata replica %d: read the membership: %w", id, n.RaftReplica, err)
	}
	_, voting := m.Nodes[n.RaftReplica]
	_, nonVoting := m.NonVotings[n.RaftReplica]
	if !voting && !nonVoting {
		return nil
	}
	if err := g.nh.SyncRequestDeleteReplica(ctx, ShardID, n.RaftReplica, m.ConfigChangeID); err != nil {
		return fmt.Errorf("meta: node %d removed from the region; remove its metadata replica %d: %w (retry the removal)", id, n.RaftReplica, err)
	}
	g.log.Info("node removed from the region", zap.Uint64("node", uint64(id)), zap.Uint64("replica", n.RaftReplica))
	return nil
}
