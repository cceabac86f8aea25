package sim

import (
	"slices"
	"time"

	core "github.com/causeway/causeway/region"
)

// crashNode takes a node down until until; it keeps its disk.
func (c *cluster) crashNode(n *node, until time.Time) {
	if !n.up {
		return
	}
	c.stopLeading(n)
	n.up, n.downUntil = false, until
	n.follow, n.fetching = nil, false
}

// wipeNode crashes a node and loses its disk: it comes back with a new
// incarnation and copies the journal again.
func (c *cluster) wipeNode(n *node, until time.Time) {
	c.crashNode(n, until)
	n.inc = c.r.w.rng.Uint64() | 1
	n.log, n.hw, n.checked = newNodeLog(), 0, 0
	n.state = core.NewState()
	c.recovering = n.id
}

func (c *cluster) restartNode(n *node) {
	n.up = true
	n.quorateAt = c.r.w.now
	c.r.w.trace("%s/n%d restarts (journal end %d)", c.r.name, n.id, n.log.End())
}

// fault injects at most one in-region fault: a node crash (half the time
// the journal's leader), a wiped disk (one at a time), a partition (half
// the time isolating the leader) or a heal.
func (c *cluster) fault() {
	w := c.r.w
	x := w.rng.Float64()
	pick := func() *node {
		if l := c.leaderNode(); l != nil && w.rng.IntN(2) == 0 {
			return l
		}
		return c.nodes[w.rng.IntN(len(c.nodes))]
	}
	switch {
	case x < 0.004:
		n := pick()
		if n.up {
			c.crashNode(n, w.now.Add(time.Duration(w.rng.Int64N(int64(nodeDownMax)))))
			w.res.NodeCrashes++
			w.trace("%s/n%d crashes until %s", c.r.name, n.id, n.downUntil.Sub(epoch))
		}
	case x < 0.0055:
		n := pick()
		if c.recovered() {
			c.wipeNode(n, w.now.Add(time.Duration(w.rng.Int64N(int64(nodeDownMax)))))
			w.res.NodeWipes++
			w.trace("%s/n%d loses its disk, down until %s", c.r.name, n.id, n.downUntil.Sub(epoch))
		}
	case x < 0.008:
		l := c.leaderNode()
		if l != nil && w.rng.IntN(2) == 0 {
			for _, n := range c.nodes {
				n.side = 0
			}
			l.side = 1
		} else {
			for _, n := range c.nodes {
				n.side = w.rng.IntN(2)
			}
		}
		w.res.RegionPartitions++
		sides := make([]int, len(c.nodes))
		for i, n := range c.nodes {
			sides[i] = n.side
		}
		w.trace("%s: in-region partition, sides %v", c.r.name, sides)
	case x < 0.012:
		c.healLAN()
	}
}

func (c *cluster) healLAN() {
	for _, n := range c.nodes {
		n.side = 0
	}
	c.r.w.trace("%s: in-region heal", c.r.name)
}

// recovered reports whether the node that lost its disk last is back: in
// the journal's in-sync set in its new incarnation, or not one of its
// replicas (with more nodes than the factor).
func (c *cluster) recovered() bool {
	if c.recovering == 0 {
		return true
	}
	n := c.node(c.recovering)
	u := c.truth.Units[journalUnit]
	return u == nil || !slices.Contains(u.Replicas, n.id) || slices.Contains(u.InSync, n.member())
}

// crashAll takes every node down (the region's power fails).
func (c *cluster) crashAll(until time.Time) {
	for _, n := range c.nodes {
		c.crashNode(n, until)
	}
}

// restartAll brings every node up.
func (c *cluster) restartAll() {
	for _, n := range c.nodes {
		if !n.up {
			c.restartNode(n)
		}
	}
}
