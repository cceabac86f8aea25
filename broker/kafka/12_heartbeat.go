package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// heartbeat keeps a member's session; REBALANCE_IN_PROGRESS tells it to
// rejoin.
func (c *conn) heartbeat(req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if resp.ErrorCode = c.s.coordinatorCode(req.Group); resp.ErrorCode != 0 {
		return resp
	}
	resp.ErrorCode = c.s.groups.heartbeat(req.Group, req.MemberID, req.Generation)
	return resp
}
