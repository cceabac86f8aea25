package ship

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/region"
)

// Metadata is the region's metadata as a node sees it (region/meta.Group).
type Metadata interface {
	// Self is this node in its current life.
	Self() region.Member
	// Local is the metadata as applied here (possibly behind).
	Local() *region.State
	// Changed is closed at the next applied entry.
	Changed() <-chan struct{}
	// State is a linearizable read: every command committed before the
	// call is in it.
	State(ctx context.Context) (*region.State, error)
	// Propose commits a command; an error wrapping region.ErrRefused
	// means the state refused it (certainly not committed), any other
	// error that its outcome is unknown.
	Propose(ctx context.Context, c region.Command) error
}

// Manager runs the replicas of one node: it opens the units the region's
// metadata gives this node, makes each lead or follow, proposes in-sync
// changes for the units it leads, and answers fetches (Handler).
type Manager struct {
	cfg   Config
	meta  Metadata
	self  region.Member
	log   *zap.Logger
	start time.Time

	mu       sync.Mutex
	replicas map[region.UnitID]*Replica
	closed   bool
	changed  chan struct{} // closed when a replica here starts or stops leading

	stop chan struct{}
	done chan struct{}
}

// NewManager starts the node's log shipping.
func NewManager(cfg Config, meta Metadata) (*Manager, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:      cfg,
		meta:     meta,
		self:     meta.Self(),
		log:      cfg.Logger.With(zap.Uint64("node", uint64(meta.Self().Node))),
		start:    time.Now(),
		replicas: map[region.UnitID]*Replica{},
		changed:  make(chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go m.run()
	return m, nil
}

func (m *Manager) now() time.Duration { return time.Since(m.start) }

// Replica returns this node's replica of unit, nil if it holds none (yet).
func (m *Manager) Replica(unit region.UnitID) *Replica {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.replicas[unit]
}

// all returns this node's replicas (a copy: the caller works without m.mu).
func (m *Manager) all() []*Replica {
	m.mu.Lock()
	defer m.mu.Unlock()
	reps := make([]*Replica, 0, len(m.replicas))
	for _, r := range m.replicas {
		reps = append(reps, r)
	}
	return reps
}

// Changed returns a channel closed the next time a replica of this node
// starts or stops leading.
func (m *Manager) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

func (m *Manager) roleChanged() {
	m.mu.Lock()
	defer m.mu.Unlock()
	close(m.changed)
	m.changed = make(chan struct{})
}

// Statuses reports every replica of this node.
func (m *Manager) Statuses() []Status {
	reps := m.all()
	out := make([]Status, 0, len(reps))
	for _, r := range reps {
		out = append(out, r.Status())
	}
	slices.SortFunc(out, func(a, b Status) int {
		switch {
		case a.Unit < b.Unit:
			return -1
		case a.Unit > b.Unit:
			return 1
		}
		return 0
	})
	return out
}

// Close stops every replica (their data stays).
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	m.mu.Lock()
	reps := m.replicas
	m.replicas = map[region.UnitID]*Replica{}
	m.mu.Unlock()
	for _, r := range reps {
		if err := r.Close(); err != nil {
			m.log.Warn("closing a replica", zap.String("unit", string(r.unit)), zap.Error(err))
		}
	}
}

// run follows the metadata: every applied entry, and every InSyncInterval
// (leaders review their in-sync sets; replicas that could not lead yet try
// again).
func (m *Manager) run() {
	defer close(m.done)
	tick := time.NewTicker(m.cfg.InSyncInterval)
	defer tick.Stop()
	heard := time.Now()
	retention := time.NewTicker(m.cfg.RetentionInterval)
	defer retention.Stop()
	for {
		changed := m.meta.Changed()
		if time.Since(heard) > m.cfg.LeaseTimeout {
			m.cutOff(time.Since(heard))
		} else {
			m.reconcile()
			m.reviewInSync()
		}
		select {
		case <-m.stop:
			return
		case <-changed:
			heard = time.Now()
		case <-tick.C:
		case now := <-retention.C:
			m.followerRetention(now)
		}
	}
}

// followerRetention applies retention to the logs this node follows
// (the broker trims the ones it leads): without it a follower's copy would
// grow forever while its leader's is trimmed.
func (m *Manager) followerRetention(now time.Time) {
	reps := m.all()
	for _, r := range reps {
		if leading, _ := r.Leading(); leading {
			continue
		}
		if _, err := r.Log().EnforceRetention(now.UnixMilli()); err != nil {
			m.cfg.rate.Warn(m.log, string(r.unit)+" retention", "follower retention", zap.String("unit", string(r.unit)), zap.Error(err))
		}
	}
}

// cutOff stops every leader here: the node has heard nothing from the
// region's metadata group for longer than the lease (it is cut off from
// its majority, which fences it and moves its units once its session
// expires). Until it hears again it leads nothing.
func (m *Manager) cutOff(silent time.Duration) {
	reps := m.all()
	for _, r := range reps {
		if leading, epoch := r.Leading(); leading {
			m.cfg.rate.Warn(m.log, "cut off", "heard nothing from the region's metadata group; no longer leading",
				zap.Duration("silent", silent), zap.String("unit", string(r.unit)))
			r.stepDown(epoch)
		}
	}
}

// reconcile makes this node's replicas what the local metadata says.
func (m *Manager) reconcile() {
	st := m.meta.Local()
	var toLead []region.UnitID
	for _, id := range unitIDs(st) {
		u := st.Units[id]
		if !slices.Contains(u.Replicas, m.self.Node) {
			continue
		}
		rep, err := m.open(id)
		if err != nil {
			m.cfg.rate.Error(m.log, string(id)+" open", "cannot open a replica", zap.String("unit", string(id)), zap.Error(err))
			continue
		}
		switch {
		case u.Leader == m.self.Node:
			if leading, epoch := rep.Leading(); leading && epoch == u.Epoch {
				rep.metadata(u, st.Applied)
			} else {
				toLead = append(toLead, id)
			}
		case u.Leader != 0:
			n := st.Nodes[u.Leader]
			if n == nil || n.Addrs.Data == "" {
				rep.stepDown(u.Epoch)
				rep.stopFollowing()
				continue
			}
			rep.follow(u.Leader, n.Addrs.Data, u.Epoch, m.send)
		default:
			// Offline: no replica can lead; wait.
			rep.stopFollowing()
			rep.stepDown(u.Epoch)
		}
	}
	m.closeGone(st)
	m.reopenFailed()
	if len(toLead) > 0 {
		m.lead(toLead)
	}
}

// lead starts leading units from a linearizable read of the metadata: an
// in-sync change this node proposed in an earlier life may be committed
// and not applied here yet.
func (m *Manager) lead(ids []region.UnitID) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := m.meta.State(ctx)
	if err != nil {
		m.cfg.rate.Warn(m.log, "lead read", "cannot read the region's metadata to lead; trying again", zap.Error(err))
		return
	}
	for _, id := range ids {
		u := st.Units[id]
		rep := m.Replica(id)
		if u == nil || u.Leader != m.self.Node || rep == nil {
			continue
		}
		if err := rep.lead(u, st.Applied); err != nil {
			m.cfg.rate.Error(m.log, string(id)+" lead", "cannot lead", zap.String("unit", string(id)), zap.Error(err))
		}
	}
}

// open returns the node's replica of id, opening its log the first time.
func (m *Manager) open(id region.UnitID) (*Replica, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.replicas[id]; r != nil {
		return r, nil
	}
	if m.closed {
		return nil, ErrClosed
	}
	r, err := openReplica(id, m.self, m.cfg.Dir(id), m.cfg, m.now)
	if err != nil {
		return nil, err
	}
	r.onRole = m.roleChanged
	m.replicas[id] = r
	return r, nil
}

// reopenAfter is how long a failed replica stays closed before the
// Manager opens it again from disk (a full disk may have space again).
const reopenAfter = 5 * time.Second

// reopenFailed closes the replicas that failed reopenAfter ago; the next
// reconcile opens them again (recovering their logs from disk).
func (m *Manager) reopenFailed() {
	m.mu.Lock()
	var failed []*Replica
	for id, r := range m.replicas {
		if r.failedSince(reopenAfter) {
			failed = append(failed, r)
			delete(m.replicas, id)
		}
	}
	m.mu.Unlock()
	for _, r := range failed {
		m.log.Info("reopening a failed replica", zap.String("unit", string(r.unit)))
		if err := r.Close(); err != nil {
			m.log.Warn("closing a failed replica", zap.String("unit", string(r.unit)), zap.Error(err))
		}
	}
}

// closeGone closes the replicas of units this node no longer holds (moved
// away or deleted) and removes their data.
func (m *Manager) closeGone(st *region.State) {
	m.mu.Lock()
	var gone []*Replica
	for id, r := range m.replicas {
		if u := st.Units[id]; u == nil || !slices.Contains(u.Replicas, m.self.Node) {
			gone = append(gone, r)
			delete(m.replicas, id)
		}
	}
	m.mu.Unlock()
	for _, r := range gone {
		m.log.Info("no longer a replica; removing its log", zap.String("unit", string(r.unit)))
		if err := r.Close(); err != nil {
			m.log.Warn("closing a replica", zap.String("unit", string(r.unit)), zap.Error(err))
		}
		if err := m.cfg.FS.RemoveAll(r.dir); err != nil {
			m.log.Warn("removing a replica's log", zap.String("unit", string(r.unit)), zap.Error(err))
		}
	}
}

// reviewInSync proposes the in-sync changes the leaders here want: one
// at a time per unit; a proposal whose outcome is unknown is sent again
// as it was (the in-sync version refuses every copy after the first).
func (m *Manager) reviewInSync() {
	st := m.meta.Local()
	reps := m.all()
	for _, r := range reps {
		r.expireAcks()
		cmd, ok := r.inSyncProposal(st.Nodes)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := m.meta.Propose(ctx, cmd)
		cancel()
		r.proposalDone(cmd, err, m.meta.Local())
		if err != nil && !errors.Is(err, region.ErrRefused) {
			m.cfg.rate.Warn(m.log, string(r.unit)+" in-sync", "in-sync change not confirmed; will send it again", zap.String("unit", string(r.unit)), zap.Error(err))
		}
	}
}

// inSyncProposal returns the in-sync change this replica's leader wants
// proposed: the one still unconfirmed, or a new one.
func (r *Replica) inSyncProposal(nodes map[region.NodeID]*region.Node) (region.Command, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leader == nil {
		return region.Command{}, false
	}
	if r.proposing != nil && r.leader.Pending() == nil {
		r.proposing = nil // decided meanwhile (the metadata moved past it)
	}
	set := r.proposing
	if set == nil {
		var ok bool
		set, ok = r.leader.InSyncChange(r.seg.EndOffset(), nodes, r.now())
		if !ok {
			return region.Command{}, false
		}
		// Pending from here on: the high watermark waits for a joining
		// replica before the change is known committed.
		r.leader.Proposed(set, 0)
		r.proposing = set
	}
	return region.Command{Kind: region.KindAlterInSync, Unit: r.unit, Epoch: r.leader.Epoch(), Member: r.self,
		InSync: set, Version: r.leader.InSyncVersion()}, true
}

// proposalDone takes in a proposal's outcome. Committed or refused, the
// local metadata (applied past it: Propose returns after applying) says
// what the set is now; unknown, it stays pending and is sent again.
func (r *Replica) proposalDone(cmd region.Command, err error, st *region.State) {
	defer r.runSettled()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leader == nil || r.leader.Epoch() != cmd.Epoch {
		return
	}
	if err != nil && !errors.Is(err, region.ErrRefused) {
		return
	}
	r.proposing = nil
	if err != nil {
		r.leader.Proposed(nil, 0)
	}
	if u := st.Units[r.unit]; u != nil && !r.leader.Metadata(u, st.Applied, r.now()) {
		// Deposed meanwhile; reconcile steps down.
		return
	}
	r.noteHighWatermark()
}

func unitIDs(st *region.State) []region.UnitID {
	ids := make([]region.UnitID, 0, len(st.Units))
	for id := range st.Units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// CreateUnit creates a unit of factor replicas placed on the region's
// active nodes (region.Place), described by info; creating one that exists
// is not an error.
func (m *Manager) CreateUnit(ctx context.Context, id region.UnitID, factor int, info string) error {
	return m.CreateUnitIn(ctx, id, factor, info, "")
}

// CreateUnitIn is CreateUnit for a unit of co-location group ("": none),
// placed with region.PlaceIn: on the group's replica list if the group has
// units. A creation refused because the group moved in between is placed
// again (twice at most).
func (m *Manager) CreateUnitIn(ctx context.Context, id region.UnitID, factor int, info, group string) error {
	for attempt := 0; ; attempt++ {
		st, err := m.meta.State(ctx)
		if err != nil {
			return err
		}
		if _, ok := st.Units[id]; ok {
			return nil
		}
		replicas, err := region.PlaceIn(st, group, factor)
		if err != nil {
			return fmt.Errorf("ship: create %s: %w", id, err)
		}
		err = m.meta.Propose(ctx, region.Command{Kind: region.KindCreateUnit, Unit: id, Factor: factor, Replicas: replicas, Info: info, Group: group})
		if errors.Is(err, region.ErrRefused) {
			// Another node created it first?
			if st, rerr := m.meta.State(ctx); rerr == nil && st.Units[id] != nil {
				return nil
			}
			if group != "" && attempt < 2 {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("ship: create %s: %w", id, err)
		}
		return nil
	}
}
