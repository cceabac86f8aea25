package region

import (
	"fmt"
	"slices"
	"time"
)

// Entry is one record of a replicated log as it travels to followers.
type Entry struct {
	Offset uint64
	Epoch  uint64
	Data   []byte
}

// LogView is what the leader reads of its own log. The log is durable up to
// End (the leader counts only what it has fsynced).
type LogView interface {
	// Start is the log's first offset (retention removes older records).
	Start() uint64
	End() uint64
	Epochs() Epochs
	// Read returns up to maxEntries entries from offset on.
	Read(offset uint64, maxEntries int) []Entry
}

// FetchRequest is a follower asking its leader for what follows its log.
// Offset is the follower's durable end: asking from there acknowledges
// everything before it.
type FetchRequest struct {
	Unit      UnitID
	From      Member
	Epoch     uint64 // the leader epoch the follower believes current
	Offset    uint64
	LastEpoch uint64 // the epoch of the follower's last record
}

// FetchError says why a fetch was refused.
type FetchError uint8

const (
	FetchOK FetchError = iota
	// FetchFencedEpoch: the follower's epoch is older than the leader's;
	// it must learn the region's metadata again.
	FetchFencedEpoch
	// FetchUnknownEpoch: the follower knows a newer epoch than this leader
	// (a deposed leader): the follower goes to the new one.
	FetchUnknownEpoch
	// FetchNotReplica: the node is not a replica of the unit.
	FetchNotReplica
)

func (e FetchError) String() string {
	switch e {
	case FetchOK:
		return "ok"
	case FetchFencedEpoch:
		return "fenced epoch (the follower's epoch is older than the leader's)"
	case FetchUnknownEpoch:
		return "unknown epoch (the follower's epoch is newer than this node's)"
	case FetchNotReplica:
		return "not a replica"
	}
	return fmt.Sprintf("fetch error %d", uint8(e))
}

// FetchResponse answers a FetchRequest: a divergence to truncate, or
// entries to append, and the leader's high watermark.
type FetchResponse struct {
	Unit  UnitID
	Epoch uint64
	// Offset and LastEpoch echo the request: a follower applies an answer
	// only while its log is still where it asked from (an answer to an
	// earlier, re-sent fetch could otherwise truncate records the leader
	// has since counted as replicated).
	Offset    uint64
	LastEpoch uint64
	Err       FetchError
	// Diverging: the follower's log differs from the leader's from
	// DivergingEnd on, in epoch DivergingEpoch; it truncates there (or at
	// its own end of that epoch, if earlier) and asks again.
	Diverging      bool
	DivergingEpoch uint64
	DivergingEnd   uint64
	Entries        []Entry
	HighWatermark  uint64
	// LogStart is the leader's first offset. A follower whose log ends
	// before it (retention removed what it lacks) starts its log again
	// there, empty.
	LogStart uint64
}

// LeaderConfig bounds a leader's fetch answers and says when a follower
// counts as lagging.
type LeaderConfig struct {
	MaxFetchEntries int
	// MaxLag: a follower in sync that has not caught up to the leader's
	// end within MaxLag leaves the in-sync set.
	MaxLag time.Duration
}

// Leader is the leader side of a unit's log shipping, at one epoch: a pure
// state machine fed with fetches, its own appends and the region's
// metadata, with time passed in.
type Leader struct {
	cfg   LeaderConfig
	unit  UnitID
	self  Member
	epoch uint64
	// replicas of the unit; only they may fetch.
	replicas []NodeID
	factor   int
	// inSync is the committed in-sync set at version; pending a change
	// proposed from version pendingFrom and not known to be decided. The
	// high watermark waits for the union of both.
	inSync      []Member
	version     uint64
	pending     []Member
	pendingFrom uint64
	// pendingIndex is the metadata log index of the pending change (0:
	// not known); once the leader's metadata has applied it, the
	// committed set says what came of it (the state may have refused it).
	pendingIndex uint64
	peers        map[Member]*peer
	hw           uint64
	// start is the end of the leader's log when this leader first saw it
	// (its first Fetch, Appended or InSyncChange), at or past where the
	// epoch began; started once known. A replica joins the in-sync set
	// only once it holds the log up to there: hw may be below what the
	// previous leader acknowledged (it learns hw from fetch answers), and
	// every acknowledged record is below start (this replica was in sync).
	start   uint64
	started bool
}

type peer struct {
	matched uint64 // the follower holds the leader's log below this offset
	// caughtUp is the last time the follower held everything the leader
	// had (its lag is measured from there): now, when it asks from the
	// leader's end; or the time of its previous fetch, when it asks from
	// at least the end the leader had then (Kafka's rule: under steady
	// load a follower is always a fetch behind the end, never at it).
	caughtUp time.Duration
	// lastEnd and lastAt are the leader's end when it answered the
	// follower's previous fetch, and when.
	lastEnd uint64
	lastAt  time.Duration
}

// NewLeader starts leading unit at epoch, as self, with the unit's metadata
// and the high watermark known so far (from the replica's earlier life).
//
// u must come from a linearizable read of the region's metadata (Raft's
// ReadIndex; meta.Group.State), never from a replica's possibly stale local
// copy: an in-sync change this node proposed in an earlier life may be
// committed and not yet applied here, and leading with the smaller set
// would acknowledge records a member of the real set lacks (simulator seed
// 1033655).
func NewLeader(cfg LeaderConfig, self Member, u *Unit, hw uint64, now time.Duration) *Leader {
	if cfg.MaxFetchEntries <= 0 {
		cfg.MaxFetchEntries = 512
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = 10 * time.Second
	}
	l := &Leader{cfg: cfg, unit: u.ID, self: self, epoch: u.Epoch, factor: u.Factor, hw: hw, peers: map[Member]*peer{}}
	l.Metadata(u, 0, now)
	return l
}

// Epoch is the epoch this leader serves.
func (l *Leader) Epoch() uint64 { return l.epoch }

// HighWatermark: every record below it is durable on every in-sync replica
// and may be acknowledged.
func (l *Leader) HighWatermark() uint64 { return l.hw }

// Metadata gives the leader the unit's metadata as applied on its node, up
// to the metadata log index applied. A change of epoch ends this leader
// (the caller drops it); replica and in-sync changes are taken in. A
// pending in-sync change is decided once the unit's in-sync version has
// moved past the one it was proposed from (it was committed, or another
// change was and it never can be), or once applied reaches its index.
func (l *Leader) Metadata(u *Unit, applied uint64, now time.Duration) (stillLeader bool) {
	if u.Epoch != l.epoch || u.Leader != l.self.Node {
		return false
	}
	l.replicas = slices.Clone(u.Replicas)
	l.factor = u.Factor
	l.inSync = slices.Clone(u.InSync)
	l.version = u.InSyncVersion
	if l.pending != nil && (l.version != l.pendingFrom || (l.pendingIndex != 0 && applied >= l.pendingIndex)) {
		l.pending, l.pendingIndex = nil, 0
	}
	for _, m := range l.inSync {
		if _, ok := l.peers[m]; !ok && m != l.self {
			l.peers[m] = &peer{caughtUp: now}
		}
	}
	return true
}

// Fetch answers a follower. The leader's log must be durable to log.End().
func (l *Leader) Fetch(req FetchRequest, log LogView, now time.Duration) FetchResponse {
	resp := FetchResponse{Unit: l.unit, Epoch: l.epoch, Offset: req.Offset, LastEpoch: req.LastEpoch}
	switch {
	case req.Epoch < l.epoch:
		resp.Err = FetchFencedEpoch
		return resp
	case req.Epoch > l.epoch:
		resp.Err = FetchUnknownEpoch
		return resp
	case !slices.Contains(l.replicas, req.From.Node) || req.From.Node == l.self.Node:
		resp.Err = FetchNotReplica
		return resp
	}
	end, start := log.End(), log.Start()
	l.saw(end)
	resp.LogStart = start
	if req.Offset < start {
		// Nothing to compare or send: the follower starts again at start.
		resp.HighWatermark = l.hw
		return resp
	}
	if req.Offset > start {
		found, endOffset := log.Epochs().EndFor(req.LastEpoch, end)
		if found != req.LastEpoch || endOffset < req.Offset {
			resp.Diverging, resp.DivergingEpoch, resp.DivergingEnd = true, found, endOffset
			resp.HighWatermark = l.hw
			return resp
		}
	}
	p := l.peers[req.From]
	if p == nil {
		p = &peer{caughtUp: now}
		l.peers[req.From] = p
	}
	// Asking from Offset acknowledges everything before it; an offset
	// below the last one means the follower truncated or restarted.
	p.matched = req.Offset
	switch {
	case p.matched >= end:
		p.caughtUp = now
	case p.matched >= p.lastEnd && p.lastAt > p.caughtUp:
		p.caughtUp = p.lastAt
	}
	p.lastEnd, p.lastAt = end, now
	l.advance(log.End())
	resp.Entries = log.Read(req.Offset, l.cfg.MaxFetchEntries)
	resp.HighWatermark = l.hw
	return resp
}

// Appended tells the leader its own log is durable up to end.
func (l *Leader) Appended(end uint64) {
	l.saw(end)
	l.advance(end)
}

// saw notes the end of the leader's log the first time it is told one.
func (l *Leader) saw(end uint64) {
	if !l.started {
		l.start, l.started = end, true
	}
}

// advance moves the high watermark to the least matched offset over the
// in-sync set (committed and pending), the leader's own being end. It never
// moves back, and does not move while the committed set is below the
// unit's minimum (the write is not acknowledged).
func (l *Leader) advance(end uint64) {
	if len(l.inSync) < (&Unit{Factor: l.factor}).MinInSync() {
		return
	}
	low := end
	for _, set := range [][]Member{l.inSync, l.pending} {
		for _, m := range set {
			if m == l.self {
				continue
			}
			p := l.peers[m]
			if p == nil {
				return // an in-sync replica we have not heard in this epoch
			}
			low = min(low, p.matched)
		}
	}
	if low > l.hw {
		l.hw = low
	}
}

// InSyncChange returns the in-sync set the leader wants, if it differs from
// the committed one and no change is pending: replicas whose fetches have
// not caught up for MaxLag leave; replicas that hold everything
// acknowledged (up to the high watermark, and up to the end of the log when
// this leader took over) in their current incarnation
// (nodes: the region's members as the leader knows them), keep up (caught
// up within MaxLag) and are not fenced join. The caller proposes it
// (KindAlterInSync) and calls Proposed.
func (l *Leader) InSyncChange(end uint64, nodes map[NodeID]*Node, now time.Duration) ([]Member, bool) {
	l.saw(end)
	if l.pending != nil {
		return nil, false
	}
	want := []Member{l.self}
	for _, id := range l.replicas {
		n := nodes[id]
		if id == l.self.Node || n == nil {
			continue
		}
		m := Member{Node: id, Incarnation: n.Incarnation}
		p := l.peers[m]
		in := slices.Contains(l.inSync, m)
		switch {
		case in && p != nil && p.matched < end && now-p.caughtUp > l.cfg.MaxLag:
			// lagging: out
		case in:
			want = append(want, m)
		case n.Status != NodeFenced && p != nil && p.matched >= max(l.hw, l.start) && (p.matched >= end || now-p.caughtUp <= l.cfg.MaxLag):
			// It holds every acknowledged record (every one is below
			// the high watermark, or below the log's end when this
			// leader took over) and keeps up: in (the high watermark then
			// waits for it).
			want = append(want, m)
		}
	}
	slices.SortFunc(want, byNode)
	if slices.Equal(want, l.inSync) {
		return nil, false
	}
	return want, true
}

// Proposed notes an in-sync change in flight, before it is proposed
// (KindAlterInSync with Version InSyncVersion()): until the metadata shows
// the unit's in-sync version moved, or the metadata is applied past index
// (0 while the index is not known; Proposed again with it once it is), the
// high watermark waits for its members too. Proposed(nil, 0) forgets a
// proposal the group certainly did not commit (it refused it, or it never
// left this node). A proposal whose fate is unknown (a timeout) stays
// pending; proposing the same change again is safe (the version makes
// every copy after the first one refused).
func (l *Leader) Proposed(set []Member, index uint64) {
	if set == nil {
		l.pending, l.pendingIndex = nil, 0
		return
	}
	if l.pending == nil || !slices.Equal(set, l.pending) {
		l.pendingFrom = l.version
	}
	l.pending, l.pendingIndex = slices.Clone(set), index
}

// Pending returns the in-sync change in flight, nil if none.
func (l *Leader) Pending() []Member { return slices.Clone(l.pending) }

// FollowerProgress is what a leader knows of one follower.
type FollowerProgress struct {
	Member Member `json:"member"`
	// Matched: the follower holds the leader's log below it.
	Matched uint64 `json:"matched"`
	// Behind is how long ago the follower last held everything the
	// leader had (0: it holds it now).
	Behind time.Duration `json:"behind"`
}

// Followers reports the followers heard from in this epoch, and the
// in-sync ones not heard from yet (Matched 0), sorted by node.
func (l *Leader) Followers(end uint64, now time.Duration) []FollowerProgress {
	out := make([]FollowerProgress, 0, len(l.peers))
	for m, p := range l.peers {
		f := FollowerProgress{Member: m, Matched: p.matched}
		if p.matched < end {
			f.Behind = now - p.caughtUp
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b FollowerProgress) int { return byNode(a.Member, b.Member) })
	return out
}

// InSync is the committed in-sync set the leader knows.
func (l *Leader) InSync() []Member { return slices.Clone(l.inSync) }

// InSyncVersion is the version of the committed in-sync set the leader
// knows; an in-sync change it proposes changes from it.
func (l *Leader) InSyncVersion() uint64 { return l.version }

// Follower is the follower side of a unit's log shipping at one epoch.
type Follower struct {
	Unit   UnitID
	Self   Member
	Leader NodeID
	Epoch  uint64
	// HighWatermark is the leader's, as last heard.
	HighWatermark uint64
}

// Request is the next fetch for a log that ends at end with history epochs.
func (f *Follower) Request(end uint64, epochs Epochs) FetchRequest {
	return FetchRequest{Unit: f.Unit, From: f.Self, Epoch: f.Epoch, Offset: end, LastEpoch: epochs.Last()}
}

// FollowerStep is what a follower does with a response: truncate its log to
// TruncateTo (if Truncate), then append Entries (each at the offset it
// names, which is the log's end), then fetch again.
type FollowerStep struct {
	// Restart: the follower's log ends before the leader's first record;
	// it empties its log and starts it again at RestartAt.
	Restart    bool
	RestartAt  uint64
	Truncate   bool
	TruncateTo uint64
	Entries    []Entry
	// Refused: the leader refused the session (Err); the follower waits
	// for newer metadata.
	Refused FetchError
}

// Handle turns a response into a step, given the follower's log end and
// epoch history. A response to a fetch from another position of the log (a
// stale one) is dropped whole.
func (f *Follower) Handle(resp FetchResponse, end uint64, epochs Epochs) FollowerStep {
	if resp.Err != FetchOK {
		return FollowerStep{Refused: resp.Err}
	}
	if resp.Epoch != f.Epoch || resp.Offset != end || resp.LastEpoch != epochs.Last() {
		return FollowerStep{}
	}
	if resp.HighWatermark > f.HighWatermark {
		f.HighWatermark = resp.HighWatermark
	}
	if end < resp.LogStart {
		return FollowerStep{Restart: true, RestartAt: resp.LogStart}
	}
	if resp.Diverging {
		_, own := epochs.EndFor(resp.DivergingEpoch, end)
		to := min(resp.DivergingEnd, own, end)
		return FollowerStep{Truncate: true, TruncateTo: to}
	}
	if len(resp.Entries) == 0 || resp.Entries[0].Offset != end {
		return FollowerStep{}
	}
	return FollowerStep{Entries: resp.Entries}
}
