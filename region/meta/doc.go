// Package meta runs a region's metadata group: the dragonboat Raft group
// whose state machine is region.State, on every node of the region. It
// owns the node's identity in the region (node id, incarnation, Raft
// replica id, kept under DataDir/region), bootstrapping or joining the
// group, proposals and linearizable reads, heartbeats, and the controller
// loop that runs on whichever node leads the group.
//
// # Identity and joining
//
// A node has a configured id; each life of its disk has an incarnation
// (drawn when its data directory is empty) and a Raft replica id. The
// initial voters of a new region bootstrap the group with replica id =
// node id. Any other start with an empty directory — a new node, or a
// voter whose disk was wiped — joins: it asks a member over HTTP (POST
// /_api/region/join, authenticated with the region secret) to add a new
// replica id to the group, then starts with join=true. A wiped voter
// therefore never votes again under its old replica id (Raft's safety
// relies on votes being durable); the controller removes dead replica ids
// and promotes joiners to voters while the group has fewer than MaxVoters.
// Before bootstrapping, a listed voter asks its peers whether the region
// knows its node: if so its disk was lost and it joins; if not it never
// ran (a node registers as soon as it starts) and it bootstraps as itself,
// however late it starts. (A node wiped after starting and before its
// registration committed would bootstrap again: that window is one
// proposal long.)
//
// # Heartbeats and the controller
//
// Every node proposes a heartbeat (region.KindHeartbeat) each
// HeartbeatInterval: a node that cannot reach the Raft majority cannot
// commit one and is fenced after SessionTimeout. The node leading the group
// feeds the heartbeats it applies to a region.Controller and proposes its
// decisions every ControllerInterval; a new leader starts a new controller
// that gives every node a full session.
package meta
