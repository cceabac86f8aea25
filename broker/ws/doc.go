// Package ws owns Causeway's WebSocket front end: Pulsar's WebSocket API
// (producer, consumer, reader endpoints; frames from broker/wsproto) served
// over gorilla/websocket on top of a broker.Node. Each connection has one
// reader goroutine (frames in) and one writer goroutine (frames out, pings);
// every queue between them is bounded. A connection authenticated with an
// API key or a token (broker/auth) is closed with 1008 (policy violation)
// when the key is revoked or the credential expires.
package ws
