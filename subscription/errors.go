package subscription

import "errors"

// Sentinel errors. They are wrapped with context as they rise; test for them
// with errors.Is.
var (
	// ErrExclusiveBusy: a second consumer tried to attach to an exclusive
	// subscription.
	ErrExclusiveBusy = errors.New("subscription: exclusive subscription already has a consumer")
	// ErrTypeMismatch: a consumer asked for a type other than the one of the
	// subscription's attached consumers.
	ErrTypeMismatch = errors.New("subscription: type mismatch")
	// ErrCumulativeAckShared: cumulative acks are refused on Shared and
	// Key_Shared subscriptions (as in Pulsar).
	ErrCumulativeAckShared = errors.New("subscription: cumulative ack is not allowed on a shared subscription")
	// ErrUnknownMessage: an ack or nack named an offset that was never
	// delivered on this subscription, or is out of the log's range.
	ErrUnknownMessage = errors.New("subscription: unknown message")
	// ErrUnknownConsumer: the consumer is not attached (any more).
	ErrUnknownConsumer = errors.New("subscription: unknown consumer")
	// ErrUnsupportedType: not a valid subscription type.
	ErrUnsupportedType = errors.New("subscription: unsupported subscription type")
	// ErrInvalidArgument: a negative count, duration or similar.
	ErrInvalidArgument = errors.New("subscription: invalid argument")
	// ErrClosed: the subscription or consumer is closed.
	ErrClosed = errors.New("subscription: closed")
	// ErrCorruptCursor: a stored cursor state could not be decoded.
	ErrCorruptCursor = errors.New("subscription: corrupt cursor state")
)
