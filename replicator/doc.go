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
// Each region keeps, per origin, a FIFO journal of that origin's operations
// it has delivered. The journal stores each op's metadata (Meta, see
// AppendMeta): the HLC and the dependency components that grew since the
// previous op of the origin, with a full vector every KeyframeEveryOps ops
// (and after a restart), so a reader can rebuild any op's dependencies by
// reading at most KeyframeEveryOps-1 extra records (BuildBatches).
//
// # Engine
//
// Engine is a pure state machine in the style of etcd's raft: no goroutine,
// socket, clock or log inside. Inputs: Publish (a local op), ReceiveBatch,
// ReceiveAck, Tick(now), PeerUp/PeerDown, AddRegion/EvictRegion, and New
// with a Restore (journal ends, highest HLC) after a restart. Ready returns
// an Output:
//
//   - Deliveries, in causal order: the shell applies each and appends it to
//     the origin's journal (AppendMeta) BEFORE sending any Ack or Send of
//     the same Output, so nothing is advertised that a crash could lose;
//   - Sends: (peer, origin, seq range) that the shell reads from its journal
//     (BuildBatches), encodes (Codec.AppendBatch) and ships;
//   - Acks: the delivered vector to advertise to a peer (only the changed
//     components, with a full refresh every FullAckInterval).
//
// Transport is at-least-once: batches and acks may be lost, duplicated or
// reordered. Duplicates and replays are ignored by dot. Per peer and origin
// a sender keeps a window of MaxInflightOps unacknowledged ops and goes back
// to the last ack when acks stall for RetransmitTimeout (doubling up to
// MaxRetransmitTimeout). A region ships its own ops to every peer; it ships
// a third origin X's ops to peer P only when P's advertised count of X lags
// its own and has not advanced for RelayDelay, and keeps relaying until P
// has caught up. In the normal case the origin feeds P, P's advertisement
// keeps advancing, and nothing is relayed; a region cut off from X gets X's
// ops through any region that has them.
//
// Stable is the minimum over the non-evicted members' latest advertised
// vectors (collections compact below it); EvictRegion stops a departed
// region from pinning it. Lag reports per peer how many ops and how long
// (from the ops' HLC wall times) the peer is behind.
//
// # Wire
//
// Codec encodes batches and acks: a version byte, a kind byte, the body, a
// CRC-32C and an HMAC-SHA256 with the fabric secret, both verified before
// the body is parsed. Everything is bounded (MaxBatchOps, MaxBatchBytes,
// MaxRegions, MaxRegionNameBytes) and checked before allocating. A batch
// names each region once in a table; the first op carries its full
// dependency vector as (table index, value) pairs, each later op only the
// components that grew, as (table index, increment) uvarints, plus a
// zig-zag delta of its HLC wall time. With 100 regions all publishing, a
// batch costs a few bytes of metadata per op (see BenchmarkMetadataBytes:
// the figure is reported as meta-bytes/op). Decoding garbage, truncated or
// forged input returns an error; the engine then rejects batches that are
// replays (ErrDuplicateBatch), start too far ahead of what it has delivered
// or depend on its own ops it has not created (ErrFutureDot), or reference
// unknown regions (ErrUnknownRegion), without changing state.
//
// Dedup (producer name -> highest sequence id, bounded LRU) is a separate
// pure component that the broker also uses at publish time; Clock is the
// hybrid logical clock. Sub-packages: replicator/link is a seeded
// fault-injecting link (latency, jitter, loss, duplication, reordering,
// partitions) for the simulator and for emulated WAN links;
// replicator/sim is the deterministic multi-region simulator.
package replicator
