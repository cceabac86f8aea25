package kafka

import (
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/naming"
)

// joinGroup adds a member to a group; the answer is held until the
// rebalance completes (v4+ first-time members get MEMBER_ID_REQUIRED with
// their id at once).
func (c *conn) joinGroup(req *kmsg.JoinGroupRequest, sl *slot) {
	sl.abandonable = true
	if naming.Validate("subscription", req.Group) != nil {
		sl.finish(joinResponse(req.Version, joinResult{memberID: req.MemberID, code: kerr.InvalidGroupID.Code, generation: -1}))
		return
	}
	if code := c.s.coordinatorCode(req.Group); code != 0 {
		sl.finish(joinResponse(req.Version, joinResult{memberID: req.MemberID, code: code, generation: -1}))
		return
	}
	in := joinInput{
		memberID:         req.MemberID,
		clientID:         c.clientID,
		clientHost:       remoteHost(c.nc.RemoteAddr()),
		protocolType:     req.ProtocolType,
		sessionTimeout:   time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		rebalanceTimeout: time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		requireKnownID:   req.Version >= 4,
	}
	if req.Version == 0 {
		in.rebalanceTimeout = in.sessionTimeout
	}
	if req.InstanceID != nil {
		in.instanceID = *req.InstanceID
	}
	for _, p := range req.Protocols {
		in.protocols = append(in.protocols, protocol{name: p.Name, metadata: p.Metadata})
	}
	if in.clientID == "" {
		in.clientID = "consumer"
	}
	c.s.groups.join(req, in, sl)
}

func remoteHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return "/" + host
}
