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
package service
