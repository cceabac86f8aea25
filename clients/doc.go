// Package clients is the Go client library of Causeway's streams, spoken over
// the WebSocket API: Pulsar's WebSocket API frame for frame (broker/wsproto)
// by default, or Causeway's binary framing causeway-binary-v1
// (broker/wsbin) with WithBinaryProtocol, which carries many messages per
// frame both ways and no base64.
//
// It owns:
//   - Client: the base URL (or the base URLs of a region's nodes: a service
//     URL listing them separated by commas, as Pulsar's multi-host service
//     URL), credentials, tenant/fabric defaults, dialing and reconnect policy
//     shared by everything created from it;
//   - Producer: asynchronous, batched (one JSON array per frame), pipelined
//     publishing with in-order completion callbacks, a bound on messages in
//     flight, and at-least-once resending after a reconnect (the producer name
//     and sequence ids let the server de-duplicate);
//   - Consumer: a subscription (exclusive, shared or failover; one stream or
//     several) with a receive queue bounded by ReceiverQueueSize, individual,
//     cumulative and negative acks, pull-mode permits, and re-subscribing
//     after a dropped connection;
//   - Reader: a subscription-less cursor that resumes after the last message
//     it returned.
//
// The pure parts (the producer's outbox, URL building, frame decoding, the
// backoff rule and error classification) do no I/O and are tested alone; the
// shells around them own the sockets and goroutines and log through zap.
//
// With several base URLs a connection that cannot be made, is refused with
// a retryable status (5xx, 408, 429) or is lost or closed by the server
// reconnects to the next node, round robin, with the reconnect backoff
// between attempts; any node of a region serves any stream (it proxies to
// the stream's leader). A producer keeps its name and sequence ids across
// nodes, so the server de-duplicates what it resends; a consumer subscribes
// again; a reader resumes after the last message it returned.
//
// Connection refusals that cannot succeed on retry (HTTP 400, 401/403, 404,
// 409 on the upgrade) are returned to the caller as a *RefusedError wrapping
// one of the sentinel errors; close frames from the server surface as a
// *CloseError carrying the server's reason.
package clients
