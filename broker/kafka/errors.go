package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// ErrInvalidPartitions: a partition count out of bounds, or not above the
// topic's (partitions only grow).
var ErrInvalidPartitions = errors.New("kafka: invalid partition count")

// errorCode maps an error of this package or one below it to the Kafka
// error code a response carries.
func errorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, broker.ErrNotOwner):
		var no *broker.NotOwnerError
		if errors.As(err, &no) {
			return notLeaderCode(no.Leader)
		}
		return kerr.NotLeaderForPartition.Code
	case errors.Is(err, ErrUnknownTopic), errors.Is(err, broker.ErrStreamNotFound),
		errors.Is(err, broker.ErrFabricNotFound), errors.Is(err, broker.ErrTenantNotFound),
		errors.Is(err, broker.ErrFabricElsewhere):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, naming.ErrInvalidName):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, broker.ErrStreamExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, ErrInvalidPartitions):
		return kerr.InvalidPartitions.Code
	case errors.Is(err, ErrTopicMetaUnavailable), isRegionUnavailable(err):
		return kerr.RequestTimedOut.Code // retriable: the change may still apply
	case errors.Is(err, ErrBadTopicEvent):
		return kerr.InvalidRequest.Code
	case errors.Is(err, ErrCorruptBatch), errors.Is(err, ErrCompression):
		return kerr.CorruptMessage.Code
	case errors.Is(err, ErrUnsupportedFormat):
		return kerr.UnsupportedForMessageFormat.Code
	case errors.Is(err, ErrTransactionalBatch):
		return kerr.TransactionalIDAuthorizationFailed.Code
	case errors.Is(err, ErrBatchTooLarge), errors.Is(err, broker.ErrMessageTooLarge), errors.Is(err, segment.ErrRecordTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, segment.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, broker.ErrBadRequest):
		return kerr.InvalidRequest.Code
	case errors.Is(err, broker.ErrTooManyProducers):
		return kerr.PolicyViolation.Code
	case errors.Is(err, broker.ErrClosed):
		return kerr.NotLeaderForPartition.Code // retriable: the client retries elsewhere or later
	}
	return kerr.UnknownServerError.Code
}

// isRegionUnavailable: the region's metadata group could not serve (a
// node starting, or no quorum). Retriable.
func isRegionUnavailable(err error) bool { return errors.Is(err, broker.ErrRegionUnavailable) }
