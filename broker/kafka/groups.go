package kafka

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// This file is the pure core of the group coordinator: one consumer group's
// membership and rebalance state machine (Kafka's classic protocol). It has
// no goroutines, clock or I/O: callers pass the time, and every call returns
// the held JoinGroup and SyncGroup requests it completes. coordinator.go
// drives it.

// Bounds of a group.
const (
	// maxGroupMembers bounds the members (and pending member ids) of a group.
	maxGroupMembers = 1000
	// maxGroupMetadataBytes bounds one member's protocol metadata plus its
	// assignment.
	maxGroupMetadataBytes = 1 << 20
)

type groupState int

const (
	groupEmpty      groupState = iota
	groupPreparing             // PreparingRebalance: collecting joins
	groupCompleting            // CompletingRebalance: waiting for the leader's SyncGroup
	groupStable
)

func (s groupState) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"}[s]
}

// protocol is one (name, metadata) a member supports.
type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id, instanceID, clientID, clientHost string
	protocols                            []protocol
	sessionTimeout, rebalanceTimeout     time.Duration
	deadline                             time.Time // session expiry (not while its join is held)
	joining                              bool      // has a held JoinGroup in this rebalance
	syncing                              bool      // has a held SyncGroup
	assignment                           []byte
}

// joinInput is one JoinGroup request.
type joinInput struct {
	memberID, instanceID, clientID, clientHost string
	protocolType                               string
	protocols                                  []protocol
	sessionTimeout, rebalanceTimeout           time.Duration
	// requireKnownID: v4+ clients get MEMBER_ID_REQUIRED on their first join.
	requireKnownID bool
	// newID is the member id to hand out if the request has none.
	newID string
}

// memberMeta is what the leader learns of each member.
type memberMeta struct {
	id, instanceID string
	metadata       []byte
}

// joinResult answers one JoinGroup.
type joinResult struct {
	memberID     string
	code         int16
	generation   int32
	protocolType string
	protocol     string
	leader       string
	members      []memberMeta // the leader's only
}

// syncResult answers one SyncGroup.
type syncResult struct {
	memberID     string
	code         int16
	assignment   []byte
	protocolType string
	protocol     string
}

// groupOutputs are the held requests a call completes.
type groupOutputs struct {
	joins []joinResult
	syncs []syncResult
}

func (o *groupOutputs) add(p groupOutputs) {
	o.joins = append(o.joins, p.joins...)
	o.syncs = append(o.syncs, p.syncs...)
}

// group is one consumer group.
type group struct {
	id              string
	state           groupState
	generation      int32
	protocolType    string
	protocol        string
	leader          string
	members         map[string]*member
	pending         map[string]time.Time // ids handed out with MEMBER_ID_REQUIRED, until their expiry
	rebalanceAt     time.Time            // PreparingRebalance ends by then
	initialUntil    time.Time            // an empty group's first rebalance waits until then
	initialDelay    time.Duration
	sessionTimeoutB [2]time.Duration // min, max
}

func newGroup(id string, initialDelay, minSession, maxSession time.Duration) *group {
	return &group{
		id:              id,
		members:         map[string]*member{},
		pending:         map[string]time.Time{},
		initialDelay:    initialDelay,
		sessionTimeoutB: [2]time.Duration{minSession, maxSession},
	}
}

// join handles a JoinGroup. immediate is set when it is answered at once;
// otherwise it is held until the rebalance completes (see outs).
func (g *group) join(now time.Time, in joinInput) (immediate *joinResult, outs groupOutputs) {
	fail := func(code int16) (*joinResult, groupOutputs) {
		return &joinResult{memberID: in.memberID, code: code, generation: -1}, groupOutputs{}
	}
	if in.sessionTimeout < g.sessionTimeoutB[0] || in.sessionTimeout > g.sessionTimeoutB[1] {
		return fail(kerr.InvalidSessionTimeout.Code)
	}
	if len(in.protocols) == 0 || in.protocolType == "" {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	size := 0
	for _, p := range in.protocols {
		size += len(p.metadata)
	}
	if size > maxGroupMetadataBytes {
		return fail(kerr.InvalidRequest.Code)
	}
	if len(g.members) > 0 && (in.protocolType != g.protocolType || !g.compatible(in.protocols)) {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	id := in.memberID
	switch {
	case id == "":
		if len(g.members)+len(g.pending) >= maxGroupMembers {
			return fail(kerr.GroupMaxSizeReached.Code)
		}
		id = in.newID
		if in.requireKnownID {
			g.pending[id] = now.Add(in.sessionTimeout)
			return &joinResult{memberID: id, code: kerr.MemberIDRequired.Code, generation: -1}, groupOutputs{}
		}
	case g.members[id] == nil:
		if _, ok := g.pending[id]; !ok {
			return fail(kerr.UnknownMemberID.Code)
		}
		delete(g.pending, id)
	}
	m := g.members[id]
	if m == nil {
		m = &member{id: id}
		g.members[id] = m
	}
	m.instanceID, m.clientID, m.clientHost = in.instanceID, in.clientID, in.clientHost
	m.protocols = in.protocols
	m.sessionTimeout, m.rebalanceTimeout = in.sessionTimeout, in.rebalanceTimeout
	m.joining = true
	g.protocolType = in.protocolType
	if g.state != groupPreparing {
		outs.add(g.prepareRebalance(now))
	} else {
		g.rebalanceAt = maxTime(g.rebalanceAt, now.Add(m.rebalanceTimeout))
	}
	outs.add(g.maybeComplete(now))
	return nil, outs
}

// compatible reports whether protocols share a name with every member.
func (g *group) compatible(protocols []protocol) bool {
	for _, p := range protocols {
		all := true
		for _, m := range g.members {
			if !m.supports(p.name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (m *member) supports(name string) bool {
	for _, p := range m.protocols {
		if p.name == name {
			return true
		}
	}
	return false
}

// prepareRebalance moves to PreparingRebalance; held syncs are answered
// REBALANCE_IN_PROGRESS so their members rejoin.
func (g *group) prepareRebalance(now time.Time) groupOutputs {
	var outs groupOutputs
	for _, m := range g.members {
		if m.syncing {
			m.syncing = false
			outs.syncs = append(outs.syncs, syncResult{memberID: m.id, code: kerr.RebalanceInProgress.Code})
		}
	}
	var timeout time.Duration
	for _, m := range g.members {
		timeout = max(timeout, m.rebalanceTimeout)
	}
	if g.state == groupEmpty && g.initialDelay > 0 {
		g.initialUntil = now.Add(min(g.initialDelay, timeout))
	}
	g.state = groupPreparing
	g.rebalanceAt = now.Add(timeout)
	return outs
}

// maybeComplete ends PreparingRebalance once every member has rejoined (and
// an empty group's initial delay passed).
func (g *group) maybeComplete(now time.Time) groupOutputs {
	if g.state != groupPreparing || now.Before(g.initialUntil) {
		return groupOutputs{}
	}
	for _, m := range g.members {
		if !m.joining {
			return groupOutputs{}
		}
	}
	return g.completeJoin(now)
}

// completeJoin drops members that did not rejoin, starts a new generation
// and answers every held join.
func (g *group) completeJoin(now time.Time) groupOutputs {
	for id, m := range g.members {
		if !m.joining {
			delete(g.members, id)
		}
	}
	g.generation++
	g.initialUntil = time.Time{}
	if len(g.members) == 0 {
		g.state, g.leader, g.protocol, g.protocolType = groupEmpty, "", "", ""
		return groupOutputs{}
	}
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if g.members[g.leader] == nil {
		g.leader = ids[0]
	}
	g.protocol = g.chooseProtocol()
	g.state = groupCompleting
	var outs groupOutputs
	metas := make([]memberMeta, 0, len(ids))
	for _, id := range ids {
		m := g.members[id]
		metas = append(metas, memberMeta{id: id, instanceID: m.instanceID, metadata: m.metadata(g.protocol)})
	}
	for _, id := range ids {
		m := g.members[id]
		m.joining = false
		m.assignment = nil
		m.deadline = now.Add(m.sessionTimeout)
		r := joinResult{memberID: id, generation: g.generation, protocolType: g.protocolType, protocol: g.protocol, leader: g.leader}
		if id == g.leader {
			r.members = metas
		}
		outs.joins = append(outs.joins, r)
	}
	return outs
}

func (m *member) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// chooseProtocol picks the leader's most preferred protocol that every
// member supports (join admits only compatible members, so one exists).
func (g *group) chooseProtocol() string {
	for _, p := range g.members[g.leader].protocols {
		all := true
		for _, m := range g.members {
			all = all && m.supports(p.name)
		}
		if all {
			return p.name
		}
	}
	return ""
}

// sync handles a SyncGroup; assignments are the leader's, by member id.
func (g *group) sync(now time.Time, memberID string, generation int32, assignments map[string][]byte) (immediate *syncResult, outs groupOutputs) {
	fail := func(code int16) (*syncResult, groupOutputs) {
		return &syncResult{memberID: memberID, code: code}, groupOutputs{}
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return fail(kerr.UnknownMemberID.Code)
	case generation != g.generation:
		return fail(kerr.IllegalGeneration.Code)
	case g.state == groupPreparing:
		return fail(kerr.RebalanceInProgress.Code)
	}
	m.deadline = now.Add(m.sessionTimeout)
	if g.state == groupStable {
		return &syncResult{memberID: memberID, assignment: m.assignment, protocolType: g.protocolType, protocol: g.protocol}, outs
	}
	// CompletingRebalance.
	if memberID != g.leader {
		m.syncing = true
		return nil, outs
	}
	for id, mm := range g.members {
		mm.assignment = assignments[id]
		if mm.syncing || id == memberID {
			mm.syncing = false
			outs.syncs = append(outs.syncs, syncResult{memberID: id, assignment: mm.assignment, protocolType: g.protocolType, protocol: g.protocol})
		}
	}
	g.state = groupStable
	return nil, outs
}

// heartbeat keeps a member's session alive and tells it to rejoin while a
// rebalance is being prepared.
func (g *group) heartbeat(now time.Time, memberID string, generation int32) int16 {
	m := g.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case g.state == groupPreparing:
		m.deadline = now.Add(m.sessionTimeout)
		return kerr.RebalanceInProgress.Code
	case generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	m.deadline = now.Add(m.sessionTimeout)
	return 0
}

// leave removes a member; the others rebalance.
func (g *group) leave(now time.Time, memberID string) (int16, groupOutputs) {
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID.Code, groupOutputs{}
	}
	var outs groupOutputs
	if m.joining {
		outs.joins = append(outs.joins, joinResult{memberID: memberID, code: kerr.UnknownMemberID.Code, generation: -1})
	}
	if m.syncing {
		outs.syncs = append(outs.syncs, syncResult{memberID: memberID, code: kerr.UnknownMemberID.Code})
	}
	delete(g.members, memberID)
	outs.add(g.membersChanged(now))
	return 0, outs
}

// membersChanged rebalances after members left or expired.
func (g *group) membersChanged(now time.Time) groupOutputs {
	if len(g.members) == 0 {
		if g.state != groupEmpty {
			g.generation++
		}
		g.state, g.leader, g.protocol, g.protocolType = groupEmpty, "", "", ""
		return groupOutputs{}
	}
	var outs groupOutputs
	if g.state != groupPreparing {
		outs.add(g.prepareRebalance(now))
	}
	outs.add(g.maybeComplete(now))
	return outs
}

// commitAllowed checks an OffsetCommit's member and generation. Commits
// with generation -1 and no member id (consumers without group management)
// are allowed while the group has no members.
func (g *group) commitAllowed(memberID string, generation int32) int16 {
	if generation < 0 && memberID == "" {
		if len(g.members) == 0 {
			return 0
		}
		return kerr.UnknownMemberID.Code
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case generation != g.generation:
		return kerr.IllegalGeneration.Code
	case g.state == groupCompleting:
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// tick expires pending member ids and sessions and ends rebalances whose
// time is up.
func (g *group) tick(now time.Time) groupOutputs {
	for id, at := range g.pending {
		if !now.Before(at) {
			delete(g.pending, id)
		}
	}
	var outs groupOutputs
	switch g.state {
	case groupPreparing:
		if !now.Before(g.rebalanceAt) {
			outs.add(g.completeJoin(now))
		} else {
			outs.add(g.maybeComplete(now))
		}
	case groupCompleting, groupStable:
		expired := false
		for id, m := range g.members {
			if !now.Before(m.deadline) {
				if m.syncing {
					outs.syncs = append(outs.syncs, syncResult{memberID: id, code: kerr.UnknownMemberID.Code})
				}
				delete(g.members, id)
				expired = true
			}
		}
		if expired {
			outs.add(g.membersChanged(now))
		}
	}
	return outs
}

// nextDeadline is when tick next has work (zero: nothing scheduled).
func (g *group) nextDeadline() time.Time {
	var at time.Time
	for _, t := range g.pending {
		at = minTime(at, t)
	}
	switch g.state {
	case groupPreparing:
		at = minTime(at, g.rebalanceAt)
		if !g.initialUntil.IsZero() {
			at = minTime(at, g.initialUntil)
		}
	case groupCompleting, groupStable:
		for _, m := range g.members {
			at = minTime(at, m.deadline)
		}
	}
	return at
}

// idle reports whether the group holds nothing worth keeping in memory.
func (g *group) idle() bool {
	return g.state == groupEmpty && len(g.pending) == 0
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
