// Package ship owns log shipping inside a region: the shell around the
// pure leader and follower of package region that moves a unit's records
// between the segment logs of its replicas.
//
// A Replica is one unit's log on one node (a segment log and its leader
// epoch history, persisted beside it). As leader it appends the records it
// is given, answers its followers' fetches from the log (long-polling while
// they are caught up) and acknowledges an append only when the high
// watermark passed it: every in-sync replica holds it fsynced. As follower
// it fetches from the leader of its epoch, truncates where its log
// diverges and appends what the leader sends, in the log's own batch
// format. A Manager runs the replicas of one node from the region's
// metadata (package region/meta): it opens the units this node holds,
// makes each lead or follow as the metadata says (leading starts from a
// linearizable read), proposes in-sync changes for the units it leads, and
// serves the fetch endpoint.
//
// The wire (codec.go) is HTTP between the nodes' data addresses, signed
// both ways with the region secret; every answer is decoded and checked
// before it touches a log.
package ship
