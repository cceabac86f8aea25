// Package service is the shell around the collections core: it turns
// document, key/value and query requests into ops, makes them durable in a
// broker stream (the collection's op log), applies them with the reducer to
// the Pebble view (collections/store), publishes every applied change to
// the collection's change-feed stream, expires key/value entries, and
// serves queries through bounded cursors.
//
// # Streams
//
// Collection c of fabric f (tenant t) owns two persistent streams of that
// fabric, created with it and deleted with it:
//
//	_col.c      the op log: one message per op (payload: collections.Op
//	            binary encoding, key: document key, producer "_collections")
//	_changes.c  the change feed: one message per changed document (see
//	            Change), consumable with every subscription type
//
// # Write path
//
// A write takes the collection's write lock, reads the current states (from
// the pending overlay, else the view), checks preconditions, validates the
// ops, takes a dot, context and HLC per op from the Sequencer, applies them
// to copies of the states, compacts below the stable vector, and publishes
// the ops to the op log; the lock is released before the fsync, so
// concurrent writes share group commits. When the log reports the ops
// durable (its writer goroutine runs the callbacks in log order) the new
// states are committed to the view, the waiting request answers, and the
// change events go to the change feed with the op's log offset as their
// sequence id (the broker drops a re-sent one). The view records, with each
// commit, the vector of ops it reflects, and the change feed's callback
// records the log position up to which events are durable.
//
// # Restart
//
// On start each collection re-reads its op log from that position: an op
// the view's vector covers only has its change event re-published (a
// duplicate is dropped by sequence id); any other op is applied. Nothing
// acknowledged is lost, whatever the crash point.
//
// # Several regions
//
// In a node with peers the service uses a GeoSequencer and, once
// AttachReplication hands it the replication shell, replicates through it
// (ops of shell.KindCollectionOp, payloads in replpayload.go): a shipper
// per collection (ship.go) tails the op log and publishes this region's
// ops; collection, index and saved-query changes are metadata events
// applied in every region; ApplyReplicated (geo.go) applies what the shell
// delivers, in causal order, and must be registered before the shell
// starts (shell.Options.Kinds). Compaction follows what every region is
// known to have applied (GeoSequencer, acks). A new region bootstraps from
// another's snapshot (snapshot.go, bootstrap.go). README-collections.md,
// "Several regions", has the whole story.
//
// # A geo-replicated region of several nodes
//
// Options.Cluster and AttachReplication together (clustergeo.go): the
// region's replication runs on the node leading the co-location group of
// its journals, and every collection's op log and change feed are in that
// group, so that node serves every collection (but for moments of
// failover, when the group's units move one by one). What is per node in
// a region of one becomes, when a collection's lead moves to another node:
//
//   - The GeoSequencer: the new leader forgets the collection's state and
//     rebuilds it before it serves, from its view's vector and HLC and the
//     op log it replays up to the barrier (every acknowledged op: its own
//     region's dots and the remote ops applied through the log). Its next
//     dot follows the highest of its region in the log, its HLC every HLC
//     there, so no acknowledged dot is reused. A dot reserved by the old
//     leader whose op never got acknowledged may be handed out again: that
//     op was in no view, change feed or shipment (all three wait for the
//     acknowledgement) and the old leader's copy is truncated when it
//     follows again. What other regions are known to have applied is
//     relearned from the remote ops replayed and from their next acks;
//     until then compaction waits (never early).
//   - The shipped position: kept in the node's view and, at most every
//     shipSaveInterval and when the shipper stops, in the region's map
//     (collections/s/...: collection id and op-log offset, the same on
//     every replica). A new leader ships from the higher of the two; ops
//     shipped twice are ignored by their collection dot everywhere, so an
//     older position only costs bandwidth.
//   - The replicated-applied vector (replApplied): per node, in its view,
//     only a shortcut - it never claims more than this node applied and
//     got acknowledged in an op log (which outlives the node), and
//     document ops applied twice are ignored by their dot. An op whose
//     collection is not served here now (it opens after the lead moved
//     here, or another node leads its op log for a moment) is not skipped:
//     ApplyReplicatedBatch answers it and every later op of the batch
//     shell.ErrApplyLater, lowers replApplied below it, and the shell keeps
//     its applied watermark below it, fails and re-applies the journal
//     tails (heal, within a second or two; the next node to run the
//     replication does the same from the watermark in the region's map).
//     This region's own document ops are the exception: they were shipped
//     from an op log where they are acknowledged, so they are skipped when
//     the collection is served elsewhere (not while the region joins after
//     losing every disk).
//   - Metadata events: the catalog is the region's map, written where the
//     event is applied (the node running the replication): a creation
//     writes the description (an id drawn there) and creates the streams,
//     a drop deletes them, indexes are built by the node serving the
//     collection and saved in its description, saved queries are catalog
//     keys. Replication applies each origin's events at most once in the
//     region (collections/m/{origin} records the last applied), because
//     applied again after a failover a drop could delete a collection
//     created after it. Requests that publish one (creating a collection,
//     saving or deleting a saved query) are sent to the node running the
//     replication (LocateReplication); dropping a collection and index
//     changes go to the node serving the collection, the same node but
//     for moments of failover, when they are answered 503 (retry).
//
// Not in this mode: bootstrapping from another region's snapshot and
// serving snapshots (a node's view holds only what it served).
package service
