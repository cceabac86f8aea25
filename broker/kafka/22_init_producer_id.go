package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// initProducerID hands out an idempotent producer id with epoch 0, or bumps
// the epoch of the id the producer already has (KIP-360). Transactional
// ids are refused: transactions are not supported.
func (c *conn) initProducerID(req *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp
	}
	if req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < 32767 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return resp
	}
	id := c.s.pids.allocate()
	if c.s.cluster != nil {
		self := c.s.cluster.view.SelfID()
		if self == 0 {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code // not in its region yet: retriable
			return resp
		}
		id = regionProducerID(id, self)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

// producerIDNodeBits is how many low bits of a producer id name the node
// of a region of several nodes that handed it out.
const producerIDNodeBits = 12

// regionProducerID makes id, handed out by node, unique in its region: an
// idempotent producer's id reaches every partition leader, and the nodes'
// counters (started from their clocks) may overlap. Ids of nodes whose
// ids differ modulo 4096 never collide.
func regionProducerID(id int64, node uint64) int64 {
	return id<<producerIDNodeBits | int64(node&(1<<producerIDNodeBits-1))
}
