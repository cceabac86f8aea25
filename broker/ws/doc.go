// Package ws owns Causeway's WebSocket front end: Pulsar's WebSocket API
// (producer, consumer, reader endpoints; frames from broker/wsproto) served
// over gorilla/websocket on top of a broker.Node, and, for connections that
// ask for it with ?protocol=causeway-binary-v1, the binary framing of
// broker/wsbin (binary_producer.go, binary_consumer.go): batched publish
// frames with one compact ack each, pushed frames of many messages, acks
// many per frame, through the same producers, subscriptions, limits and
// flow control as the JSON frames. Each connection has one reader
// goroutine (frames in) and one writer goroutine (frames out, pings);
// every queue between them is bounded. A connection authenticated with an
// API key or a token (broker/auth) is closed with 1008 (policy violation)
// when the key is revoked or the credential expires.
package ws
