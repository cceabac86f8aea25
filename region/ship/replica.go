package ship

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/region"
)

// Errors of a replica.
var (
	// ErrNotLeader: this node does not lead the unit (now). An append that
	// was waiting when leadership moved may or may not survive: the
	// producer retries, and de-duplication keeps one copy.
	ErrNotLeader = errors.New("ship: this node does not lead the unit")
	// ErrClosed: the replica was closed.
	ErrClosed = errors.New("ship: replica closed")
)

// Replica is one unit's log on one node: a segment log and its leader
// epoch history. It leads, follows or idles as its Manager says. All
// methods are safe for concurrent use.
type Replica struct {
	unit region.UnitID
	self region.Member
	fs   vfs.FS
	dir  string
	opts segment.Options
	cfg  Config
	log  *zap.Logger
	now  func() time.Duration

	mu     sync.Mutex
	seg    *segment.Log // replaced by a truncation
	epochs region.Epochs
	// leader is non-nil while this replica leads; a new one per epoch.
	leader *region.Leader
	// epoch is the unit's epoch as this replica last heard it.
	epoch uint64
	// hw is the high watermark: the leader's own, or as last heard from it.
	hw uint64
	// changed is closed when hw or the role changes.
	changed chan struct{}
	// appending counts leader appends not finished: a replica that stops
	// leading waits for them before its log is written by anything else.
	appending sync.WaitGroup
	follower  *follower // running fetch loop, nil when not following
	// proposing is an in-sync change sent to the metadata group whose
	// fate is not known yet (see Manager).
	proposing []region.Member
	// acks wait for the high watermark, in offset order; settled are
	// decided and wait for their callbacks to run outside r.mu.
	acks    []*ack
	settled []*ack
	// settling: a goroutine runs settled callbacks (runSettled).
	settling bool
	failed   error // a truncation or epoch write failed: the replica stops
	// failedAt is when; the Manager reopens it from disk after a pause.
	failedAt time.Duration
	closed   bool
	// onRole runs (outside r.mu) when the replica starts or stops leading.
	onRole func()
}

// openReplica opens (recovers) the unit's log in dir.
func openReplica(unit region.UnitID, self region.Member, dir string, cfg Config, now func() time.Duration) (*Replica, error) {
	opts := cfg.SegmentFor(unit)
	log := cfg.Logger.With(zap.String("unit", string(unit)))
	opts.Logger = log
	seg, err := segment.Open(cfg.FS, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("ship: open %s: %w", unit, err)
	}
	epochs, err := loadEpochs(cfg.FS, dir)
	if err != nil {
		_ = seg.Close()
		return nil, err
	}
	// An epoch saved before its first record was written starts past the
	// log's end: forget it (the fetch that wrote it will be asked again).
	epochs = epochs.TruncateTo(seg.EndOffset())
	return &Replica{
		unit: unit, self: self, fs: cfg.FS, dir: dir, opts: opts, cfg: cfg, log: log, now: now,
		seg: seg, epochs: epochs, changed: make(chan struct{}),
	}, nil
}

// Unit names the replica's unit.
func (r *Replica) Unit() region.UnitID { return r.unit }

// Log returns the replica's segment log (it changes when a follower
// truncates; a leader's does not change while it leads).
func (r *Replica) Log() *segment.Log {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seg
}

// Leading reports whether the replica leads its unit, and at which epoch.
func (r *Replica) Leading() (bool, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leader != nil, r.epoch
}

// HighWatermark returns the offset below which every record is held by
// every in-sync replica (acknowledged, readable by consumers), and a
// channel closed when it or the replica's role changes.
func (r *Replica) HighWatermark() (uint64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hw, r.changed
}

// Status is what a replica reports about itself.
type Status struct {
	Unit          region.UnitID `json:"unit"`
	Leading       bool          `json:"leading"`
	Epoch         uint64        `json:"epoch"`
	Start         uint64        `json:"start"`
	End           uint64        `json:"end"`
	HighWatermark uint64        `json:"highWatermark"`
	Failed        string        `json:"failed,omitempty"`
	// On a leader: the in-sync set it knows, a change of it in flight,
	// and its followers' progress.
	InSync    []region.Member           `json:"inSync,omitempty"`
	Pending   []region.Member           `json:"pendingInSync,omitempty"`
	Followers []region.FollowerProgress `json:"followers,omitempty"`
	// On a follower: its fetch loop.
	Following *FollowerStatus `json:"following,omitempty"`
}

// Status reports the replica's state.
func (r *Replica) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{Unit: r.unit, Leading: r.leader != nil, Epoch: r.epoch, Start: r.seg.StartOffset(), End: r.seg.EndOffset(), HighWatermark: r.hw}
	if r.leader != nil {
		s.InSync, s.Pending = r.leader.InSync(), r.leader.Pending()
		s.Followers = r.leader.Followers(s.End, r.now())
	}
	if r.follower != nil {
		fs := r.follower.status()
		s.Following = &fs
	}
	if r.failed != nil {
		s.Failed = r.failed.Error()
	}
	return s
}

// notify wakes everything waiting on the high watermark or the role. r.mu
// is held.
func (r *Replica) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// noteHighWatermark takes in the leader's high watermark. r.mu is held.
func (r *Replica) noteHighWatermark() {
	if r.leader != nil && r.leader.HighWatermark() != r.hw {
		r.hw = r.leader.HighWatermark()
		r.notify()
	}
	if len(r.acks) > 0 {
		r.settleAcks()
	}
}

// lead makes the replica lead u. u must come from a linearizable read of
// the region's metadata (region.NewLeader says why); applied is the
// metadata log index it reflects.
func (r *Replica) lead(u *region.Unit, applied uint64) error {
	r.mu.Lock()
	same := r.leader != nil && r.leader.Epoch() == u.Epoch
	r.mu.Unlock()
	if same {
		return nil
	}
	// Nothing else writes the log from here on: no fetch loop, no append
	// of an earlier epoch still in flight.
	r.stopFollowing()
	r.stepDown(u.Epoch)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.failed != nil {
		return r.failed
	}
	end := r.seg.EndOffset()
	epochs := r.epochs.Assign(u.Epoch, end)
	if len(epochs) != len(r.epochs) {
		if err := saveEpochs(r.fs, r.dir, epochs); err != nil {
			return err
		}
		r.epochs = epochs
	}
	// The high watermark heard as a follower may be past this log's end
	// only if this replica was not in sync; it never leads then, but the
	// watermark must not claim what the log does not hold.
	r.hw = min(r.hw, end)
	r.leader = region.NewLeader(r.cfg.Leader, r.self, u, r.hw, r.now())
	r.leader.Metadata(u, applied, r.now())
	r.epoch = u.Epoch
	r.proposing = nil
	r.log.Info("leading", zap.Uint64("epoch", u.Epoch), zap.Uint64("end", end), zap.Uint64("highWatermark", r.hw))
	r.notify()
	if r.onRole != nil {
		defer r.onRole()
	}
	return nil
}

// metadata gives a leading replica the unit as its node applied it; it
// steps down when the unit's epoch or leader moved.
func (r *Replica) metadata(u *region.Unit, applied uint64) {
	defer r.runSettled()
	r.mu.Lock()
	if r.leader == nil || r.leader.Metadata(u, applied, r.now()) {
		r.noteHighWatermark()
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.stepDown(u.Epoch)
}

// stepDown ends leading (at the newer epoch, if known) and waits for the
// leader's appends in flight to finish.
func (r *Replica) stepDown(epoch uint64) {
	r.mu.Lock()
	wasLeading := r.leader != nil
	if r.leader != nil {
		r.log.Info("no longer leading", zap.Uint64("epoch", r.leader.Epoch()), zap.Uint64("newEpoch", epoch))
		r.leader = nil
		r.proposing = nil
		r.notify()
		r.settleAcks()
	}
	r.epoch = max(r.epoch, epoch)
	r.mu.Unlock()
	r.runSettled()
	r.appending.Wait()
	r.runSettled() // appends that finished meanwhile
	if wasLeading && r.onRole != nil {
		r.onRole()
	}
}

// ack is an append waiting for the high watermark.
type ack struct {
	leader   *region.Leader // the leadership it was appended under
	first    uint64
	target   uint64 // acknowledged once the high watermark reaches it
	deadline time.Duration
	done     func(first uint64, err error)
	err      error // set when it is settled with an error
}

// AppendAsync appends recs as the unit's leader; done runs once the high
// watermark passed them all (every in-sync replica holds them fsynced)
// with the offset of the first, or with an error: ErrNotLeader if this
// replica does not lead, or stopped leading before the records were
// acknowledged (they may or may not survive then: the producer sends them
// again and de-duplication keeps one copy); a timeout (Config.AckTimeout)
// when the in-sync replicas did not confirm them in time, which leaves the
// records in the log (acknowledged later, or cut by a failover). done must
// be quick; it runs on a goroutine of the replica. Calls from one
// goroutine get increasing offsets in call order.
func (r *Replica) AppendAsync(recs []segment.Record, done func(first uint64, err error)) {
	r.mu.Lock()
	leader, seg := r.leader, r.seg
	if leader == nil {
		r.mu.Unlock()
		done(0, fmt.Errorf("%w: %s", ErrNotLeader, r.unit))
		return
	}
	r.appending.Add(1)
	r.mu.Unlock()
	seg.AppendAsync(recs, func(first uint64, err error) {
		defer r.appending.Done()
		if err != nil {
			done(0, fmt.Errorf("ship: append to %s: %w", r.unit, err))
			return
		}
		defer r.runSettled()
		r.mu.Lock()
		defer r.mu.Unlock()
		a := &ack{leader: leader, first: first, target: first + uint64(len(recs)), deadline: r.now() + r.cfg.AckTimeout, done: done}
		if r.leader != leader {
			a.err = fmt.Errorf("%w: leadership of %s moved before offset %d was replicated", ErrNotLeader, r.unit, first)
			r.settled = append(r.settled, a)
			return
		}
		r.acks = append(r.acks, a)
		leader.Appended(seg.EndOffset())
		r.noteHighWatermark()
	})
}

// Append is AppendAsync waiting for the outcome.
func (r *Replica) Append(recs []segment.Record) (uint64, error) {
	type result struct {
		first uint64
		err   error
	}
	ch := make(chan result, 1)
	r.AppendAsync(recs, func(first uint64, err error) { ch <- result{first, err} })
	res := <-ch
	return res.first, res.err
}

// settleAcks moves the appends the high watermark passed (all of them,
// with an error, when this replica no longer leads) to the settled list.
// r.mu is held; runSettled calls them once it is released.
func (r *Replica) settleAcks() {
	i := 0
	for ; i < len(r.acks); i++ {
		a := r.acks[i]
		switch {
		case r.leader != a.leader:
			a.err = fmt.Errorf("%w: leadership of %s moved before offset %d was replicated", ErrNotLeader, r.unit, a.first)
		case r.hw < a.target:
			if r.now() < a.deadline {
				// Acks are in offset order: the rest wait too, except
				// when they expire (expireAcks).
				r.acks = r.acks[i:]
				return
			}
			a.err = fmt.Errorf("ship: %s: offset %d not confirmed by the in-sync replicas within %v", r.unit, a.first, r.cfg.AckTimeout)
		}
		r.settled = append(r.settled, a)
	}
	r.acks = r.acks[:0]
}

// runSettled calls the settled appends' callbacks, outside r.mu, one at
// a time and in offset order: several goroutines settle appends (each
// follower's fetch moves the high watermark), and the callers of
// AppendAsync rely on their callbacks coming in order from one goroutine
// at a time (a producer is not safe for concurrent use: the collections'
// change-feed publish raced). A call while another goroutine runs them
// leaves the new ones to it (it loops until none is left), which also
// makes a call from inside a callback return at once.
func (r *Replica) runSettled() {
	r.mu.Lock()
	if r.settling {
		r.mu.Unlock()
		return
	}
	r.settling = true
	for len(r.settled) > 0 {
		settled := r.settled
		r.settled = nil
		r.mu.Unlock()
		for _, a := range settled {
			if a.err != nil {
				a.done(0, a.err)
			} else {
				a.done(a.first, nil)
			}
		}
		r.mu.Lock()
	}
	r.settling = false
	r.mu.Unlock()
}

// expireAcks settles the appends waiting past their deadline.
func (r *Replica) expireAcks() {
	defer r.runSettled()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settleAcks()
}

// Close stops the replica and closes its log (its data stays).
func (r *Replica) Close() error {
	r.stopFollowing()
	r.stepDown(0)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.notify()
	return r.seg.Close()
}

// fail stops the replica after a write it could not make (a full disk,
// an I/O error: its log or epoch history may disagree with what the leader
// sent); the Manager closes it and opens it again from disk after
// reopenAfter, which recovers both.
func (r *Replica) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed, r.failedAt = err, r.now()
		r.log.Error("replica failed; it is reopened from its disk shortly", zap.Error(err))
	}
}

// failedSince reports whether the replica failed at least d ago.
func (r *Replica) failedSince(d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed != nil && r.now()-r.failedAt >= d
}
