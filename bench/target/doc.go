// Package target holds, one sub-package per client library, the carriers
// of the pubsub workload (bench/pubsub.Target): causewayws (Causeway's Go
// client over WebSocket), kafkago (segmentio/kafka-go against Causeway's
// Kafka listener or any Kafka broker), natsjs (NATS JetStream through
// nats.go) and redisstreams (Redis Streams through go-redis). Each uses
// its client the way that client is meant to be used for throughput:
// asynchronous, pipelined publishing bounded by Plan.MaxInFlight, and
// consumers that acknowledge every message.
package target
