// Package shell owns a node's geo-replication: it runs the pure causal
// engine (replicator.Engine) inside goroutines and I/O, journals every
// replicated op, applies ops to streams in causal order, ships batches and
// acks through replicator/transport, and restores everything after a
// restart. server starts it when the node's configuration has peers.
//
// # Fabric
//
// One engine runs per node, and every fabric spans the node's configured
// regions (broker.Config.Regions): a global stream of any tenant and
// fabric is replicated to every region. Streams are global by default in a
// multi-region node; a stream created with global=false stays local. A
// global stream that does not exist yet in a region is created there
// (global) by the first message that reaches it.
//
// # Pipeline
//
// Publishing on a global stream (broker.Producer.PublishAsync routes to
// PublishStream) encodes each message as an op body (body.go: kind, stream,
// record fields) and queues it for the loop goroutine, the only one that
// touches the engine. The loop folds bursts of input (publishes, peer
// batches and acks) into one engine step, ticks the engine, and turns its
// Output into a step:
//
//  1. journal: every delivered op (local or remote) is appended to its
//     origin's journal, a segment log under {DataDir}/repl/{origin} (record
//     = op body + replicator.AppendMeta metadata; group commit);
//  2. the completer goroutine takes steps in order and, once a step's
//     journal writes are durable, applies its deliveries to their streams
//     in delivery (causal) order through broker.Node.ApplyReplicated, which
//     is idempotent on (Origin, OriginSeq); a local publish is acknowledged
//     when its records are in the stream. A message is made durable once
//     per region, by its journal: global streams of a node of one are
//     appended without fsync (broker.Node.SyncReplicated syncs them before
//     the applied watermark passes their records) and written once, their
//     records holding payloads by reference to the journal (payloads.go,
//     segment.Record.PayloadRef), and each journal record
//     carries its place in the order the region applied ops (its
//     SequenceID; replicator.JournalEntry.Order);
//  3. only then are the step's sends and acks handed to the per-peer
//     senders, which read send ranges back from the journals
//     (replicator.BatchBuilder), encode them (replicator.Codec, fabric
//     secret, membership = the engine's regions) and pass them to the
//     transport. Nothing is advertised that a crash could lose.
//
// Ops of other kinds (collections) go through the same path: PublishOp
// and RegisterKind.
//
// # Restart
//
// The journals are the source of truth; streams materialize them. The
// applied watermark (applied.json: every op at or below it is durable in
// its stream) is saved periodically, after syncing the streams. On start
// the shell re-applies the journal tails past the watermark: first in the
// order they were applied (a power cut may have lost a stream tail that
// consumers read: it comes back at the same offsets), then causally what
// was never applied (mergeApplied, mergeCausal); and restores the engine at the
// largest causally consistent cut of the journals (restore.go): journals
// are written in parallel, so a crash can keep an op whose dependency, in
// another journal, was lost. Ops past the cut come again from peers; their
// journal append is skipped and they are applied then.
//
// # Bounds
//
// Publish and peer-message queues, the steps between loop and completer,
// per-peer send queues and the transport's queues are bounded. A peer that
// is down costs no memory: the engine keeps at most MaxInflightOps per
// peer and origin in flight, and the backlog is the journals on disk.
//
// # Admin
//
// Status reports the delivered and stable vectors, per-peer lag (ops and
// milliseconds) and link state; Mount serves it at GET /_api/replication
// with link control at POST /_api/replication/links/{peer}/down|up, and
// exports lag per region pair to Prometheus.
package shell
