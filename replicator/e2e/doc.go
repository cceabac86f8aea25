// Package e2e holds the end-to-end tests of geo-replication with nodes
// started in-process (server.Start) on loopback: publishing and
// consuming in every region, partitions healed, relay through a third
// region, restarts, and bad input from peers. It has no non-test code;
// the real-process tests (kill -9 under load, causeway dev) live in
// cmd/causeway.
package e2e
