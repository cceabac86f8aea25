package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Coordinator key types.
const coordinatorGroup = 0

// findCoordinator names this node as every group's coordinator;
// transaction coordinators do not exist here.
func (c *conn) findCoordinator(req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	host, port := c.s.advertised(c.nc.LocalAddr())
	code := int16(0)
	if req.CoordinatorType != coordinatorGroup {
		code = kerr.CoordinatorNotAvailable.Code
	}
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			k := kmsg.NewFindCoordinatorResponseCoordinator()
			k.Key, k.ErrorCode = key, code
			if code == 0 {
				k.NodeID, k.Host, k.Port = nodeID, host, port
			} else {
				k.NodeID, k.Port = -1, -1
			}
			resp.Coordinators = append(resp.Coordinators, k)
		}
		return resp
	}
	resp.ErrorCode = code
	if code == 0 {
		resp.NodeID, resp.Host, resp.Port = nodeID, host, port
	} else {
		resp.NodeID, resp.Port = -1, -1
	}
	return resp
}
