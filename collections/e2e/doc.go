// Package e2e holds the end-to-end tests of collections across regions:
// in-process nodes (server) wired full mesh with their replication
// shells on loopback, driven over the HTTP API. It has no code of its own.
package e2e
