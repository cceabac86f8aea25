// Package replicator owns moving global streams and collection operations
// between regions: dots and dependency vectors, causal delivery,
// de-duplication, catch-up after a partition, relay through a third region,
// causal stability and replication lag.
//
// # Scheme
//
// The region is the actor. Every replicated operation has a dot (origin
// region, seq) with seq dense from 1 per origin, and carries its causal
// dependencies: the delivered vector of its origin when it was created
// (potential causality, not just the producer's history), plus a hybrid
// logical clock timestamp used only to break ties (collections use it). A
// region delivers a remote op when its predecessor in the origin's log and
// every dependency are delivered; otherwise it buffers it (bounded: past
// MaxBufferedOps/MaxBufferedBytes it drops it, and the sender's go-back-N
// retransmission fetches it again from its durable journal). We chose
// per-op dependency vectors over per-region matrix clocks or per-message
// explicit predecessor lists because the vector along one origin's FIFO log
// is monotone: it delta-encodes to a handful of bytes per op, dependency
// checks are incremental, and any region can serve any origin's log from its
// own journal (relay) without rewriting metadata.
//
// # Engine
//
// Engine is a pure state machine in the style of etcd's raft: no goroutine,
// socket, clock or log inside. Inputs: Publish (a local op), ReceiveBatch,
// ReceiveAck, Tick(now), PeerUp/PeerDown, AddRegion/EvictRegion, and New
// with a Restore (journal ends, highest HLC, the last ops' dependencies:
// RestoreFromJournals) after a restart. Ready returns an Output:
//
//   - Deliveries, in causal order: the shell applies each and appends it to
//     the origin's journal (AppendMeta) BEFORE sending any Ack or Send of
//     the same Output, so nothing is advertised that a crash could lose;
//   - Sends: (peer, origin, seq range) that the shell reads from its journal
//     (BatchBuilder.Build), encodes (Codec.AppendBatch, with the codec's
//     membership kept equal to Engine.Regions) and ships;
//   - Acks: the delivered vector to advertise to a peer (only the changed
//     components, with a full refresh every FullAckInterval).
//
// Transport is at-least-once: batches and acks may be lost, duplicated or
// reordered. Duplicates and replays are ignored by dot. Per peer and origin
// a sender keeps a window of MaxInflightOps unacknowledged ops and goes back
// to the last ack when acks stall for RetransmitTimeout (doubling up to
// MaxRetransmitTimeout). A region ships its own ops to every peer; it ships
// a third origin X's ops to peer P only when P's advertised count of X lags
// its own and has not advanced for RelayDelay (stretched by a factor in
// [1, 2) hashed from the three names, so relayers rarely start together),
// and keeps relaying until P has caught up. In the normal case the origin feeds P, P's advertisement
// keeps advancing, and nothing is relayed; a region cut off from X gets X's
// ops through any region that has them.
//
// Stable is the minimum over the non-evicted members' latest advertised
// vectors (collections compact below it); EvictRegion stops a departed
// region from pinning it. Acks are not relayed, so a member whose acks
// cannot reach this region directly pins it too (conservatively) until the
// link heals or the member is evicted. Lag reports per peer how many ops and
// how long (from the ops' HLC wall times) the peer is behind.
//
// # Wire
//
// Codec encodes batches and acks: a version byte, a kind byte, the body, a
// CRC-32C and a MAC keyed by the fabric secret (keyed BLAKE3 in wire
// version 2; HMAC-SHA256 in version 1, still accepted), both verified
// before the body is parsed. Everything is bounded (MaxBatchOps, MaxBatchBytes,
// MaxRegions, MaxRegionNameBytes) and checked before allocating.
//
// Per op a batch carries no seq (ops are consecutive from the first), a
// zig-zag delta of the HLC wall time, the logical counter, and the
// dependency components that grew since the previous op as (region index,
// increment) uvarints, then the body length. The first op of a batch
// carries its full vector, unless the batch is Based: the sender just sent
// (or the peer acknowledged) the op before it, so the first op too carries
// only what grew, and the receiver rebuilds the rest from its record of
// that op, delivered or buffered (ErrMissingBase otherwise; the sender's
// retransmissions are never based). Regions are named once per batch in a
// table, or, when the peer advertised the same MembershipDigest in its
// acks, by their position in the sorted membership (compact batches and
// acks: 8 bytes of digest instead of the names; ErrMembershipMismatch
// during a membership change, and the sender falls back to names).
//
// Cost with 100 regions (BenchmarkMetadataBytes, 64-op batches, 3
// components grown per op): 16.5 bytes of metadata per op compact and
// based, 19.5 compact with a full first vector, 34.8 naming regions,
// MAC, CRC and header included. In general: about 6 bytes per op plus 2 to
// 4 per grown component, plus about 70 bytes per batch (plus 3-4 per
// non-zero component for an unbased batch). BenchmarkMesh runs whole
// fabrics: 100 regions all publishing 8 ops per 10 ms tick cost 38 bytes
// per op in batches and 31 in acks; 100 regions with 5 publishing, 6.4 and
// 25; 3 regions, 6.3 and 1.2.
//
// Decoding garbage, truncated or forged input returns an error; the engine
// then rejects batches that are replays (ErrDuplicateBatch), start too far
// ahead of what it has delivered or depend on its own ops it has not
// created (ErrFutureDot), or reference unknown regions (ErrUnknownRegion),
// without changing state.
//
// # Joining, and a region whose disk was wiped
//
// Dots are dense per origin, so a region that lost its disk and came back
// numbering from 1 again would have its new ops taken for duplicates of
// its previous life's (which its peers hold). A region that starts with
// nothing therefore joins (join.go): its acks say Joining, and it creates
// no op until every peer answered with a full ack saying SeenJoining (or
// JoinTimeout passed), and until it delivered every op of its own origin
// its peers advertise. A peer that sees a Joining ack first drops the ops
// of that origin it buffered past what the joining region has (a previous
// life's that nobody delivered), so it cannot deliver one after its
// answer, when the joined region numbers new ops. Peers treat a full ack
// that goes back (a wiped or truncated peer) as what it is: they lower
// what they believe the peer has, drop its previous life's undelivered ops
// from their buffers, and send everything again, its own origin's ops
// included (relayed back like a third origin's). The region delivers its
// own recovered ops (Delivery.Recovered) like remote ones and then numbers
// new ops after them. Answers echo the stamp of the Joining ack they
// answer; when a peer that advertised some of the region's ops loses its
// disk while the region joins, the region asks every peer again (another
// peer may have got those ops from it after answering) and counts only
// answers to its later acks. So even when every region is wiped in turn,
// the region waits (within JoinTimeout) for every op of its origin that a
// region has delivered and still holds; an op only buffered somewhere, or
// held by no region any more, is dropped, and its dot numbered again by the
// new life. A new fabric joins in two round trips. The case this
// does not cover: a peer that stays unreachable past JoinTimeout and alone
// holds some of the wiped region's last ops. Producers on replicated
// streams hold their publishes until the region joined and applied what it
// got back (broker.Replicator.AwaitJoined), so that de-duplication by
// (producer name, sequence id) sees the previous life's messages: a client
// re-sending what was acknowledged before the wipe is answered duplicate.
//
// # Journal metadata
//
// Each region keeps, per origin, a FIFO journal of that origin's delivered
// operations; the journal stores each op's Meta (AppendMeta): the HLC and
// the dependency components that grew since the previous op of the origin,
// with the full vector every KeyframeEveryOps ops (and on the first
// delivery after a restart without Restore.LastDeps). BatchBuilder reads a
// SendRange back to a keyframe (at most KeyframeEveryOps-1 extra records,
// and usually none: it caches the vectors at range boundaries) to rebuild
// the first op's vector; RestoreFromJournals rebuilds what New needs.
//
// Dedup (producer name -> highest sequence id, bounded LRU) is a separate
// pure component, usable by the broker at publish time too; Clock is the
// hybrid logical clock. Sub-packages: replicator/link is a seeded
// fault-injecting link (latency, jitter, loss, duplication, reordering,
// partitions) for the simulator and for emulated WAN links;
// replicator/sim is the deterministic multi-region simulator.
package replicator
