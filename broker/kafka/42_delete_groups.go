package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

// deleteGroups deletes groups with their committed offsets (the
// subscriptions named after them on the fabric's streams, in this region).
// A group with members, or whose subscription has WebSocket consumers
// attached, is refused with NON_EMPTY_GROUP; an unknown one with
// GROUP_ID_NOT_FOUND, as Kafka does.
func (c *conn) deleteGroups(req *kmsg.DeleteGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDeleteGroupsResponseGroup()
		g.Group = id
		if code := c.s.coordinatorCode(id); code != 0 && naming.Validate("subscription", id) == nil {
			g.ErrorCode = code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		if err := c.s.deleteGroup(id); err != nil {
			g.ErrorCode = groupErrorCode(err)
		} else {
			c.log.Info("group deleted", zap.String("group", id))
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}

// Errors of deleteGroup.
var (
	errNonEmptyGroup = errors.New("kafka: the group has members")
	errGroupNotFound = errors.New("kafka: no such group")
)

func groupErrorCode(err error) int16 {
	switch {
	case errors.Is(err, naming.ErrInvalidName):
		return kerr.InvalidGroupID.Code
	case errors.Is(err, errNonEmptyGroup), errors.Is(err, broker.ErrSubInUse):
		return kerr.NonEmptyGroup.Code
	case errors.Is(err, errGroupNotFound):
		return kerr.GroupIDNotFound.Code
	case isRegionUnavailable(err):
		return kerr.CoordinatorNotAvailable.Code
	}
	return errorCode(err)
}

// deleteGroup forgets group id: its in-memory state (only when it has no
// member) and its subscriptions.
func (s *Server) deleteGroup(id string) error {
	if err := naming.Validate("subscription", id); err != nil {
		return err
	}
	inMemory, err := s.groups.forgetIdle(id)
	if err != nil {
		return err
	}
	if s.cluster != nil {
		return s.deleteRegionOffsets(id, inMemory)
	}
	streams := s.groupStreams(id)
	if !inMemory && len(streams) == 0 {
		return errGroupNotFound
	}
	var errs []error
	for _, st := range streams {
		if err := st.DeleteSubscription(id, false); err != nil && !errors.Is(err, broker.ErrSubNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
