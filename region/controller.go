package region

import (
	"slices"
	"time"
)

// ControllerConfig tunes the controller's decisions.
type ControllerConfig struct {
	// SessionTimeout: a node whose heartbeats stop for this long is fenced.
	SessionTimeout time.Duration
	// ReplaceAfter: replicas on a node fenced for this long are rebuilt on
	// other nodes (if the region has room).
	ReplaceAfter time.Duration
	// MaxMoves bounds the units being moved at once (grown past their
	// factor), so rebalancing never floods the region.
	MaxMoves int
}

// Controller is the region's decision maker, run by the node that leads the
// metadata Raft group. It is pure: heartbeats and time go in, proposals
// come out. Its memory (who was heard when) is not replicated: a new
// controller starts by giving every node a full session.
type Controller struct {
	cfg   ControllerConfig
	start time.Duration
	heard map[NodeID]heartbeat
	// fencedSince is when the controller first saw each node fenced.
	fencedSince map[NodeID]time.Duration
}

type heartbeat struct {
	incarnation uint64
	at          time.Duration
}

// NewController starts a controller at now.
func NewController(cfg ControllerConfig, now time.Duration) *Controller {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 3 * time.Second
	}
	if cfg.ReplaceAfter <= 0 {
		cfg.ReplaceAfter = 5 * time.Minute
	}
	if cfg.MaxMoves <= 0 {
		cfg.MaxMoves = 4
	}
	return &Controller{cfg: cfg, start: now, heard: map[NodeID]heartbeat{}, fencedSince: map[NodeID]time.Duration{}}
}

// Heartbeat records that m is alive at now.
func (c *Controller) Heartbeat(m Member, now time.Duration) {
	c.heard[m.Node] = heartbeat{incarnation: m.Incarnation, at: now}
}

// alive reports whether n has a live session in its current incarnation.
func (c *Controller) alive(n *Node, now time.Duration) bool {
	h, ok := c.heard[n.ID]
	if !ok || h.incarnation != n.Incarnation {
		return now-c.start < c.cfg.SessionTimeout // a new controller gives everyone a session
	}
	return now-h.at < c.cfg.SessionTimeout
}

// Decide returns the commands the controller proposes now: fencing and
// unfencing, then replica moves (re-replication, draining, rebalancing)
// and preferred leaders. Apply re-checks every one against the state it
// meets, so proposing a command twice is harmless.
func (c *Controller) Decide(s *State, now time.Duration) []Command {
	var out []Command
	for _, id := range s.NodeIDs() {
		n := s.Nodes[id]
		m := Member{Node: id, Incarnation: n.Incarnation}
		live := c.alive(n, now)
		switch {
		case n.Status != NodeFenced && !live:
			out = append(out, Command{Kind: KindFenceNode, Member: m})
		case n.Status == NodeFenced && live && c.heard[id].incarnation == n.Incarnation && c.heard[id].at > c.start:
			out = append(out, Command{Kind: KindUnfenceNode, Member: m})
		}
		if n.Status == NodeFenced {
			if _, ok := c.fencedSince[id]; !ok {
				c.fencedSince[id] = now
			}
		} else {
			delete(c.fencedSince, id)
		}
	}
	if len(out) > 0 {
		return out // moves wait for the fencing to settle
	}
	return append(out, c.moves(s, now)...)
}

// moves grows units that need a replica elsewhere (a long-dead or draining
// node, or an unbalanced region), shrinks grown units whose new replicas
// caught up, and puts preferred leaders back.
func (c *Controller) moves(s *State, now time.Duration) []Command {
	var out []Command
	ld := loadOf(s)
	moving := 0
	for _, u := range s.Units {
		if len(u.Replicas) > u.Factor {
			moving++
		}
	}
	gone := func(id NodeID) bool {
		n := s.Nodes[id]
		if n == nil {
			return true
		}
		if n.Status == NodeDraining {
			return true
		}
		since, fenced := c.fencedSince[id]
		return n.Status == NodeFenced && fenced && now-since >= c.cfg.ReplaceAfter
	}
	active := []NodeID{}
	for _, id := range s.NodeIDs() {
		if s.Nodes[id].Status == NodeActive {
			active = append(active, id)
		}
	}
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if len(u.Replicas) > u.Factor {
			// Shrink once every replica that stays is in sync (the new ones
			// caught up), dropping those that leave and then the most loaded.
			keep := slices.DeleteFunc(slices.Clone(u.Replicas), gone)
			if len(keep) >= u.Factor && !slices.ContainsFunc(keep, func(r NodeID) bool { return !u.InSyncHas(r) }) {
				keep = trimOverloaded(keep, u.Factor, ld)
				out = append(out, Command{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: keep})
			}
			continue
		}
		if moving >= c.cfg.MaxMoves {
			continue
		}
		var leaving NodeID
		for _, r := range u.Replicas {
			if gone(r) {
				leaving = r
				break
			}
		}
		if leaving == 0 {
			continue
		}
		target := leastLoaded(active, u.Replicas, ld)
		if target == 0 {
			continue
		}
		out = append(out, Command{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: append(slices.Clone(u.Replicas), target)})
		ld.replicas[target]++
		moving++
	}
	out = append(out, c.rebalance(s, active, ld, moving)...)
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if len(u.Replicas) == 0 || u.Leader == u.Replicas[0] || len(u.Replicas) > u.Factor {
			continue
		}
		if first := s.Nodes[u.Replicas[0]]; first != nil && first.Status == NodeActive && u.InSyncHas(first.ID) {
			out = append(out, Command{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: u.Replicas})
		}
	}
	return out
}

// rebalance moves one replica from the most to the least loaded active node
// when they differ by more than one (a node was added), within MaxMoves.
func (c *Controller) rebalance(s *State, active []NodeID, ld load, moving int) []Command {
	if moving >= c.cfg.MaxMoves || len(active) < 2 {
		return nil
	}
	most, least := active[0], active[0]
	for _, id := range active {
		if ld.replicas[id] > ld.replicas[most] {
			most = id
		}
		if ld.replicas[id] < ld.replicas[least] {
			least = id
		}
	}
	if ld.replicas[most]-ld.replicas[least] <= 1 {
		return nil
	}
	for _, id := range s.unitIDs() {
		u := s.Units[id]
		if len(u.Replicas) == u.Factor && slices.Contains(u.Replicas, most) && !slices.Contains(u.Replicas, least) {
			return []Command{{Kind: KindReassign, Unit: u.ID, Epoch: u.Epoch, Replicas: append(slices.Clone(u.Replicas), least)}}
		}
	}
	return nil
}

// trimOverloaded drops the most loaded replicas (the last of equals) until
// factor remain.
func trimOverloaded(keep []NodeID, factor int, ld load) []NodeID {
	for len(keep) > factor {
		drop := 0
		for i, r := range keep {
			if ld.replicas[r] >= ld.replicas[keep[drop]] {
				drop = i
			}
		}
		ld.replicas[keep[drop]]--
		keep = slices.Delete(keep, drop, drop+1)
	}
	return keep
}

func leastLoaded(active, exclude []NodeID, ld load) NodeID {
	var best NodeID
	for _, id := range active {
		if slices.Contains(exclude, id) {
			continue
		}
		if best == 0 || ld.replicas[id] < ld.replicas[best] {
			best = id
		}
	}
	return best
}
