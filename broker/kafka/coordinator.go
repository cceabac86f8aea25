package kafka

import (
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// maxGroups bounds the groups held in memory.
const maxGroups = 10_000

// coordinator is the shell around the group state machines: it holds
// JoinGroup and SyncGroup requests until their group answers them, and one
// goroutine runs the groups' timers.
type coordinator struct {
	s   *Server
	cfg Config
	log *zap.Logger
	now func() time.Time

	mu      sync.Mutex
	groups  map[string]*group
	joins   map[groupMember]heldJoin
	syncs   map[groupMember]heldSync
	nextID  uint64
	wake    chan struct{} // capacity 1
	stop    chan struct{}
	stopped chan struct{}
}

type groupMember struct{ group, member string }

type heldJoin struct {
	sl      *slot
	version int16
}

type heldSync struct {
	sl      *slot
	version int16
}

func newCoordinator(s *Server, cfg Config, log *zap.Logger) *coordinator {
	c := &coordinator{
		s: s, cfg: cfg, log: log, now: time.Now,
		groups:  map[string]*group{},
		joins:   map[groupMember]heldJoin{},
		syncs:   map[groupMember]heldSync{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go c.timers()
	return c
}

func (c *coordinator) close() {
	close(c.stop)
	<-c.stopped
}

func (c *coordinator) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// timers ticks every group when its next deadline is due.
func (c *coordinator) timers() {
	defer close(c.stopped)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		now := c.now()
		var next time.Time
		for id, g := range c.groups {
			if at := g.nextDeadline(); !at.IsZero() && !now.Before(at) {
				c.deliverLocked(id, g.tick(now))
			}
			if g.idle() {
				delete(c.groups, id)
				continue
			}
			next = minTime(next, g.nextDeadline())
		}
		c.mu.Unlock()
		wait := time.Minute
		if !next.IsZero() {
			wait = max(next.Sub(now), time.Millisecond)
		}
		t.Reset(wait)
		select {
		case <-c.stop:
			return
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// groupLocked returns the group id, creating it if create is set.
func (c *coordinator) groupLocked(id string, create bool) *group {
	g := c.groups[id]
	if g == nil && create && len(c.groups) < maxGroups {
		g = newGroup(id, c.cfg.GroupInitialRebalanceDelay, c.cfg.MinSessionTimeout, c.cfg.MaxSessionTimeout)
		c.groups[id] = g
	}
	return g
}

// deliverLocked answers the held requests outs completes.
func (c *coordinator) deliverLocked(groupID string, outs groupOutputs) {
	for _, r := range outs.joins {
		k := groupMember{groupID, r.memberID}
		if h, ok := c.joins[k]; ok {
			delete(c.joins, k)
			h.sl.finish(joinResponse(h.version, r))
		}
	}
	for _, r := range outs.syncs {
		k := groupMember{groupID, r.memberID}
		if h, ok := c.syncs[k]; ok {
			delete(c.syncs, k)
			h.sl.finish(syncResponse(h.version, r))
		}
	}
}

func (c *coordinator) join(req *kmsg.JoinGroupRequest, in joinInput, sl *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.kick()
	g := c.groupLocked(req.Group, true)
	if g == nil {
		sl.finish(joinResponse(req.Version, joinResult{memberID: req.MemberID, code: kerr.CoordinatorNotAvailable.Code, generation: -1}))
		return
	}
	c.nextID++
	in.newID = in.clientID + "-" + strconv.FormatInt(c.now().UnixNano(), 36) + "-" + strconv.FormatUint(c.nextID, 10)
	immediate, outs := g.join(c.now(), in)
	if immediate != nil {
		sl.finish(joinResponse(req.Version, *immediate))
		return
	}
	id := in.memberID
	if id == "" {
		id = in.newID
	}
	k := groupMember{req.Group, id}
	if old, ok := c.joins[k]; ok {
		// A member re-sending its join: the older request is superseded.
		old.sl.finish(joinResponse(old.version, joinResult{memberID: id, code: kerr.RebalanceInProgress.Code, generation: -1}))
	}
	c.joins[k] = heldJoin{sl: sl, version: req.Version}
	c.deliverLocked(req.Group, outs)
}

func (c *coordinator) sync(req *kmsg.SyncGroupRequest, sl *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.kick()
	g := c.groupLocked(req.Group, false)
	if g == nil {
		sl.finish(syncResponse(req.Version, syncResult{code: kerr.UnknownMemberID.Code}))
		return
	}
	assignments := make(map[string][]byte, len(req.GroupAssignment))
	for _, a := range req.GroupAssignment {
		assignments[a.MemberID] = a.MemberAssignment
	}
	immediate, outs := g.sync(c.now(), req.MemberID, req.Generation, assignments)
	if immediate != nil {
		sl.finish(syncResponse(req.Version, *immediate))
		return
	}
	c.syncs[groupMember{req.Group, req.MemberID}] = heldSync{sl: sl, version: req.Version}
	c.deliverLocked(req.Group, outs)
}

func (c *coordinator) heartbeat(group, member string, generation int32) int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groupLocked(group, false)
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	return g.heartbeat(c.now(), member, generation)
}

func (c *coordinator) leave(group, member string) int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.kick()
	g := c.groupLocked(group, false)
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	code, outs := g.leave(c.now(), member)
	c.deliverLocked(group, outs)
	return code
}

func (c *coordinator) commitAllowed(group, member string, generation int32) int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groupLocked(group, false)
	if g == nil {
		if generation < 0 {
			return 0
		}
		return kerr.UnknownMemberID.Code
	}
	return g.commitAllowed(member, generation)
}

// groupInfo is a snapshot for DescribeGroups and ListGroups.
type groupInfo struct {
	id, state, protocolType, protocol string
	members                           []memberInfo
}

type memberInfo struct {
	id, instanceID, clientID, clientHost string
	metadata, assignment                 []byte
}

func (c *coordinator) describe(id string) (groupInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[id]
	if g == nil {
		return groupInfo{}, false
	}
	info := groupInfo{id: id, state: g.state.String(), protocolType: g.protocolType, protocol: g.protocol}
	if g.state == groupEmpty {
		info.state = "Empty"
	}
	for _, m := range g.members {
		info.members = append(info.members, memberInfo{
			id: m.id, instanceID: m.instanceID, clientID: m.clientID, clientHost: m.clientHost,
			metadata: m.metadata(g.protocol), assignment: m.assignment,
		})
	}
	return info, true
}

// forgetIdle removes group id from memory if it has no member and no
// pending join; a group with members is errNonEmptyGroup. It reports
// whether the group was in memory.
func (c *coordinator) forgetIdle(id string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[id]
	if g == nil {
		return false, nil
	}
	if !g.idle() {
		return true, errNonEmptyGroup
	}
	delete(c.groups, id)
	return true, nil
}

func (c *coordinator) list() []groupInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]groupInfo, 0, len(c.groups))
	for id, g := range c.groups {
		out = append(out, groupInfo{id: id, state: g.state.String(), protocolType: g.protocolType})
	}
	return out
}

func joinResponse(version int16, r joinResult) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.ErrorCode = r.code
	resp.Generation = r.generation
	resp.MemberID = r.memberID
	resp.LeaderID = r.leader
	resp.Protocol = kmsg.StringPtr(r.protocol)
	if r.code != 0 {
		resp.Protocol = nil
		if version < 7 {
			resp.Protocol = kmsg.StringPtr("")
		}
	} else {
		resp.ProtocolType = kmsg.StringPtr(r.protocolType)
	}
	for _, m := range r.members {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID = m.id
		if m.instanceID != "" {
			rm.InstanceID = kmsg.StringPtr(m.instanceID)
		}
		rm.ProtocolMetadata = m.metadata
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

func syncResponse(version int16, r syncResult) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	resp.ErrorCode = r.code
	resp.MemberAssignment = r.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	if r.code == 0 {
		resp.ProtocolType = kmsg.StringPtr(r.protocolType)
		resp.Protocol = kmsg.StringPtr(r.protocol)
	}
	return resp
}
