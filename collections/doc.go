// Package collections owns Causeway's collections: the operation format, the
// CRDT reducer that materializes a stream of operations into current JSON
// documents, and compaction of that state once operations are causally
// stable. Its sub-packages build the rest around this core: query (the SQL
// subset, pure), store (the Pebble materialized view and indexes), service
// (op log and change-feed streams, the write path, restart, TTL, cursors,
// replication across regions and bootstrap from snapshots) and httpapi (the HTTP front end).
//
// The core is pure: an [Op] is a granular JSON document operation (insert,
// replace, delete, set/unset an attribute path, increment a number) carrying
// its dot (origin region, sequence), its causal context (a [Vector] of what the
// origin had delivered when it made the op), a hybrid logical timestamp used
// only to break ties, and an optional expiry. [Doc] is the replicated state of
// one document; [Doc.Apply] is the reducer. It does no I/O, reads no clock
// and logs nothing.
//
// # Contract with the replicator
//
// Apply relies on causal delivery: an op is applied only after every op its
// context covers has been applied to the same document (ops on other
// documents are irrelevant). Under that contract every replica that applied
// the same set of ops holds a byte-identical state, whatever the order. An op
// applied twice is detected (per-document applied vector) and ignored. After
// [Doc.Compact] dropped a document, the caller must ignore any op whose dot
// is covered by the stable vector it compacted with; [Vector.Covers] is that
// check.
//
// The merge rules are written down in RULES.md beside this file.
package collections
