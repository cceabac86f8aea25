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
// caught up, and puts preferred leaders back. The units of a co-location
// group move as one (moveSet): decided on the group's first unit, the same
// list proposed for every unit of it.
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
	sets := moveSets(s)
	for _, set := range sets {
		factor := set.first().Factor
		all := set.union()
		if len(all) > factor {
			// Shrink once every replica that stays is in sync on every
			// unit (the new ones caught up), dropping those that leave and
			// then the most loaded; a unit that lacks a replica that stays
			// (its grow was refused, or it joined the group late) grows
			// first.
			keep := slices.DeleteFunc(slices.Clone(all), gone)
			if len(keep) >= factor && !slices.ContainsFunc(keep, func(r NodeID) bool { return !set.inSync(r) }) {
				keep = trimOverloaded(keep, factor, ld)
				out = append(out, set.reassign(keep, 0)...)
			} else {
				out = append(out, set.catchUp(keep)...)
			}
			continue
		}
		if !set.aligned() {
			// Same nodes (or fewer) in another order: take the first's.
			out = append(out, set.reassign(all, 0)...)
			continue
		}
		if !c.room(moving, len(set.units)) {
			continue
		}
		var leaving NodeID
		for _, r := range all {
			if gone(r) {
				leaving = r
				break
			}
		}
		if leaving == 0 {
			continue
		}
		target := leastLoaded(active, all, ld)
		if target == 0 {
			continue
		}
		out = append(out, set.reassign(append(all, target), 0)...)
		ld.replicas[target] += len(set.units)
		moving += len(set.units)
	}
	out = append(out, c.rebalance(sets, active, ld, moving)...)
	return append(out, leaders(s, sets)...)
}

// room reports whether a set of n units may start moving while moving
// units are: within MaxMoves, or alone (a group larger than MaxMoves).
func (c *Controller) room(moving, n int) bool {
	return moving == 0 || moving+n <= c.cfg.MaxMoves
}

// rebalance moves a set's replica from the most to the least loaded active
// node when that narrows their gap (it is more than the set's size: a node
// was added), within MaxMoves.
func (c *Controller) rebalance(sets []moveSet, active []NodeID, ld load, moving int) []Command {
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
	gap := ld.replicas[most] - ld.replicas[least]
	for _, set := range sets {
		u := set.first()
		if gap <= len(set.units) || !c.room(moving, len(set.units)) || !set.aligned() || len(u.Replicas) != u.Factor {
			continue
		}
		if slices.Contains(u.Replicas, most) && !slices.Contains(u.Replicas, least) {
			return set.reassign(append(slices.Clone(u.Replicas), least), 0)
		}
	}
	return nil
}

// leaders puts preferred leaders back, and a co-location group whose
// units have different leaders (an election picked different in-sync
// replicas) back under one: its first replica if it is in sync on every
// unit, else the first unit's leader, else the first replica in sync on
// every unit, moved to the head of every unit's list (one order for all).
func leaders(s *State, sets []moveSet) []Command {
	var out []Command
	for _, set := range sets {
		u := set.first()
		if len(u.Replicas) == 0 || !set.aligned() {
			continue
		}
		ready := func(id NodeID) bool {
			n := s.Nodes[id]
			return n != nil && n.Status == NodeActive && set.inSync(id)
		}
		leader, one := set.leader()
		var head NodeID
		switch {
		case one && (leader == u.Replicas[0] || len(u.Replicas) > u.Factor):
			continue // preferred, or wait for the move to end
		case ready(u.Replicas[0]):
			head = u.Replicas[0]
		case one:
			continue
		case leader != 0 && ready(leader):
			head = leader
		default:
			i := slices.IndexFunc(u.Replicas, ready)
			if i < 0 {
				continue // wait for a replica to catch up everywhere
			}
			head = u.Replicas[i]
		}
		order := append([]NodeID{head}, slices.DeleteFunc(slices.Clone(u.Replicas), func(r NodeID) bool { return r == head })...)
		out = append(out, set.reassign(order, head)...)
	}
	return out
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
