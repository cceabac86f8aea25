// Package spot owns SPOT ("single point of truth") collections: strictly
// serializable collections whose every operation goes through one
// dragonboat Raft group whose replicas live in the collection's home
// region. Everything else in Causeway is coordination-free; this is the one
// place consensus is used.
//
// # Layout
//
// The pure core runs transactions: txn.go (the Txn format and its
// validation), exec.go (runTxn: preconditions, then operations in order,
// applied to collections.Doc states with the reducer), patch.go (update
// patches as reducer ops) and command.go (the Raft entry and result
// encodings). It reads state through a small interface and does no I/O.
//
// The shell around it: statemachine.go, lookup.go and snapshot.go are the
// dragonboat IOnDiskStateMachine on Pebble; group.go runs a node's local
// replicas (one NodeHost each) and retries leader changes; service.go,
// catalog.go and documents.go are the Go API; forward.go sends requests for
// collections homed elsewhere to the home region over HTTP; http.go serves
// the HTTP API and hook.go plugs it into the collections API
// (collections/httpapi.Spot); changes.go publishes change events to the
// collections' change-feed streams, keeping in feedbacklog.go (pure) what
// this node could not publish yet (and feedoutbox.go keeps the last
// entries' events in the replica's state, handed over again after a
// restart or a snapshot), and mirror.go answers reads in other
// regions from the replicated copy of those streams when a read allows it
// (marked possibly stale). README.md beside this file describes the API.
//
// # One group per region
//
// A region's SPOT group (dragonboat shard 1) serves every SPOT collection
// homed in that region, so a transaction over several of them is one Raft
// entry. Collections of one transaction must share their home region.
//
// # Documents, revisions and dots
//
// Documents are collections.Doc states, so they look exactly like those of
// any collection (_key, _id, _rev first). Entry i of the log applies its
// reducer ops with dots (home, i<<20 + 1), (home, i<<20 + 2), ..., each
// with a context covering every earlier dot: with a single writer every op
// overrides what it touches and is stable at once, so states are compacted
// as they are written. _rev is the reducer's revision: the same in every
// replica, new on every write.
//
// # Linearizability
//
// Writes are Raft proposals (SyncPropose); reads, read-only transactions
// included, are linearizable reads (SyncRead: ReadIndex, then a Lookup on a
// Pebble snapshot). A proposal retried after a timeout or a leader change
// carries its request id: the state machine answers a request id it
// applied within the last dedupWindowEntries entries with the first answer
// and applies nothing, so server-side retries and forwarded retries apply
// a write once.
package spot
