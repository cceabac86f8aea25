package replicator

import "time"

// A region that starts with nothing may be new, or may be an old region
// whose disk was wiped: its peers then hold ops it created in its previous
// life, and a new op numbered like one of them would be taken for a
// duplicate everywhere (and the two lives would diverge). So a region that
// starts with an empty Restore joins before it creates anything:
//
//   - its acks say Joining, and Asking while the region has not counted
//     the receiver's answer. A peer that receives one drops the ops of the
//     joining origin it buffered past what the joining region advertises
//     of itself (received, never delivered there: a previous life's that
//     only a buffer held), then answers (at once if asked) with a full ack
//     that says SeenJoining and echoes the Joining ack's stamp (Answers);
//   - it waits for such a full ack from every non-evicted peer, or for
//     JoinTimeout since its first Tick, whichever comes first. A full ack
//     sent before the peer saw it joining does not count: the peer could
//     deliver more of this region's old ops from its buffer afterwards,
//     which this region would then number again. Nor does one answering a
//     Joining ack sent before the region last asked again. It asks again (askAgain) when a peer's fresh
//     Joining full ack (the peer was wiped) withdraws own ops it had
//     advertised and this region lacks: a peer that answered earlier may
//     have got them from it since (buffered, or delivered and not
//     advertised here yet), so every peer must answer anew;
//   - a peer that advertises more of this region's origin than it has is
//     answered as any lagging peer is: its peers send those ops back (see
//     scheduleSends), and this region delivers them as Recovered ops, in
//     causal order like remote ones;
//   - once it has delivered everything of its own origin its peers
//     advertise now (a peer wiped since lowers what it advertised, see
//     regress), it stops joining and Publish continues the sequence.
//
// After every peer answered SeenJoining, no region delivers an old op of
// this origin that this region did not recover: a delivery after a peer's
// answer comes from its buffer (emptied of them) or from a region that
// delivered the op before, whose answer advertised it; if that region lost
// its disk since, the answers before its new life's first full ack are
// void. A new fabric starting together joins in one round trip more than
// before; a peer's wipe costs the joining region one round trip more. A
// peer that does not answer within JoinTimeout and holds ops of this
// region nobody else has (the wipe came right after it received them) is
// the one case that still collides; its acks are then refused with
// ErrFutureDot and counted. A stamped answer without Answers (a peer older
// than Answers) never counts: the region then joins at JoinTimeout.

// joinState is what a joining region tracks.
type joinState struct {
	active bool
	// started is the time of the first Tick.
	started time.Time
	// heard[i] is set once peer i's full ack arrived (peer i then gets
	// its own origin's ops from this region like any lagging peer).
	heard []bool
	// seen[i] is set once peer i's full ack with SeenJoining arrived.
	seen []bool
	// own[i] is the most of this region's own ops peer i advertised since
	// it last said it was joining itself (then it lost its disk, or is
	// new: what it advertised before is gone with it). A full ack that
	// goes back otherwise does not lower it: acks are reordered, and a
	// stale one would make this region join without ops the peer holds.
	own []uint64
	// since is this region's HLC when it last needed every peer to answer
	// again: at the first Tick, and whenever a peer's fresh Joining full
	// ack lowered what it advertised of this region's ops below what it
	// advertised before and past what this region has (see askAgain). An
	// answer counts only if it echoes (Ack.Answers) a Joining ack stamped
	// after since.
	since Timestamp
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
		j.since = e.clock.Now(now.UnixNano())
	}
	if e.delivered[e.self] < e.ownHigh() {
		return
	}
	if now.Sub(j.started) >= e.cfg.JoinTimeout {
		j.active = false
		return
	}
	for i, p := range e.peers {
		if p != nil && !e.evicted[i] && !j.seen[i] {
			return
		}
	}
	j.active = false
}

// ownHigh is the most of this region's own ops its peers advertised (own).
// Not the most ever advertised: a peer that was wiped since lost them, and
// waiting for them would be waiting forever (simulator seed 49262). An
// evicted peer's last advertisement counts: what it relayed before it went
// may still be delivered elsewhere (seed 11045).
func (e *Engine) ownHigh() uint64 {
	var high uint64
	for _, v := range e.join.own {
		high = max(high, v)
	}
	return high
}

// noteOwn records what peer i's ack a advertises of this region's ops; a
// fresh full ack of a joining peer replaces what it advertised before.
func (e *Engine) noteOwn(now time.Time, i int, a Ack, fresh bool) {
	var adv uint64
	for _, d := range a.Delivered {
		if d.Region == e.cfg.Self {
			adv = d.Seq
		}
	}
	if a.Joining && a.Full && fresh {
		if old := e.join.own[i]; old > adv && old > e.delivered[e.self] && e.join.active {
			e.askAgain(now)
		}
		e.join.own[i] = adv
		return
	}
	e.join.own[i] = max(e.join.own[i], adv)
}

// askAgain makes every peer's answer count again only if it comes after
// now. A peer that lost its disk no longer holds the ops of this region
// it advertised, but before it lost them it may have sent them to another
// peer after that peer answered: delivered there and not advertised here
// yet, or buffered there (storm seeds 6997 and 19609: the only copies left
// were in such a peer, which delivered them after this region joined
// without them and numbered new ops the same). A peer answering a Joining
// ack sent after now has dropped such buffered copies or advertises them.
func (e *Engine) askAgain(now time.Time) {
	e.join.since = e.clock.Now(now.UnixNano())
	clear(e.join.seen)
	for _, p := range e.peers {
		if p != nil {
			p.forceFullAck = true
		}
	}
}

// answers reports whether a (a full ack saying SeenJoining) answers a
// Joining ack this region sent after it last asked again. An unstamped
// ack (an older sender) is taken at its word.
func (e *Engine) answers(a Ack) bool {
	if a.Stamp.IsZero() {
		return true
	}
	return !e.join.since.IsZero() && a.Answers.Compare(e.join.since) > 0
}
