package replicator

import (
	"hash/fnv"
	"time"
)

// Tick advances the engine to physical time now: it schedules what to ship
// to each peer (its own ops, relayed ops, retransmissions) and the acks that
// are due. Call it often (every few milliseconds); the ops published or
// received between two ticks are shipped together, which is what makes
// batches.
func (e *Engine) Tick(now time.Time) {
	e.checkJoined(now)
	for i, p := range e.peers {
		if p == nil || !p.active || e.evicted[i] {
			continue
		}
		for o := range e.names {
			// A peer has all of its own ops, unless it lost them: once its
			// full ack says so, it gets them back like any lagging peer.
			if o != i || e.join.heard[i] {
				e.scheduleSends(now, i, p, o)
			}
		}
		e.scheduleAck(now, i, p)
	}
}

// scheduleSends decides what of origin o to ship to peer i.
func (e *Engine) scheduleSends(now time.Time, i int, p *peer, o int) {
	if o != e.self {
		// Relay: only when the peer lags behind us on o and has not advanced
		// for RelayDelay; keep going until it has caught up with us.
		if e.delivered[o] <= p.acked[o] {
			p.relaying[o] = false
			p.lagSince[o] = now
			return
		}
		if !p.relaying[o] {
			if p.lagSince[o].IsZero() {
				p.lagSince[o] = now
			}
			if now.Sub(p.lagSince[o]) < e.relayDelay(i, o) {
				return
			}
			p.relaying[o] = true
			p.sent[o] = p.acked[o]
			p.lastProgress[o] = now
		}
	}
	if p.sent[o] < p.acked[o] {
		p.sent[o] = p.acked[o]
	}
	if p.sent[o] > p.acked[o] && now.Sub(p.lastProgress[o]) >= p.rto[o] {
		// Go-back-N: nothing acked for a whole timeout; resend from the ack.
		p.sent[o] = p.acked[o]
		p.rto[o] = min(2*p.rto[o], e.cfg.MaxRetransmitTimeout)
		p.lastProgress[o] = now
		e.metrics.Retransmits++
	}
	window := p.acked[o] + uint64(e.cfg.MaxInflightOps)
	for p.sent[o] < e.delivered[o] && p.sent[o] < window {
		to := min(e.delivered[o], window, p.sent[o]+uint64(e.cfg.MaxBatchOps))
		if p.sent[o] == p.acked[o] {
			p.lastProgress[o] = now
		}
		// The peer acknowledged op From-1 or was just sent it: delta-encode
		// the first op against it, unless this is a retransmission (the peer
		// may have missed the base) or the peer may have restarted.
		based := p.sent[o] > 0 && p.rto[o] == e.cfg.RetransmitTimeout && !p.noBase[o]
		var membership uint64
		if p.membership == e.digest {
			membership = e.digest
		}
		e.out.Sends = append(e.out.Sends, SendRange{Peer: e.names[i], Origin: e.names[o],
			From: p.sent[o] + 1, To: to, Based: based, Membership: membership})
		e.metrics.SentRanges++
		if o != e.self {
			e.metrics.RelayedRanges++
		}
		p.sent[o] = to
	}
}

// scheduleAck queues an ack to peer i when one is due: something changed
// and AckInterval passed, or FullAckInterval passed.
func (e *Engine) scheduleAck(now time.Time, i int, p *peer) {
	full := p.forceFullAck || now.Sub(p.lastFullAckAt) >= e.cfg.FullAckInterval
	changed := e.epoch > p.ackEpoch
	if !full && (!changed || now.Sub(p.lastAckAt) < e.cfg.AckInterval) {
		return
	}
	a := Ack{From: e.cfg.Self, To: e.names[i], Full: full, Membership: e.digest, Compact: p.membership == e.digest,
		Joining: e.join.active, Asking: e.join.active && !e.join.seen[i], SeenJoining: p.joinSeen,
		Stamp: e.clock.Now(now.UnixNano())}
	if p.joinSeen {
		a.Answers = p.joinStamp
	}
	for o, s := range e.delivered {
		if s != 0 && (full || e.changedAt[o] > p.ackEpoch) {
			a.Delivered = append(a.Delivered, Entry{Region: e.names[o], Seq: s})
		}
	}
	p.ackEpoch = e.epoch
	p.lastAckAt = now
	if full {
		p.lastFullAckAt = now
		p.forceFullAck = false
	}
	e.out.Acks = append(e.out.Acks, a)
}

// relayDelay staggers relays: the delay for relaying origin o to peer i is
// RelayDelay stretched by a factor in [1, 2) derived from the three region
// names, so that when a peer is cut off from o, usually one region starts
// relaying first and the others see the peer advance and hold back.
func (e *Engine) relayDelay(i, o int) time.Duration {
	h := fnv.New64a()
	for _, n := range []string{e.cfg.Self, e.names[o], e.names[i]} {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return e.cfg.RelayDelay + time.Duration(h.Sum64()%1024)*e.cfg.RelayDelay/1024
}
