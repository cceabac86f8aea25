// Package transport owns moving the replication shell's wire messages
// between regions over TCP: one listener per node, one outbound connection
// per peer with reconnect and backoff, length-prefixed frames, and an
// emulated WAN (replicator/link) on every outbound link: one-way latency,
// jitter, loss, and links cut and restored at runtime. Like the TCP
// connection under it, an emulated link keeps frames in order: jitter
// delays a frame and those behind it; loss drops whole frames.
//
// A connection carries one direction: a node writes its batches and acks
// for peer P on its own connection to P and reads P's on the connection P
// opened. The first frame of a connection is a hello, an empty Ack from the
// dialer to the listener sealed with the fabric secret (replicator.Codec),
// which binds the connection to a peer; every later frame is handed to the
// Handler as it is, to be decoded and checked by the shell.
//
// A peer region may be a cluster of several nodes of which one, the leader
// of the region's replication journals, runs the region's transport; the
// others do not listen. Its address in Config.Peers is then the list of
// every node, "h1:p1,h2:p2,h3:p3" (one "host:port" stays valid; at most
// MaxPeerAddrs; ParseAddrs). The outbound side dials the list in turn,
// moving to the next address when a dial or the hello fails or a
// connection breaks, and backs off once per full round of failures, so a
// new leader is found without extra wait. LinkStatus.Addr shows the address
// connected or being dialed. The inbound side binds a connection to a
// region by its hello, whatever node it comes from.
//
// The transport is at-most-once: a full queue, a cut link, emulated loss or
// a broken connection drops frames, and the engine's retransmission and
// acks make replication at-least-once on top of it. Every queue is bounded
// (MaxQueuedFrames per peer, MaxDelayedBytes held by the emulated WAN per
// peer, MaxInbound connections), so a peer that is down for an hour costs
// its peers no memory: their backlog is the journal on disk.
package transport
