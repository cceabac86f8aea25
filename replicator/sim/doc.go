// Package sim owns the deterministic simulation of a Causeway fabric's
// replication: N regions, each a replicator.Engine with an in-memory shell
// (journals per origin, publishing clients with producers, a dedup table),
// exchanging authenticated wire batches and acks over a link.Mesh that
// loses, duplicates, reorders, delays, corrupts and partitions messages
// (symmetrically and asymmetrically), while regions crash and restart from
// their journals, and lose their disk: a wiped region restarts empty,
// joins, gets back every op any other region holds (its own included) and
// numbers new ops after them; the ops no other region delivered go to a
// limbo: no longer expected, but revived if a copy another region received
// and had not delivered yet (buffered) is delivered after all, and
// superseded when the region numbers a new op the same (a later delivery
// of the old one is then reported). One seeded PRNG and a virtual clock drive everything, so a
// seed replays a run exactly.
//
// # Regions of many nodes
//
// With Options.Nodes (go test -nodes N) every region is a cluster of N
// nodes (nodes.go, its faults in nodefaults.go), as README's "Regions of
// many nodes" designs it: the fabric's replication journal is a region unit
// (factor region.DefaultFactor(N)) replicated by log shipping with the real
// region core — region.State as the metadata (a Raft group modelled as a
// log only a node on the side of a majority of the region's nodes can
// append to or learn from), region.Controller fencing nodes whose
// heartbeats stop, region.Leader and region.Follower shipping the journal
// over an in-region network, with leader epochs, in-sync sets and the
// truncation of a follower's log to its new leader's. Each node holds its
// own copy of the journal (nodelog.go); the unit's leader runs the engine
// from its own copy (shell.go, leader.go), and when it dies, is fenced or
// loses the majority (leaseTimeout) another in-sync replica leads and
// starts a new engine from its copy. Nothing leaves a region or is
// acknowledged before the high watermark: an Output's batches and acks are
// held until the journal is committed up to where it was when the Output
// was computed, a publish is acknowledged to its client once the high
// watermark passes it, and the engine's Stable vector is clamped to what
// the journal committed. A deposed leader that has not learnt it yet keeps
// running (other regions may still reach it) until it learns or its lease
// ends; clients resend what was not acknowledged, under the same ids,
// wherever they reconnect, and the dedup table the new leader rebuilt from
// its journal answers those it holds. In-region faults: the leader or a
// follower crashes (it keeps its disk), one node at a time loses its disk
// (it rejoins under a new incarnation and copies the journal again),
// partitions split the nodes or cut the leader from its majority, and heal
// — mixed with every WAN fault, with crashes of every node of a region, and
// with a region losing every disk (which joins as above).
//
// Checkers run on every delivery (no dot delivered twice, per-origin FIFO,
// causal order against an oracle of each op's true dependencies, the
// dependency metadata each region rebuilds matches the oracle, per-producer
// order and no (producer, sequence id) delivered twice, bodies intact), on
// stability (nothing reported stable that some region lacks, or lacked
// before it lost its disk), and at the
// end after healing (nothing lost: every region delivered every op; the
// regions converge; every op acknowledged to its publisher is delivered,
// with its body, in every region). With nodes, the oracle learns a
// region's op when its journal commits it (an op a failover cuts never
// existed for the others), and more checks run: every batch and ack
// leaving a region carries only what its journal committed, no two
// leaders commit different records at one offset, a publish is
// acknowledged only at the offset that holds it, a region has what its
// journal committed (stability), and at the end every in-sync replica
// holds the leader's whole journal.
package sim
