package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Coordinator key types.
const coordinatorGroup = 0

// findCoordinator names every group's coordinator: this node, or in a
// region of several nodes the node coordinatorOf picks for the group
// (cluster.go); transaction coordinators do not exist here.
func (c *conn) findCoordinator(req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	find := func(key string) (id int32, host string, port int32, code int16) {
		if req.CoordinatorType != coordinatorGroup {
			return -1, "", -1, kerr.CoordinatorNotAvailable.Code
		}
		if c.s.cluster == nil {
			host, port := c.s.advertised(c.nc.LocalAddr())
			return nodeID, host, port, 0
		}
		coord, ok := coordinatorOf(key, c.s.cluster.view.Nodes())
		if !ok {
			return -1, "", -1, kerr.CoordinatorNotAvailable.Code
		}
		b, _ := brokerOf(coord) // coordinatorOf picks reachable nodes only
		return b.NodeID, b.Host, b.Port, 0
	}
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			k := kmsg.NewFindCoordinatorResponseCoordinator()
			k.Key = key
			k.NodeID, k.Host, k.Port, k.ErrorCode = find(key)
			resp.Coordinators = append(resp.Coordinators, k)
		}
		return resp
	}
	resp.NodeID, resp.Host, resp.Port, resp.ErrorCode = find(req.CoordinatorKey)
	return resp
}
