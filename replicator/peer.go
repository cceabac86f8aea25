package replicator

import "time"

// peer is what a region tracks about one other region, per origin: what the
// peer advertised as delivered, what was sent to it, and the timers of
// retransmission and relay.
type peer struct {
	active bool
	// acked[o] is the peer's latest advertised delivered count of origin o.
	acked []uint64
	// sent[o] is the last seq of o shipped to the peer (>= acked[o]).
	sent []uint64
	// lastProgress[o] is when acked[o] last advanced or the retransmission
	// timer was (re)started; rto[o] the current retransmission timeout.
	lastProgress []time.Time
	rto          []time.Duration
	// lagSince[o] is the last time the peer was seen not lagging behind this
	// region on origin o, or advancing; relaying[o] whether this region is
	// relaying o's ops to the peer.
	lagSince []time.Time
	relaying []bool
	// noBase[o] forbids Based batches of o until the peer's ack of o
	// advances (set by PeerUp: the peer may have restarted).
	noBase []bool

	// membership is the peer's advertised MembershipDigest (0: unknown).
	membership uint64

	// ackEpoch is the engine epoch covered by the last ack sent to the peer.
	ackEpoch      uint64
	lastAckAt     time.Time
	lastFullAckAt time.Time
	forceFullAck  bool
	// joinSeen: the peer's latest ack said it is joining; acks to it say
	// SeenJoining (see join.go).
	joinSeen bool
	// joinStamp is the Stamp of the latest fresh Joining ack from the
	// peer: acks to it echo it as Answers.
	joinStamp Timestamp
	// stamp is the Stamp of the latest fresh ack from the peer.
	stamp Timestamp
}

func newPeer(regions int, rto time.Duration) *peer {
	p := &peer{active: true, forceFullAck: true}
	for range regions {
		p.growWith(rto)
	}
	return p
}

func (p *peer) grow() {
	rto := time.Duration(0)
	if len(p.rto) > 0 {
		rto = p.rto[0]
	}
	p.growWith(rto)
}

func (p *peer) growWith(rto time.Duration) {
	p.acked = append(p.acked, 0)
	p.sent = append(p.sent, 0)
	p.lastProgress = append(p.lastProgress, time.Time{})
	p.rto = append(p.rto, rto)
	p.lagSince = append(p.lagSince, time.Time{})
	p.relaying = append(p.relaying, false)
	p.noBase = append(p.noBase, false)
}
