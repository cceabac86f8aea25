package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// leaveGroup removes one member (v0-v2) or several (v3+); the rest
// rebalance.
func (c *conn) leaveGroup(req *kmsg.LeaveGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if resp.ErrorCode = c.s.coordinatorCode(req.Group); resp.ErrorCode != 0 {
		return resp
	}
	if req.Version < 3 {
		resp.ErrorCode = c.s.groups.leave(req.Group, req.MemberID)
		return resp
	}
	for _, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = m.MemberID, m.InstanceID
		rm.ErrorCode = c.s.groups.leave(req.Group, m.MemberID)
		resp.Members = append(resp.Members, rm)
	}
	return resp
}
