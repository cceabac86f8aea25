// Package subscription owns durable subscriptions on a stream partition:
// cursors (mark-delete position plus individually acknowledged ranges),
// individual and cumulative acknowledgements, redelivery (negative acks and
// ack timeouts), dead-lettering after too many redeliveries, flow control
// (permits and a bound on unacknowledged messages per consumer) and the
// dispatch rules of exclusive, failover, shared and key_shared
// subscriptions, following Apache Pulsar's semantics (keyshared.go says
// which of Pulsar's Key_Shared modes and rules).
//
// The package has two layers.
//
// The pure core is Dispatcher: a synchronous state machine with no
// goroutines, clocks, I/O or logging. Callers feed it inputs (AddConsumer,
// AddPermits, LogEnd, Ack, Nack, Tick(now), Seek, and on Key_Shared the keys
// of messages ahead with LearnKeys, ...) and read its outputs
// (Dispatch returns which offsets go to which consumer, TakeDeadLetters which
// offsets to dead-letter, CursorVersion whether the durable cursor changed,
// NextDeadline when the next timer is due). It is tested with data-driven
// scripts (testdata/*.txt) and a randomized property test.
//
// The shell is Subscription: one goroutine per subscription runs the dispatch
// loop (woken by the Source, permits, acks and timers), reads records from a
// Source in bounded batches and pushes them to each Consumer's buffered
// channel; a second goroutine persists the cursor to a Store, coalescing
// changes so that acks never wait for an fsync, and Close flushes it.
//
// Semantics worth knowing (Pulsar's unless said otherwise):
//   - Any consumer may acknowledge any dispatched message (the cursor is
//     shared); acks of offsets never dispatched return ErrUnknownMessage.
//   - A consumer that leaves, or loses failover activity, returns its
//     unacknowledged messages for redelivery with their redelivery counts
//     unchanged; nacks and ack timeouts increment the count, and a message
//     whose count passes MaxRedeliverCount is dead-lettered (after the nack
//     delay for a nack, at once for an ack timeout), then acknowledged.
//     Redelivery counts are not durable.
//   - With no consumer attached, the next one to attach may change the
//     subscription's type.
//   - Retention removing unacknowledged messages moves the cursor past them.
//   - Individually acknowledged ranges are unbounded in memory; at most
//     MaxStoredAckRanges of them are persisted (see CursorState).
//
// Delivery is at-least-once: a graceful Close loses no ack and redelivers no
// acknowledged message; a crash may redeliver messages acknowledged after the
// last persisted cursor write, never lose one.
package subscription
