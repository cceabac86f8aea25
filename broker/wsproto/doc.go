// Package wsproto owns the wire format of Causeway's WebSocket API, which is
// Pulsar's WebSocket API frame for frame: the JSON frames producers,
// consumers and readers exchange, the message id encoding, and the URL paths
// and query parameters. It is pure code (no sockets) shared by the server
// (broker/ws) and the Go client (clients).
package wsproto
