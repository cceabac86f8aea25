package replicator

import (
	"fmt"
	"time"
)

// Engine is one region's replication state machine. It is pure: it does no
// I/O, starts no goroutine, reads no clock and logs nothing. Feed it inputs
// (Publish, ReceiveBatch, ReceiveAck, Tick, PeerUp, PeerDown, AddRegion,
// EvictRegion) and drain what it asks for with Ready. It is not safe for
// concurrent use; the shell serializes calls.
//
// Internally regions are dense indexes into names; per-region state lives in
// slices so that 100+ regions cost no map lookups on the hot paths.
type Engine struct {
	cfg   Config
	self  int
	names []string
	index map[string]int
	// evicted marks regions removed by an operator: they are neither sent to
	// nor accepted from as senders, and no longer pin stability.
	evicted []bool

	// delivered[o] is how many of origin o's ops this region delivered.
	delivered []uint64
	// lastDeps[o] is the dependency vector of o's last delivered op, when
	// depsKnown[o]: always for an origin with nothing delivered, after a
	// restart only when Restore.LastDeps has it, and again after the next
	// delivery of o (a keyframe).
	lastDeps  [][]uint64
	depsKnown []bool

	clock Clock
	peers []*peer // by region index; nil for self
	buf   buffer
	walls wallRing

	// epoch counts deliveries; changedAt[o] is the epoch of o's last
	// delivery, so acks can carry only what changed.
	epoch     uint64
	changedAt []uint64

	// digest is the MembershipDigest of names.
	digest uint64

	// join is the state of a region that started with nothing (see
	// Joining).
	join joinState

	scratch []uint64
	out     Output
	metrics Metrics
}

// Restore is the durable state an engine restarts from: the ends of its
// journals (how many ops of each origin are journaled), the highest HLC
// timestamp found in them and, optionally, the dependency vector of the
// last journaled op of each origin (without it, Based batches of that
// origin are refused until the next delivery). RestoreFromJournals reads
// all three. Everything else is volatile and rebuilt by the protocol (peers
// re-advertise, senders retransmit).
type Restore struct {
	Delivered Vector
	LastHLC   Timestamp
	LastDeps  map[string]Vector
	// Rejoin says the previous run stopped while joining (see Joining):
	// join again even though the journals are not empty.
	Rejoin bool
}

// New returns an engine for cfg restarted from st (the zero Restore for a
// fresh region).
func New(cfg Config, st Restore) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:   cfg,
		index: make(map[string]int, len(cfg.Regions)),
		clock: NewClock(st.LastHLC, cfg.MaxClockOffset),
		walls: newWallRing(cfg.LagWindowOps),
	}
	for _, r := range cfg.Regions {
		e.addRegion(r)
	}
	e.self = e.index[cfg.Self]
	for r, s := range st.Delivered {
		i, ok := e.index[r]
		if !ok {
			return nil, fmt.Errorf("replicator: restore %s=%d: %w", r, s, ErrUnknownRegion)
		}
		e.delivered[i] = s
		e.depsKnown[i] = s == 0
	}
	e.join.active = (st.Delivered.IsZero() || st.Rejoin) && len(e.names) > 1 && cfg.JoinTimeout >= 0
	for r, deps := range st.LastDeps {
		o, ok := e.index[r]
		if !ok {
			return nil, fmt.Errorf("replicator: restore deps of %s: %w", r, ErrUnknownRegion)
		}
		for d, v := range deps {
			i, ok := e.index[d]
			if !ok {
				return nil, fmt.Errorf("replicator: restore deps of %s on %s: %w", r, d, ErrUnknownRegion)
			}
			if i != o {
				e.lastDeps[o][i] = v
			}
		}
		e.depsKnown[o] = true
	}
	return e, nil
}

// addRegion grows every per-region slice by one region.
func (e *Engine) addRegion(name string) int {
	i := len(e.names)
	e.names = append(e.names, name)
	e.index[name] = i
	e.evicted = append(e.evicted, false)
	e.join.heard = append(e.join.heard, false)
	e.join.seen = append(e.join.seen, false)
	e.join.own = append(e.join.own, 0)
	e.delivered = append(e.delivered, 0)
	e.changedAt = append(e.changedAt, 0)
	e.depsKnown = append(e.depsKnown, true)
	for o := range e.lastDeps {
		e.lastDeps[o] = append(e.lastDeps[o], 0)
	}
	e.lastDeps = append(e.lastDeps, make([]uint64, i+1))
	e.scratch = make([]uint64, i+1)
	for _, p := range e.peers {
		if p != nil {
			p.grow()
		}
	}
	var p *peer
	if name != e.cfg.Self {
		p = newPeer(i+1, e.cfg.RetransmitTimeout)
	}
	e.peers = append(e.peers, p)
	e.buf.grow()
	e.digest = MembershipDigest(e.names)
	return i
}

// Self returns this region's name.
func (e *Engine) Self() string { return e.cfg.Self }

// Config returns the engine's configuration with defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Regions returns the membership (evicted regions included) in index order.
func (e *Engine) Regions() []string { return append([]string(nil), e.names...) }

// Membership returns the MembershipDigest of Regions, advertised in acks.
func (e *Engine) Membership() uint64 { return e.digest }

// Delivered returns this region's delivered vector.
func (e *Engine) Delivered() Vector { return e.vector(e.delivered) }

// Advertised returns the latest delivered vector advertised by peer.
func (e *Engine) Advertised(peer string) (Vector, error) {
	i, err := e.peerIndex(peer)
	if err != nil {
		return nil, err
	}
	return e.vector(e.peers[i].acked), nil
}

// LastHLC returns the highest HLC timestamp issued or observed.
func (e *Engine) LastHLC() Timestamp { return e.clock.Last() }

// Metrics returns counters and gauges as plain values.
func (e *Engine) Metrics() Metrics {
	m := e.metrics
	m.BufferedOps = e.buf.ops
	m.BufferedBytes = e.buf.bytes
	m.Joining = e.join.active
	return m
}

// Ready returns and clears everything the engine asks its shell to do.
func (e *Engine) Ready() Output {
	o := e.out
	e.out = Output{}
	return o
}

// Publish creates a local operation with body at physical time now: its
// dot is (Self, next seq), its dependencies this region's delivered vector,
// its HLC a fresh local timestamp. The operation is delivered locally at
// once: it is returned and also queued in the next Output's Deliveries,
// which is where the shell journals it. body is not copied. While the
// region is Joining it returns ErrJoining and creates nothing.
func (e *Engine) Publish(now time.Time, body []byte) (Delivery, error) {
	if e.join.active {
		return Delivery{}, ErrJoining
	}
	o := e.self
	hlc := e.clock.Now(now.UnixNano())
	full := e.scratch
	copy(full, e.delivered)
	full[o] = 0
	d := e.deliver(o, e.delivered[o]+1, hlc, full, body)
	e.walls.put(d.Seq, hlc.WallNanos)
	return d, nil
}

// deliver records the delivery of op (o, seq) whose full dependency vector
// is full (indexed by region, full[o] ignored) and queues it for the shell.
// full is not retained.
func (e *Engine) deliver(o int, seq uint64, hlc Timestamp, full []uint64, body []byte) Delivery {
	row := e.lastDeps[o]
	keyframe := IsKeyframe(seq) || !e.depsKnown[o]
	var deps []Entry
	for r, v := range full {
		if r == o || v == 0 {
			continue
		}
		if keyframe || v > row[r] {
			deps = append(deps, Entry{Region: e.names[r], Seq: v})
		}
		if v > row[r] {
			row[r] = v
		}
	}
	e.depsKnown[o] = true
	e.delivered[o] = seq
	e.epoch++
	e.changedAt[o] = e.epoch
	e.metrics.DeliveredOps++
	d := Delivery{Origin: e.names[o], Seq: seq, HLC: hlc, Keyframe: keyframe, Deps: deps, Body: body}
	if o == e.self && e.join.active {
		d.Recovered = true
		e.metrics.RecoveredOwnOps++
	}
	e.out.Deliveries = append(e.out.Deliveries, d)
	return d
}

// vector converts a dense per-region slice to a Vector.
func (e *Engine) vector(dense []uint64) Vector {
	v := make(Vector, len(dense))
	for i, s := range dense {
		if s != 0 {
			v[e.names[i]] = s
		}
	}
	return v
}

// peerIndex resolves a peer name (a member other than self).
func (e *Engine) peerIndex(name string) (int, error) {
	i, ok := e.index[name]
	if !ok {
		return 0, fmt.Errorf("replicator: peer %q: %w", name, ErrUnknownRegion)
	}
	if i == e.self {
		return 0, fmt.Errorf("replicator: peer %q is self: %w", name, ErrUnknownRegion)
	}
	return i, nil
}

// activePeer resolves a peer that may send to this region.
func (e *Engine) activePeer(name string) (int, error) {
	i, err := e.peerIndex(name)
	if err != nil {
		return 0, err
	}
	if e.evicted[i] {
		return 0, fmt.Errorf("replicator: peer %q: %w", name, ErrEvicted)
	}
	return i, nil
}

// PeerUp tells the engine a connection to peer is (re)established: sending
// resumes from what the peer last acknowledged and the next ack is full.
func (e *Engine) PeerUp(now time.Time, name string) error {
	i, err := e.activePeer(name)
	if err != nil {
		return err
	}
	p := e.peers[i]
	p.active = true
	p.forceFullAck = true
	// The peer may have restarted and delivered more of this region's ops
	// since it answered (join.go): a joining region needs its answer again.
	e.join.seen[i] = false
	for o := range p.sent {
		p.sent[o] = p.acked[o]
		p.lastProgress[o] = now
		p.rto[o] = e.cfg.RetransmitTimeout
		// The peer may have restarted without its dependency records.
		p.noBase[o] = true
	}
	return nil
}

// PeerDown tells the engine peer is unreachable: nothing is sent to it
// until PeerUp. The peer's own ops buffered here are dropped: if it went
// down for good with its disk, they would be ops of a previous life that
// no region delivered, and its next life numbers new ops the same way (see
// join.go); if not, it or a relay sends them again.
func (e *Engine) PeerDown(name string) error {
	i, err := e.peerIndex(name)
	if err != nil {
		return err
	}
	e.peers[i].active = false
	e.buf.dropOrigin(i)
	return nil
}

// AddRegion adds a region to the membership.
func (e *Engine) AddRegion(name string) error {
	if err := validRegionName(name); err != nil {
		return fmt.Errorf("replicator: add region: %v: %w", err, ErrInvalidConfig)
	}
	if _, ok := e.index[name]; ok {
		return fmt.Errorf("replicator: add region %q: already a member: %w", name, ErrInvalidConfig)
	}
	if len(e.names) >= MaxRegions {
		return fmt.Errorf("replicator: add region %q: %d regions: %w", name, len(e.names), ErrTooLarge)
	}
	e.addRegion(name)
	e.cfg.Regions = append(e.cfg.Regions, name)
	return nil
}

// EvictRegion removes a region from the active membership: this region
// stops sending to it and accepting batches or acks from it, and it no
// longer pins causal stability. Its operations already in flight keep being
// delivered (through relays) so that the remaining regions converge.
func (e *Engine) EvictRegion(name string) error {
	i, err := e.peerIndex(name)
	if err != nil {
		return fmt.Errorf("replicator: evict: %w", err)
	}
	e.evicted[i] = true
	e.peers[i].active = false
	return nil
}
