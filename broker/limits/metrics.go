package limits

import "sync/atomic"

// Metrics counts refusals and throttles; the caller reads it (no global
// registry).
type Metrics struct {
	// ConnsRefused counts connections closed at accept because their
	// client address held MaxConnsPerIP connections.
	ConnsRefused atomic.Uint64
	// KafkaThrottled counts Kafka requests answered with a throttle time
	// (their principal was over its request rate; the connection was not
	// read again until the throttle passed).
	KafkaThrottled atomic.Uint64
	// KafkaTooLarge counts Kafka requests larger than the listener's
	// request bound (maxKafkaRequestBytes); each closed its connection.
	KafkaTooLarge atomic.Uint64
}
