package replicator

import "time"

// A region that starts with nothing may be new, or may be an old region
// whose disk was wiped: its peers then hold ops it created in its previous
// life, and a new op numbered like one of them would be taken for a
// duplicate everywhere (and the two lives would diverge). So a region that
// starts with an empty Restore joins before it creates anything:
//
//   - it waits to hear a full ack from every non-evicted peer, or for
//     JoinTimeout since its first Tick, whichever comes first;
//   - a peer that advertises more of this region's origin than it has is
//     answered as any lagging peer is: its peers send those ops back (see
//     scheduleSends), and this region delivers them as Recovered ops, in
//     causal order like remote ones;
//   - once it has delivered everything of its own origin any peer
//     advertised, it stops joining and Publish continues the sequence.
//
// A new fabric starting together joins in one round trip. A peer that does
// not answer within JoinTimeout and holds ops of this region nobody else
// has (the wipe came right after it received them) is the one case that
// still collides; its acks are then refused with ErrFutureDot and counted.

// joinState is what a joining region tracks.
type joinState struct {
	active bool
	// started is the time of the first Tick.
	started time.Time
	// heard[i] is set once peer i's full ack arrived.
	heard []bool
	// ownHigh is the most of this region's own ops any peer advertised.
	ownHigh uint64
}

// Joining reports whether the region is still joining: it started with
// nothing and has not yet heard from every peer (or waited JoinTimeout) and
// got back every op of its own origin they hold. Publish refuses
// (ErrJoining) until then.
func (e *Engine) Joining() bool { return e.join.active }

// checkJoined ends the join when its conditions hold at time now.
func (e *Engine) checkJoined(now time.Time) {
	j := &e.join
	if !j.active {
		return
	}
	if j.started.IsZero() {
		j.started = now
	}
	if e.delivered[e.self] < j.ownHigh {
		return
	}
	if now.Sub(j.started) >= e.cfg.JoinTimeout {
		j.active = false
		return
	}
	for i, p := range e.peers {
		if p != nil && !e.evicted[i] && !j.heard[i] {
			return
		}
	}
	j.active = false
}
