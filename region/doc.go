// Package region owns what makes a region of many nodes one broker: who is
// a member, which node leads each replicated log (a stream partition, a
// collection's op log, a fabric's replication journal), the epochs that
// fence a deposed leader, and the in-sync replica sets that decide when a
// write may be acknowledged. Consensus is used here and only here, inside
// one data center; across regions nothing changes.
//
// # Shape (KRaft + ISR)
//
// The region's metadata is one Raft group (dragonboat) whose state machine
// is State: Apply(State, Command) is a pure, deterministic function, so the
// same log gives the same state on every node, and the simulator replays
// it without dragonboat. Data is not replicated through Raft: each unit
// (Unit) is a segment log with a leader and followers; followers fetch
// from the leader (log shipping) and the leader acknowledges a record once
// every member of the unit's in-sync set has it durable and that set has
// at least MinInSync members. Leader and in-sync changes are commands in
// the metadata log, so a node that cannot reach the Raft majority can
// never change them:
//
//   - a leader's epoch grows with every change of leader; followers refuse
//     fetch sessions of another epoch, so a deposed leader (cut off, or
//     back after a pause) cannot collect the acknowledgements it needs;
//   - only the unit's leader at the current epoch may shrink or grow the
//     in-sync set (AlterInSync carries the epoch it was decided at), and a
//     new leader is only ever chosen from the in-sync set, which holds
//     every acknowledged record;
//   - a node that lost its disk comes back with a new incarnation;
//     RegisterNode with a new incarnation removes it from every in-sync
//     set before it serves anything, so an empty replica is never counted
//     as holding data.
//
// The controller (the node holding the Raft leadership) keeps the
// liveness of nodes in memory from their heartbeats and turns what it
// sees into commands (Controller): fence a node whose session expired
// (its units get new leaders), unfence it when it is back, place new
// units, move replicas when a node is added, drained or gone for good.
// Its decisions are proposals; Apply validates each against the state it
// meets in the log, so a stale or duplicated proposal changes nothing.
//
// Units that must share a leader (a fabric's replication journals and its
// global streams, which one geo-replication shell drives) form a
// co-location group (group.go): created with the group's replica list in
// its order (PlaceIn), moved as one by the controller, and brought back
// under one leader when elections split them; GroupLeader names the node
// leading all of them and the term of that leadership.
//
// Log replication itself (replog.go) is a pure state machine too: the
// leader side answers fetches (records, high watermark, or where a
// follower's log diverges from the leader's epochs) and the follower side
// truncates and appends. The simulator (region/sim) runs nodes, a Raft
// log, clients and faults on one seeded PRNG and checks that no
// acknowledged record is lost, duplicated or reordered.
package region
