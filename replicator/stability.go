package replicator

import (
	"fmt"
	"time"
)

// Stable returns the causally stable vector: for each origin, how many of
// its ops are known to be delivered at every non-evicted member (the
// minimum of this region's delivered vector and every member's latest
// advertisement). Ops at or below it will never be concurrent with a new op;
// collections compact them. A silent member pins it until evicted.
func (e *Engine) Stable() Vector {
	dense := append([]uint64(nil), e.delivered...)
	for i, p := range e.peers {
		if p == nil || e.evicted[i] {
			continue
		}
		for o, s := range p.acked {
			dense[o] = min(dense[o], s)
		}
	}
	return e.vector(dense)
}

// PeerLag is how far one peer is behind this region, as plain values.
type PeerLag struct {
	Peer string
	// OwnOps is how many of this region's ops the peer has not acknowledged.
	OwnOps uint64
	// AllOps is the same summed over every origin this region delivered.
	AllOps uint64
	// Behind is how long ago this region created its oldest op the peer has
	// not acknowledged (0 when caught up). When that op is older than the
	// lag window (LagWindowOps) the oldest op in the window is used, so the
	// value is a lower bound; BehindKnown is false when no time is known
	// (after a restart, until new ops are published).
	Behind      time.Duration
	BehindKnown bool
}

// Lag returns the replication lag of every non-evicted peer at time now.
func (e *Engine) Lag(now time.Time) []PeerLag {
	var out []PeerLag
	for i, p := range e.peers {
		if p == nil || e.evicted[i] {
			continue
		}
		l := PeerLag{Peer: e.names[i], BehindKnown: true}
		for o, s := range e.delivered {
			if s > p.acked[o] {
				l.AllOps += s - p.acked[o]
			}
		}
		own := e.delivered[e.self]
		if acked := p.acked[e.self]; own > acked {
			l.OwnOps = own - acked
			wall, ok := e.walls.oldestFrom(acked+1, own)
			l.BehindKnown = ok
			if ok && now.UnixNano() > wall {
				l.Behind = time.Duration(now.UnixNano() - wall)
			}
		}
		out = append(out, l)
	}
	return out
}

// PeerLagOf returns the lag of one peer.
func (e *Engine) PeerLagOf(now time.Time, name string) (PeerLag, error) {
	if _, err := e.peerIndex(name); err != nil {
		return PeerLag{}, err
	}
	for _, l := range e.Lag(now) {
		if l.Peer == name {
			return l, nil
		}
	}
	return PeerLag{}, fmt.Errorf("replicator: lag of %q: %w", name, ErrEvicted)
}

// wallRing remembers the HLC wall time of the last n own ops by seq.
type wallRing struct {
	seqs  []uint64
	walls []int64
}

func newWallRing(n int) wallRing {
	return wallRing{seqs: make([]uint64, n), walls: make([]int64, n)}
}

func (w *wallRing) put(seq uint64, wall int64) {
	i := seq % uint64(len(w.seqs))
	w.seqs[i], w.walls[i] = seq, wall
}

// oldestFrom returns the wall time of the oldest remembered op in from..to.
func (w *wallRing) oldestFrom(from, to uint64) (int64, bool) {
	n := uint64(len(w.seqs))
	if to >= n && from < to-n+1 {
		from = to - n + 1
	}
	for s := from; s <= to; s++ {
		if i := s % n; w.seqs[i] == s {
			return w.walls[i], true
		}
	}
	return 0, false
}
