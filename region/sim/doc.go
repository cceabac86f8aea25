// Package sim is the deterministic simulator of one region of many nodes:
// the region's metadata log (a Raft group, modelled as a log that only a
// node on the side of a majority of voters can append to or learn from),
// log shipping of units between nodes (region.Leader and region.Follower),
// the controller (region.Controller), producers that retry under the same
// identity, and faults — crashes, wiped disks, paused processes (a leader
// that wakes up deposed), partitions, nodes added and drained — all driven
// by one seeded PRNG, so any failure replays from its seed.
//
// Checkers: every acknowledged record stays at the offset it was
// acknowledged at (nothing lost, nothing reordered), no two records are
// acknowledged at one offset of a unit (no split brain), no record is
// stored twice, producers' records are in their order, and once the faults
// stop every unit has a leader and every in-sync replica holds the
// leader's log, and every co-location group (groups.go, one unit of which
// is created while faults run) has one replica list and one leader.
package sim
