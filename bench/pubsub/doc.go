// Package pubsub owns the publish/consume workload of `causeway bench
// pubsub` and `causeway bench kafka`: producers publishing stamped messages
// at a fixed or maximum rate, consumers on one or more subscriptions,
// publish-ack and publish-to-deliver latencies, and the check that every
// acknowledged message was delivered once to every subscription.
//
// The workload is the same whatever carries it: a Target (Causeway over
// WebSocket, Causeway through kafka-go, NATS JetStream, Redis Streams;
// see bench/target) only knows how to publish and consume bytes. That is
// what makes the side-by-side comparison with peers fair.
//
// Every payload starts with a 24-byte stamp (stamp.go): producer, sequence
// and the intended send time, so a consumer measures publish-to-deliver
// latency and de-duplicates without any shared state with the producer.
// The stamp codec and the delivery tracker are pure; run.go is the shell.
package pubsub
